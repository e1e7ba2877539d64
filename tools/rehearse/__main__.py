"""`python -m tools.rehearse` (`make rehearse`): a release synthesized from its manifest as the pipeline does.

Shows (a) the digest every Staging and Prod task definition pins, (b) what a next release changes,
(c) the image the security gate asks ECR about, (d) the commit the deployment record would carry.
Exit 0 when all four hold; 1 otherwise, and at once for a manifest the pipeline would refuse
(DEPLOY_CI_FAILED naming the field: a tag, a missing digest, the placeholder).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from cashtrace_constructs.errors import DeploymentError
from cashtrace_constructs.release_manifest import load
from lambdas.deployment_record.handler import release_of
from tools.rehearse.rehearsal import (
    EXPECTED_CHANGES,
    PIPELINE,
    STAGES,
    changes,
    deployment_descriptions,
    gate_command,
    head_commit,
    next_manifest,
    pins,
    rehearsal_manifest,
    run_gate,
    templates,
)
from tools.rehearse.synthesize import ROOT, synthesize_all


def rehearse(release_path: Path | None, next_path: Path | None, workdir: Path, out: TextIO | None = None) -> int:
    started = time.monotonic()
    out = out or sys.stdout
    generated = release_path is None
    release_path = release_path or rehearsal_manifest(workdir, head_commit(ROOT))
    try:
        release = load(release_path)
        next_path = next_path or next_manifest(release, workdir)
        following = load(next_path, root="next release")
    except DeploymentError as error:
        print(f"{error}\n  (refused before synthesis, as the pipeline's Synth step refuses it)", file=sys.stderr)
        return 1
    if following.digest == release.digest:
        print("the next release must name another image than the release", file=sys.stderr)
        return 1

    print("Release rehearsal: the app synthesized as the pipeline's Synth step does", file=out)
    print(f"  (make synth RELEASE={release_path}; cdk-nag, region lock and CashTrace rules on)", file=out)
    origin = "generated for HEAD, no image was built" if generated else str(release_path)
    print(f"  release  {release.image}", file=out)
    print(f"           commit {release.commit_sha}  built {release.built_at}  ({origin})", file=out)
    syntheses = synthesize_all([(release_path, workdir / "release.out"), (next_path, workdir / "next.out")])
    for synthesis in syntheses:
        if synthesis.error:
            print(f"synthesis from {synthesis.manifest} failed:\n{synthesis.error}", file=sys.stderr)
            return 1
    synth_seconds = max(s.seconds for s in syntheses)
    before, after = (templates(s.outdir) for s in syntheses)
    problems: list[str] = []

    print("(a) what each stage deploys", file=out)
    pinned = pins(before)
    for pin in pinned:
        print(f"  {pin.stage:<8} {pin.task:<24} {pin.image}", file=out)
        if pin.digest != release.digest:
            problems.append(f"{pin.stack} {pin.task} runs {pin.image}, not {release.digest}")
    problems += [
        f"no {stage} task definition runs the release image"
        for stage in STAGES
        if stage not in {p.stage for p in pinned}
    ]
    problems += [f"next release: {p.stack} runs {p.image}" for p in pins(after) if p.digest != following.digest]

    print(f"(b) what the next release ({following.digest[:19]}…) changes", file=out)
    diff = changes(before, after)
    for resource_type in sorted({c.resource_type for c in diff}):
        where = sorted({c.stack for c in diff if c.resource_type == resource_type})
        why = EXPECTED_CHANGES.get(resource_type, "NOT EXPECTED")
        print(f"  {resource_type:<28} in {len(where)} stack(s): {why}", file=out)
    stateful = [c for c in diff if c.stateful]
    print(
        f"  stateful resources changed: {', '.join(f'{c.stack}/{c.logical_id}' for c in stateful) or 'none'}", file=out
    )
    problems += [f"unexpected change {c.stack}/{c.logical_id} ({c.resource_type})" for c in diff if not c.expected]
    problems += [f"{c.stack}/{c.logical_id} holds state and would change" for c in stateful]

    print("(c) the security gate, run as the pipeline's SecurityGate step runs it", file=out)
    code, asked, printed = run_gate(gate_command(before[PIPELINE]), release_path)
    asked_image = f"{asked.get('repositoryName')}@{(asked.get('imageId') or {}).get('imageDigest')}"
    print(f"  asks ECR for the scan of {asked_image}; with a clean scan it exits {code}", file=out)
    if asked_image != release.image or code != 0:
        problems.append(f"the gate checked {asked_image} (exit {code}): {printed}")

    print("(d) the deployment record", file=out)
    from_source = release_of(release.revision_summary())
    print(f"  pipeline deployments: commitSha {from_source.get('commitSha')} (S3 source revision summary)", file=out)
    if from_source != {"commitSha": release.commit_sha, "imageDigest": release.digest}:
        problems.append(f"the record would read {from_source} from the revision summary")
    for stage, description in deployment_descriptions(before).items():
        rollout = release_of(description)
        print(
            f"  {stage} rollout: commitSha {rollout.get('commitSha')} (CodeDeploy description, via the hook)", file=out
        )
        if rollout != from_source:
            problems.append(f"{stage}'s CodeDeploy description names {rollout}")

    print(
        f"synthesized twice in parallel in {synth_seconds:.1f} s; rehearsal {time.monotonic() - started:.1f} s",
        file=out,
    )
    if problems:
        print("REHEARSAL FAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print(f"OK: staging and prod would ship {release.image} and only it.", file=out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.rehearse", description=__doc__.split("\n\n")[0])
    parser.add_argument("--release", type=Path, help="release.json (default: one generated for HEAD)")
    parser.add_argument("--next-release", type=Path, help="the release after it (default: derived from --release)")
    parser.add_argument("--workdir", type=Path, help="keep the manifests and both cloud assemblies here")
    args = parser.parse_args(argv)
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        return rehearse(args.release, args.next_release, args.workdir)
    with tempfile.TemporaryDirectory(prefix="cashtrace-rehearsal-") as workdir:
        return rehearse(args.release, args.next_release, Path(workdir))


if __name__ == "__main__":
    sys.exit(main())
