"""Writes the pull-request review comment: `cdk diff` of each stack against the base branch's synth,
and which template snapshots the change touches. Needs no AWS credentials (`cdk diff --template`)."""

from __future__ import annotations

import argparse
import json
import subprocess  # nosec B404 - fixed argv of our own tools, no shell
import sys
from pathlib import Path

# GitHub refuses comments over 65,536 characters; keep room for the headings.
MAX_DIFF_CHARS = 20_000
MARKER = "<!-- cashtrace-pr-review -->"


def stack_templates(outdir: Path) -> dict[str, Path]:
    """Stack name -> template file, from the cloud assembly manifest (nested stage assemblies too)."""
    manifest_path = outdir / "manifest.json"
    if not manifest_path.exists():
        return {}
    found: dict[str, Path] = {}
    for artifact_id, artifact in json.loads(manifest_path.read_text()).get("artifacts", {}).items():
        properties = artifact.get("properties", {})
        if artifact.get("type") == "aws:cloudformation:stack" and (outdir / properties["templateFile"]).exists():
            found[properties.get("stackName", artifact_id)] = outdir / properties["templateFile"]
        elif artifact.get("type") == "cdk:cloud-assembly":
            found.update(stack_templates(outdir / properties["directoryName"]))
    return found


def cdk_diff(head_out: Path, stack: str, base_template: Path | None) -> str:
    if base_template is None:
        return "New stack: no template on the base branch."
    result = subprocess.run(  # noqa: S603  # nosec B603
        ["cdk", "diff", "--app", str(head_out), "--template", str(base_template), stack, "--no-color"],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return (result.stdout + result.stderr).strip()


def snapshot_changes(base_sha: str) -> str:
    result = subprocess.run(  # noqa: S603  # nosec B603
        ["git", "diff", "--stat", f"{base_sha}...HEAD", "--", "tests/stacks/__snapshots__"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "No snapshot changed."


def render(diffs: dict[str, str], removed: list[str], snapshots: str) -> str:
    lines = [MARKER, "## Infrastructure review", ""]
    for stack, diff in sorted(diffs.items()):
        changed = "There were no differences" not in diff
        lines += [
            f"<details{' open' if changed else ''}><summary><b>{stack}</b>: "
            f"{'changes' if changed else 'no change'}</summary>",
            "",
            "```",
            _clip(diff),
            "```",
            "</details>",
            "",
        ]
    for stack in removed:
        lines += [f"**{stack}**: removed by this pull request.", ""]
    lines += ["### Template snapshots", "", "```", snapshots, "```", ""]
    return "\n".join(lines)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_DIFF_CHARS else text[:MAX_DIFF_CHARS] + "\n... (cut; see the job log)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-out", type=Path, required=True)
    parser.add_argument("--head-out", type=Path, required=True)
    parser.add_argument("--base-sha", required=True)
    args = parser.parse_args(argv)
    base, head = stack_templates(args.base_out), stack_templates(args.head_out)
    diffs = {stack: cdk_diff(args.head_out, stack, base.get(stack)) for stack in head}
    sys.stdout.write(render(diffs, sorted(set(base) - set(head)), snapshot_changes(args.base_sha)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
