"""The pull-request review comment: stateful replacements first, changes by type, diagrams, per-stack diffs."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from scripts.pr_review import MARKER, MAX_DIFF_CHARS, cdk_diff, diagrams, render, resource_changes, stack_templates
from tests.tools.evidence.assemblies import write_assembly
from tools.evidence.changes import compare, counts_by_type, data_loss_risks


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


# ---- resource changes and the stateful-replacement warning, on a synthetic diff ----

DB_PATH = "Database/Instance/Resource"


def _base_template() -> dict[str, Any]:
    return {
        "Resources": {
            "Subnets": {"Type": "AWS::RDS::DBSubnetGroup", "Properties": {"SubnetIds": ["subnet-1", "subnet-2"]}},
            "Db": {
                "Type": "AWS::RDS::DBInstance",
                "Properties": {
                    "DBName": "cashtrace",
                    "DBSubnetGroupName": {"Ref": "Subnets"},
                    "BackupRetentionPeriod": 7,
                },
                "DeletionPolicy": "Snapshot",
                "UpdateReplacePolicy": "Snapshot",
            },
            "Logs": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain"},
            "Uploads": {"Type": "AWS::S3::Bucket", "UpdateReplacePolicy": "Retain"},
            "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Threshold": 1}},
        }
    }


BASE_PATHS = {
    "Subnets": "Database/Subnets",
    "Db": DB_PATH,
    "Logs": "Logs/Resource",
    "Uploads": "Storage/Bucket/Resource",
    "Alarm": "Alarm/Resource",
}


def test_a_create_only_change_and_a_renamed_construct_replace_stores_and_are_warned_about_first(
    tmp_path: Path,
) -> None:
    head = copy.deepcopy(_base_template())
    resources = head["Resources"]
    resources["Db"]["Properties"]["DBName"] = "cashtrace_v2"  # create-only: a new, empty database
    resources["Db"]["Properties"]["BackupRetentionPeriod"] = 14
    resources["UploadsRenamed"] = resources.pop("Uploads")  # same construct, new logical id
    del resources["Logs"]
    resources["Exports"] = {"Type": "AWS::S3::Bucket"}
    resources["Alarm"]["Properties"]["Threshold"] = 2
    head_paths = {**BASE_PATHS, "UploadsRenamed": "Storage/Bucket/Resource", "Exports": "Exports/Resource"}
    write_assembly(tmp_path / "base", {"CashTrace-Prod": (_base_template(), BASE_PATHS)})
    write_assembly(tmp_path / "head", {"CashTrace-Prod": (head, head_paths)})

    changes = resource_changes(tmp_path / "base", tmp_path / "head")
    by_id = {change.logical_id: change for change in changes["CashTrace-Prod"]}
    assert by_id["Db"].action == "replaced" and by_id["Db"].reason == "DBName changes (create-only)"
    assert by_id["UploadsRenamed"].action == "replaced" and "from Uploads" in by_id["UploadsRenamed"].reason
    assert by_id["Logs"].action == "removed" and by_id["Alarm"].action == "modified"
    counts = counts_by_type(changes["CashTrace-Prod"])
    assert counts["AWS::S3::Bucket"] == {"added": 1, "removed": 0, "replaced": 1, "modified": 0}

    pictures = diagrams(tmp_path / "head", ["CashTrace-Prod"])
    body = render({"CashTrace-Prod": "[~] AWS::RDS::DBInstance ..."}, [], "", changes=changes, pictures=pictures)
    warning = body.index("[!CAUTION]")
    assert (
        body.index("## Infrastructure review") < warning < body.index("### Resources by type") < body.index("```\n[~]")
    )
    assert "**CashTrace-Prod** `Database/Instance` (AWS::RDS::DBInstance) **replaced**: DBName changes" in body
    assert "old resource: Snapshot" in body and "`Logs` (AWS::Logs::LogGroup) **removed**" in body
    assert (
        "`Storage/Bucket` (AWS::S3::Bucket) **replaced**: logical id changes from Uploads; old resource: Retain" in body
    )
    assert "| CashTrace-Prod | AWS::S3::Bucket | 1 | 0 | 1 | 0 |" in body
    assert "```mermaid" in body and "3 stateful resource(s)" in body


def test_replacing_a_resource_named_by_a_create_only_property_replaces_the_store_too(tmp_path: Path) -> None:
    head = copy.deepcopy(_base_template())
    head["Resources"]["Subnets"]["Properties"]["DBSubnetGroupName"] = "renamed"
    (db,) = [c for c in compare(_base_template(), head, head_paths=BASE_PATHS) if c.logical_id == "Db"]
    assert db.action == "replaced" and db.reason == "DBSubnetGroupName names Subnets, which is replaced"
    assert [c.path for c in data_loss_risks(compare(_base_template(), head))] == ["Db"]


def test_a_change_that_only_modifies_stores_raises_no_warning(tmp_path: Path) -> None:
    head = copy.deepcopy(_base_template())
    head["Resources"]["Db"]["Properties"]["BackupRetentionPeriod"] = 35
    changes = {"CashTrace-Prod": compare(_base_template(), head)}
    assert [c.action for c in changes["CashTrace-Prod"]] == ["modified"]
    body = render({}, [], "", changes=changes)
    assert "[!CAUTION]" not in body and "No store (database" in body
