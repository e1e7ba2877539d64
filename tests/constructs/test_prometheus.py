"""The Prometheus workspace and collector stay in the residency region."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Aspects

from cashtrace_constructs.checks.template import of_type
from cashtrace_constructs.config import MonitoringConfig
from cashtrace_constructs.encryption import EnvironmentKey, EnvironmentKeyProps
from cashtrace_constructs.prometheus import (
    COLLECTOR_IMAGE,
    PrometheusWorkspace,
    PrometheusWorkspaceProps,
    collector_config,
)
from cashtrace_constructs.region_lock import RegionLock
from cashtrace_constructs.residency import template_leaks
from tests.conftest import ENVIRONMENT_STACKS
from tests.synth import make_app, stack_in_region, validation_report


def test_collector_config_scrapes_the_configured_endpoint() -> None:
    config = MonitoringConfig(metrics_port=9100, metrics_path="/internal/metrics", scrape_interval_seconds=15)
    document = json.loads(
        collector_config(
            region="af-south-1",
            remote_write_url="https://aps/ws/api/v1/remote_write",
            config=config,
            job="api",
            environment="dev",
        )
    )
    scrape = document["receivers"]["prometheus"]["config"]
    assert scrape["scrape_configs"][0]["static_configs"] == [{"targets": ["localhost:9100"]}]
    assert scrape["scrape_configs"][0]["metrics_path"] == "/internal/metrics"
    assert scrape["global"]["scrape_interval"] == "15s"
    assert scrape["global"]["external_labels"] == {"environment": "dev"}
    assert document["extensions"]["sigv4auth"] == {"region": "af-south-1", "service": "aps"}
    assert document["service"]["pipelines"]["metrics"]["exporters"] == ["prometheusremotewrite"]


def test_a_collector_writing_to_another_region_is_a_residency_leak() -> None:
    text = collector_config(
        region="eu-west-1",
        remote_write_url="https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write",
        config=MonitoringConfig(),
        job="api",
        environment="prod",
    )
    template = {"Resources": {"Config": {"Type": "AWS::SSM::Parameter", "Properties": {"Value": text}}}}
    assert template_leaks(template, ["af-south-1"])
    local = text.replace("eu-west-1", "af-south-1")
    assert (
        template_leaks(
            {"Resources": {"Config": {"Type": "AWS::SSM::Parameter", "Properties": {"Value": local}}}}, ["af-south-1"]
        )
        == []
    )


@pytest.mark.synth
def test_region_lock_refuses_a_workspace_outside_cape_town(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    stack = stack_in_region(app, "Ireland", region="eu-west-1")
    key = EnvironmentKey(stack, "Key", props=EnvironmentKeyProps(environment_name="dev")).key
    PrometheusWorkspace(stack, "Prometheus", props=PrometheusWorkspaceProps(environment_name="dev", encryption_key=key))
    Aspects.of(app).add(RegionLock())
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.dumps(validation_report(tmp_path))
    assert "DEPLOY_RESIDENCY_VIOLATION" in report and "eu-west-1" in report


@pytest.mark.parametrize("stack_name", ENVIRONMENT_STACKS)
def test_the_api_collector_sidecar_scrapes_localhost_and_writes_to_this_workspace_only(
    stack_name: str, templates: dict[str, dict[str, Any]]
) -> None:
    template, config = templates[stack_name], MonitoringConfig()
    [(_, task)] = [
        (i, r["Properties"]) for i, r in of_type(template, "AWS::ECS::TaskDefinition") if i.startswith("Api")
    ]
    names = [c["Name"] for c in task["ContainerDefinitions"]]
    assert names == ["api", "PrometheusCollector"], "the app container first, the sidecar beside it"
    collector = task["ContainerDefinitions"][1]
    assert collector["Image"] == f"{COLLECTOR_IMAGE}:{config.collector_image_tag}"
    assert collector["Essential"] is False and collector["ReadonlyRootFilesystem"] is True
    assert [s["Name"] for s in collector["Secrets"]] == ["AOT_CONFIG_CONTENT"]
    [parameter] = [r["Properties"] for _, r in of_type(template, "AWS::SSM::Parameter")]
    text = json.dumps(parameter["Value"])
    assert f"localhost:{config.metrics_port}" in text and "sigv4auth" in text and "api/v1/remote_write" in text
    [workspace_id] = [i for i, _ in of_type(template, "AWS::APS::Workspace")]
    policies = [
        r["Properties"]
        for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        for _, r in of_type(template, kind)
        if "aps:RemoteWrite" in json.dumps(r["Properties"]["PolicyDocument"])
    ]
    assert len(policies) == 1 and policies[0]["Roles"] == [{"Ref": task["TaskRoleArn"]["Fn::GetAtt"][0]}]
    assert policies[0]["PolicyDocument"]["Statement"] == [
        {"Action": "aps:RemoteWrite", "Effect": "Allow", "Resource": {"Fn::GetAtt": [workspace_id, "Arn"]}}
    ]
