"""The issue's "Done when" cases: each mis-configuration makes in-process synthesis fail, naming
the property and the resource."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import CfnResource

from tests.checks.data_layer_app import data_layer_app

pytestmark = pytest.mark.synth


def test_the_small_data_layer_app_synthesizes_cleanly(tmp_path: Path) -> None:
    # The baseline the three failures below start from: without it they would prove nothing.
    layer = data_layer_app(tmp_path)
    assembly = layer.app.synth()
    assert assembly.get_stack_by_name("DataLayer").template["Resources"]


def test_one_day_backup_retention_fails_synth_with_property_8(tmp_path: Path) -> None:
    layer = data_layer_app(tmp_path)
    instance = layer.database.instance.node.default_child
    assert isinstance(instance, CfnResource)
    instance.add_property_override("BackupRetentionPeriod", 1)
    database_id = layer.stack.get_logical_id(instance)
    findings = layer.failed_synth_findings()
    assert any("Property 8 (backup verification)" in f and database_id in f and "1 day(s)" in f for f in findings), (
        findings
    )


def test_removing_the_restore_testing_plan_fails_synth_with_property_8(tmp_path: Path) -> None:
    layer = data_layer_app(tmp_path)
    assert layer.backups.node.try_remove_child("RestoreTestingSelection")
    assert layer.backups.node.try_remove_child("RestoreTestingPlan")
    instance = layer.database.instance.node.default_child
    assert isinstance(instance, CfnResource)
    database_id = layer.stack.get_logical_id(instance)
    findings = layer.failed_synth_findings()
    assert any(
        "Property 8 (backup verification)" in f and database_id in f and "no restore test" in f for f in findings
    ), findings


def test_a_backup_copy_action_to_eu_west_1_fails_synth_with_property_7(tmp_path: Path) -> None:
    layer = data_layer_app(tmp_path)
    plan = layer.backups.plan.node.default_child
    assert isinstance(plan, CfnResource)
    plan.add_property_override(
        "BackupPlan.BackupPlanRule.0.CopyActions",
        [{"DestinationBackupVaultArn": "arn:aws:backup:eu-west-1:123456789012:backup-vault:offsite"}],
    )
    plan_id = layer.stack.get_logical_id(plan)
    findings = layer.failed_synth_findings()
    plan_findings = [f for f in findings if plan_id in f]
    # Three independent gates: the region lock aspect, the generic residency rule, the data-store rule.
    assert any("DEPLOY_RESIDENCY_VIOLATION" in f and "eu-west-1" in f and "Property 7" in f for f in plan_findings)
    assert any("CT-P7-DataStoreResidency" in f and "not a vault of this stack" in f for f in plan_findings), findings
