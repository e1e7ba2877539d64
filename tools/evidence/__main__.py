"""`python -m tools.evidence --env prod` (`make evidence ENV=prod`): the evidence report of each environment.

Reads cdk.out when it is newer than the app's sources, synthesizes it once otherwise, and writes
`cdk.out/evidence/<env>.md` (people), `<env>.json` (machines) and `<env>.junit.xml` (the pipeline's
CodeBuild report). Exit 1 when any environment's conclusion is "failed".
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tools.evidence.assembly import ROOT, load
from tools.evidence.diagram import mermaid
from tools.evidence.junit import junit
from tools.evidence.markdown import render
from tools.evidence.report import build

DEFAULT_ENVIRONMENTS = ("dev", "staging", "prod")


def write(outdir: Path, environments: Sequence[str], *, synth: bool | None = None) -> dict[str, str]:
    """Writes the reports; environment -> conclusion."""
    assembly = load(outdir, synth=synth)
    target = outdir / "evidence"
    target.mkdir(parents=True, exist_ok=True)
    conclusions = {}
    for environment in environments:
        report = build(assembly, environment, root=ROOT)
        stack = assembly.stack_for(environment)
        (target / f"{environment}.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
        (target / f"{environment}.md").write_text(render(report, diagram=mermaid(stack)))
        (target / f"{environment}.junit.xml").write_text(junit(report))
        conclusions[environment] = str(report["conclusion"])
    return conclusions


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", action="append", dest="environments", help="repeatable; default: every environment")
    parser.add_argument("--out", type=Path, default=ROOT / "cdk.out", help="the cloud assembly (default cdk.out)")
    fresh = parser.add_mutually_exclusive_group()
    fresh.add_argument("--synth", action="store_true", default=None, help="synthesize even when cdk.out is fresh")
    fresh.add_argument("--no-synth", dest="synth", action="store_false", help="read cdk.out as it is")
    args = parser.parse_args(argv)
    environments = [name for value in args.environments or DEFAULT_ENVIRONMENTS for name in value.split()]
    started = time.monotonic()
    conclusions = write(args.out, environments, synth=args.synth)
    for environment, conclusion in conclusions.items():
        print(f"{args.out / 'evidence' / environment}.md (.json, .junit.xml): {conclusion}")
    print(f"evidence written in {time.monotonic() - started:.1f} s")
    return 0 if all(conclusion == "passed" for conclusion in conclusions.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
