"""The real app: which stacks it writes, and that every synth-time check is green."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk.cx_api import CloudAssembly

from cashtrace_constructs.checks import default_rules
from cashtrace_constructs.checks.template import of_type
from tests.conftest import ENVIRONMENT_STACKS
from tests.synth import unacknowledged
from tools.checks_summary import summarize


def test_every_environment_has_a_stack_pinned_to_its_account_and_cape_town(cloud_assembly: CloudAssembly) -> None:
    stacks = {stack.stack_name: stack for stack in cloud_assembly.stacks}
    assert set(ENVIRONMENT_STACKS) <= set(stacks)
    accounts = {stacks[name].environment.account for name in ENVIRONMENT_STACKS}
    assert len(accounts) == 3, "each environment deploys into its own account"
    assert {stacks[name].environment.region for name in ENVIRONMENT_STACKS} == {"af-south-1"}


def test_prod_is_termination_protected(cloud_assembly: CloudAssembly) -> None:
    stacks = {stack.stack_name: stack for stack in cloud_assembly.stacks}
    assert stacks["CashTrace-Prod"].termination_protection is True
    assert stacks["CashTrace-Dev"].termination_protection is False


def test_validation_report_has_no_unacknowledged_finding(app_validation_report: dict[str, Any]) -> None:
    assert unacknowledged(app_validation_report) == []


def test_every_registered_check_ran_over_every_template_and_passed(
    cloud_assembly: CloudAssembly, app_outdir: Path
) -> None:
    # CDK leaves a passing plugin out of validation-report.json; each audited plugin records its run
    # and RegionLock marks every stack, so deleting one from stacks/app.py fails here.
    summary = summarize(app_outdir)
    assert {run.plugin for run in summary.runs} == {"AwsSolutions", "PCI.DSS.321", "NIST.800.53.R5", "CashTraceChecks"}
    templates = len(list(app_outdir.rglob("*.template.json")))
    assert templates == summary.templates == 6
    assert all(len(run.templates) == templates and run.passed for run in summary.runs)
    (ours,) = [run for run in summary.runs if run.plugin == "CashTraceChecks"]
    assert ours.rules == len(default_rules())
    assert set(summary.region_locks) == {stack.hierarchical_id for stack in cloud_assembly.stacks_recursively}
    assert summary.unlocked == [] and summary.passed


def test_vpc_spans_three_azs_with_private_and_isolated_subnets(templates: dict[str, dict[str, Any]]) -> None:
    for name in ENVIRONMENT_STACKS:
        subnets = [r["Properties"] for _, r in of_type(templates[name], "AWS::EC2::Subnet")]
        assert {s["AvailabilityZone"] for s in subnets} == {"af-south-1a", "af-south-1b", "af-south-1c"}
        assert not any(s.get("MapPublicIpOnLaunch") for s in subnets)
        assert len(subnets) == 9


def test_one_nat_gateway_outside_prod_and_one_per_az_in_prod(templates: dict[str, dict[str, Any]]) -> None:
    counts = {name: len(list(of_type(templates[name], "AWS::EC2::NatGateway"))) for name in ENVIRONMENT_STACKS}
    assert counts == {"CashTrace-Dev": 1, "CashTrace-Staging": 1, "CashTrace-Prod": 3}


def test_flow_logs_go_to_an_encrypted_log_group_kept_a_year(templates: dict[str, dict[str, Any]]) -> None:
    for name in ENVIRONMENT_STACKS:
        template = templates[name]
        flow_logs = [r["Properties"] for _, r in of_type(template, "AWS::EC2::FlowLog")]
        assert len(flow_logs) == 1 and flow_logs[0]["TrafficType"] == "ALL"
        group_id = flow_logs[0]["LogGroupName"]["Ref"]
        group = template["Resources"][group_id]["Properties"]
        assert group["RetentionInDays"] >= 365
        assert "KmsKeyId" in group


def test_vpc_endpoints_keep_task_traffic_off_the_nat(templates: dict[str, dict[str, Any]]) -> None:
    for name in ENVIRONMENT_STACKS:
        services = {str(r["Properties"]["ServiceName"]) for _, r in of_type(templates[name], "AWS::EC2::VPCEndpoint")}
        for service in ("ecr.api", "ecr.dkr", "secretsmanager", "logs", ".s3"):
            assert any(service in s for s in services), f"{name} lacks a {service} endpoint: {services}"


def test_environment_key_is_single_region_and_rotated(templates: dict[str, dict[str, Any]]) -> None:
    for name in ENVIRONMENT_STACKS:
        keys = [r["Properties"] for _, r in of_type(templates[name], "AWS::KMS::Key")]
        assert keys and all(k["EnableKeyRotation"] and not k.get("MultiRegion") for k in keys)


def test_every_stack_carries_cost_allocation_tags(cloud_assembly: CloudAssembly) -> None:
    for stack in cloud_assembly.stacks:
        assert {"environment", "service", "owner"} <= set(stack.tags), stack.stack_name
