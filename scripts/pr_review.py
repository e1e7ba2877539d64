"""Writes the pull-request review comment: stores the change replaces or removes (first), resources
added/removed/replaced/modified by type, the architecture diagram of each changed environment, the
`cdk diff` of each stack against the base branch's synth, and which template snapshots the change
touches. Needs no AWS credentials (`cdk diff --template`). Run as `python -m scripts.pr_review`."""

from __future__ import annotations

import argparse
import json
import subprocess  # nosec B404 - fixed argv of our own tools, no shell
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from tools.evidence.assembly import Assembly, Stack
from tools.evidence.changes import ADDED, MODIFIED, REMOVED, REPLACED, Change, compare, counts_by_type, data_loss_risks
from tools.evidence.diagram import mermaid

# GitHub refuses comments over 65,536 characters; keep room for the headings.
MAX_DIFF_CHARS = 20_000
MAX_BODY_CHARS = 60_000
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


def _top_level(outdir: Path) -> dict[str, Stack]:
    if not (outdir / "manifest.json").exists():
        return {}
    # The pipeline's staged copies are built from the same code as the top-level stacks.
    return {stack.hierarchical_id: stack for stack in Assembly.load(outdir).stacks if "/" not in stack.hierarchical_id}


def _paths(stack: Stack | None) -> dict[str, str]:
    return {logical_id: stack.name_of(logical_id) for logical_id in stack.paths} if stack else {}


def resource_changes(base_out: Path, head_out: Path) -> dict[str, list[Change]]:
    """Top-level stack -> what the head does to its resources, compared with the base."""
    base, head = _top_level(base_out), _top_level(head_out)
    return {
        name: compare(
            base[name].template if name in base else None,
            head[name].template if name in head else None,
            base_paths=_paths(base.get(name)),
            head_paths=_paths(head.get(name)),
            region=(head.get(name) or base[name]).region,
        )
        for name in sorted(set(base) | set(head))
    }


def diagrams(head_out: Path, changed: Sequence[str]) -> dict[str, str]:
    """The head's diagram of each changed environment stack."""
    head = _top_level(head_out)
    return {
        name: mermaid(head[name])
        for name in changed
        if name in head and head[name].environment not in ("pipeline",) and head[name].resources
    }


def _risk_lines(changes: Mapping[str, list[Change]]) -> list[str]:
    risks = [(stack, change) for stack, items in changes.items() for change in data_loss_risks(items)]
    if not risks:
        return [
            "No store (database, cache, bucket, secret, table, file system, log group, vault, key) is "
            "replaced or removed.",
            "",
        ]
    lines = [
        "> [!CAUTION]",
        f"> **{len(risks)} stateful resource(s) replaced or removed.** A replacement is a new, empty resource; "
        "the old one and its data are kept or deleted as its policy says:",
    ]
    for stack, change in risks:
        why = f": {change.reason}" if change.reason else ""
        lines.append(
            f"> - **{stack}** `{change.path}` ({change.resource_type}) **{change.action}**{why}; "
            f"old resource: {change.old_resource}"
        )
    return [*lines, ""]


def _count_lines(changes: Mapping[str, list[Change]]) -> list[str]:
    rows = [
        f"| {stack} | {kind} | {n[ADDED]} | {n[REMOVED]} | {n[REPLACED]} | {n[MODIFIED]} |"
        for stack, items in changes.items()
        for kind, n in counts_by_type(items).items()
    ]
    if not rows:
        return ["No resource changes.", ""]
    header = ["| Stack | Type | Added | Removed | Replaced | Modified |", "|---|---|---|---|---|---|"]
    return ["### Resources by type", "", *header, *rows, ""]


def render(
    diffs: dict[str, str],
    removed: list[str],
    snapshots: str,
    *,
    changes: Mapping[str, list[Change]] | None = None,
    pictures: Mapping[str, str] | None = None,
) -> str:
    lines = [MARKER, "## Infrastructure review", ""]
    if changes is not None:
        lines += _risk_lines(changes) + _count_lines(changes)
    for stack, picture in sorted((pictures or {}).items()):
        lines += [
            f"<details><summary><b>{stack}</b>: architecture after this change</summary>",
            "",
            picture,
            "",
            "</details>",
            "",
        ]
    budget = MAX_BODY_CHARS - len("\n".join(lines)) - 2_000
    clip = max(1_000, min(MAX_DIFF_CHARS, budget // max(1, len(diffs))))
    for stack, diff in sorted(diffs.items()):
        changed = "There were no differences" not in diff
        lines += [
            f"<details{' open' if changed else ''}><summary><b>{stack}</b>: "
            f"{'changes' if changed else 'no change'}</summary>",
            "",
            "```",
            _clip(diff, clip),
            "```",
            "</details>",
            "",
        ]
    for stack in removed:
        lines += [f"**{stack}**: removed by this pull request.", ""]
    lines += ["### Template snapshots", "", "```", snapshots, "```", ""]
    return "\n".join(lines)


def _clip(text: str, limit: int = MAX_DIFF_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + "\n... (cut; see the job log)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-out", type=Path, required=True)
    parser.add_argument("--head-out", type=Path, required=True)
    parser.add_argument("--base-sha", required=True)
    args = parser.parse_args(argv)
    base, head = stack_templates(args.base_out), stack_templates(args.head_out)
    diffs = {stack: cdk_diff(args.head_out, stack, base.get(stack)) for stack in head}
    changes = resource_changes(args.base_out, args.head_out)
    pictures = diagrams(args.head_out, [stack for stack, items in changes.items() if items])
    body = render(
        diffs, sorted(set(base) - set(head)), snapshot_changes(args.base_sha), changes=changes, pictures=pictures
    )
    sys.stdout.write(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
