"""The pull-request review comment: which stacks changed, which were added or removed."""

from __future__ import annotations

import json
from pathlib import Path

from scripts.pr_review import MARKER, MAX_DIFF_CHARS, cdk_diff, render, stack_templates


def _assembly(outdir: Path, stacks: list[str], nested: tuple[str, ...] = ()) -> Path:
    outdir.mkdir(parents=True)
    artifacts: dict[str, object] = {}
    for name in stacks:
        (outdir / f"{name}.template.json").write_text("{}")
        artifacts[name] = {"type": "aws:cloudformation:stack", "properties": {"templateFile": f"{name}.template.json"}}
    if nested:
        _assembly(outdir / "assembly-Stage", list(nested))
        artifacts["Stage"] = {"type": "cdk:cloud-assembly", "properties": {"directoryName": "assembly-Stage"}}
    (outdir / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))
    return outdir


def test_stack_templates_include_nested_stage_assemblies(tmp_path: Path) -> None:
    out = _assembly(tmp_path / "cdk.out", ["CashTrace-Dev"], nested=("Pipeline-Prod",))
    assert set(stack_templates(out)) == {"CashTrace-Dev", "Pipeline-Prod"}
    assert stack_templates(tmp_path / "missing") == {}


def test_a_stack_without_a_base_template_is_reported_as_new(tmp_path: Path) -> None:
    assert cdk_diff(tmp_path, "CashTrace-Dev", None).startswith("New stack")


def test_render_opens_changed_stacks_lists_removed_ones_and_clips_long_diffs() -> None:
    body = render(
        {"A": "There were no differences", "B": "[+] AWS::S3::Bucket Data\n" + "x" * (MAX_DIFF_CHARS + 10)},
        removed=["Old"],
        snapshots=" tests/stacks/__snapshots__/x.json | 4 ++--",
    )
    assert body.startswith(MARKER)
    assert "<details><summary><b>A</b>: no change" in body
    assert "<details open><summary><b>B</b>: changes" in body
    assert "(cut; see the job log)" in body and len(body) < MAX_DIFF_CHARS + 2000
    assert "**Old**: removed" in body and "x.json | 4" in body
