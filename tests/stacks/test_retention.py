"""Nothing stateful is deleted with a staging or prod stack, unless `retention.DELETABLE_WITH_STACK` says why."""

from __future__ import annotations

from typing import Any
from unittest.mock import ANY

import pytest
from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from cashtrace_constructs.retention import (
    DELETABLE_WITH_STACK,
    STATEFUL_TYPES,
    deleted_with_stack,
    retain_stateful_resources,
)
from tests.synth import make_app, stack_in_region

KEPT = ("CashTrace-Staging", "CashTrace-Prod", "CashTrace-Pipeline")


def _kept_stacks(templates: dict[str, dict[str, Any]]) -> list[str]:
    """Staging and prod, top-level and as the pipeline deploys them, and the pipeline itself."""
    names = [name for name in templates if name in KEPT or name.split("/")[1:2] in (["Staging"], ["Prod"])]
    assert len(names) == 5, names
    return names


def test_no_stateful_resource_of_staging_prod_or_the_pipeline_is_deleted_without_a_reason(
    templates: dict[str, dict[str, Any]],
) -> None:
    reasons = set(DELETABLE_WITH_STACK.values())
    for name in _kept_stacks(templates):
        offenders = [
            (logical_id, kind)
            for logical_id, kind, reason in deleted_with_stack(templates[name])
            if reason not in reasons
        ]
        assert offenders == [], f"{name} deletes stateful resources with the stack: {offenders}"


def test_every_documented_reason_is_used(templates: dict[str, dict[str, Any]]) -> None:
    used = {reason for name in _kept_stacks(templates) for _, _, reason in deleted_with_stack(templates[name])}
    for path, reason in DELETABLE_WITH_STACK.items():
        assert reason.strip() and reason in used, f"{path}: a reason no resource of staging or prod carries"


def test_log_groups_of_kept_stacks_refuse_deletion(templates: dict[str, dict[str, Any]]) -> None:
    for name in _kept_stacks(templates):
        groups = [r for r in templates[name]["Resources"].values() if r["Type"] == "AWS::Logs::LogGroup"]
        assert groups and all(r["Properties"].get("DeletionProtectionEnabled") is True for r in groups), name


def test_dev_opts_out_through_its_config_value_not_its_name(templates: dict[str, dict[str, Any]]) -> None:
    # retain_on_delete=False in stacks/environments.py: dev's secrets and queues may go with it.
    deleted = {kind for _, kind, _ in deleted_with_stack(templates["CashTrace-Dev"])}
    assert {"AWS::SecretsManager::Secret", "AWS::SQS::Queue"} <= deleted


def _small(retain: bool) -> dict[str, Any]:
    app = make_app()
    stack: Stack = stack_in_region(app)
    sqs.Queue(stack, "DeadLetters", removal_policy=RemovalPolicy.DESTROY)
    logs.LogGroup(stack, "Logs", removal_policy=RemovalPolicy.DESTROY)
    logs.LogGroup(stack, "Kept", removal_policy=RemovalPolicy.RETAIN)
    retain_stateful_resources(stack, retain=retain)
    return Template.from_stack(stack).to_json()


def test_the_pass_keeps_what_was_deleted_and_protects_log_groups() -> None:
    template = _small(retain=True)
    assert list(deleted_with_stack(template)) == []
    groups = [r for r in template["Resources"].values() if r["Type"] == "AWS::Logs::LogGroup"]
    assert all(g["Properties"]["DeletionProtectionEnabled"] is True for g in groups)


def test_without_the_config_value_nothing_changes() -> None:
    assert {kind for _, kind, _ in deleted_with_stack(_small(retain=False))} == {
        "AWS::SQS::Queue",
        "AWS::Logs::LogGroup",
    }


def test_a_documented_reason_lets_one_resource_go(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "cashtrace_constructs.retention.DELETABLE_WITH_STACK", {"DeadLetters/Resource": "test: synthetic events only"}
    )
    # The reason travels with the resource into its template.
    assert list(deleted_with_stack(_small(retain=True))) == [(ANY, "AWS::SQS::Queue", "test: synthetic events only")]


@pytest.mark.parametrize("kind", ["AWS::SecretsManager::Secret", "AWS::SQS::Queue", "AWS::KMS::Key", "AWS::S3::Bucket"])
def test_a_resource_without_a_policy_counts_as_deleted(kind: str) -> None:
    assert kind in STATEFUL_TYPES
    template = {"Resources": {"X": {"Type": kind, "Properties": {}}}}
    assert [entry[1] for entry in deleted_with_stack(template)] == [kind]
