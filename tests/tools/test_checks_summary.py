"""`make synth`'s summary: only runs over this synthesis's templates count, and every stack must be region-locked."""

from __future__ import annotations

import json
from pathlib import Path

from cashtrace_constructs.checks.ran import REGION_LOCK_METADATA, PluginRun, fingerprint, record_run
from tools.checks_summary import summarize
from tools.checks_summary.__main__ import main


def _assembly(root: Path, *, locked: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    template = root / "S.template.json"
    template.write_text(json.dumps({"Resources": {}}))
    metadata = {"/S": [{"type": REGION_LOCK_METADATA, "data": ["af-south-1"]}]} if locked else {}
    (root / "S.metadata.json").write_text(json.dumps(metadata))
    manifest = {
        "artifacts": {
            "S": {
                "type": "aws:cloudformation:stack",
                "displayName": "S",
                "properties": {"templateFile": "S.template.json"},
                "additionalMetadataFile": "S.metadata.json",
            }
        }
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    return template


def _run(template: Path, *, unsuppressed: int = 0) -> PluginRun:
    return PluginRun("CashTraceChecks", "1", 15, {template.name: fingerprint(template)}, 3, unsuppressed, 3)


def test_a_current_green_run_and_locked_stacks_pass(tmp_path: Path) -> None:
    template = _assembly(tmp_path)
    record_run(_run(template), tmp_path)
    summary = summarize(tmp_path)
    assert summary.passed and [run.plugin for run in summary.runs] == ["CashTraceChecks"]
    assert main([str(tmp_path)]) == 0


def test_a_record_of_an_earlier_synthesis_does_not_count(tmp_path: Path) -> None:
    template = _assembly(tmp_path)
    record_run(_run(template), tmp_path)
    template.write_text(json.dumps({"Resources": {"New": {"Type": "AWS::SNS::Topic"}}}))
    summary = summarize(tmp_path)
    assert summary.runs == () and not summary.passed
    assert any("no validation plugin" in line for line in summary.lines())


def test_a_stack_the_region_lock_never_saw_fails(tmp_path: Path) -> None:
    record_run(_run(_assembly(tmp_path, locked=False)), tmp_path)
    summary = summarize(tmp_path)
    assert summary.unlocked == ["S"] and not summary.passed
    assert main([str(tmp_path)]) == 1


def test_unacknowledged_findings_make_a_run_fail(tmp_path: Path) -> None:
    record_run(_run(_assembly(tmp_path), unsuppressed=2), tmp_path)
    summary = summarize(tmp_path)
    assert not summary.passed and any("2 not acknowledged: FAILED" in line for line in summary.lines())
