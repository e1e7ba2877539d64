"""`python -m tools.rehearse.synthesize RELEASE_JSON OUTDIR`: the app as the pipeline's Synth step builds it.

The pipeline runs `make synth RELEASE=release.json` (`cdk synth -c release=release.json`); this is the
same app, context and checks (cdk-nag, the region lock, our rules), in-process, with CDK's built-in
CloudFormation validation off: it is not what a rehearsal proves, and it costs most of a synth.
"""

from __future__ import annotations

import subprocess  # nosec B404 - this interpreter, this package's module
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Synthesis:
    manifest: Path
    outdir: Path
    seconds: float
    error: str = ""


def synthesize(manifest: Path, outdir: Path) -> None:
    from stacks.app import build_app, new_app

    app = new_app(outdir=str(outdir), context={"release": str(manifest)}, builtin_cloud_formation_validation=False)
    build_app(app)
    app.synth()


def synthesize_all(jobs: Sequence[tuple[Path, Path]]) -> list[Synthesis]:
    """Each (manifest, outdir) in a process of its own, all at once: two synths take little more than one."""
    started = time.monotonic()
    processes = [
        subprocess.Popen(  # noqa: S603  # nosec B603 - this interpreter and this module
            [sys.executable, "-m", "tools.rehearse.synthesize", str(manifest), str(outdir)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for manifest, outdir in jobs
    ]
    results = []
    for (manifest, outdir), process in zip(jobs, processes, strict=True):
        _, errors = process.communicate()
        error = "" if process.returncode == 0 else _last_error(errors)
        results.append(Synthesis(manifest, outdir, round(time.monotonic() - started, 1), error))
    return results


def _last_error(errors: str) -> str:
    # jsii prints Node warnings first; the refusal (DEPLOY_*, ValidationFailed) is what matters.
    lines = [line for line in errors.splitlines() if line.strip() and not line.startswith("b'")]
    for line in reversed(lines):
        if "DEPLOY_" in line or "Validation" in line:
            return line.strip()
    return "\n".join(lines[-5:])


def main(argv: Sequence[str] | None = None) -> int:
    manifest, outdir = (Path(arg) for arg in (argv or sys.argv[1:]))
    try:
        synthesize(manifest, outdir)
    except Exception as error:  # the parent prints it; a traceback would bury the DEPLOY_* line
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
