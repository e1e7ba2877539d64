"""The Prometheus workspace and collector stay in the residency region."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import Aspects

from cashtrace_constructs.config import MonitoringConfig
from cashtrace_constructs.encryption import EnvironmentKey
from cashtrace_constructs.prometheus import PrometheusWorkspace, collector_config
from cashtrace_constructs.region_lock import RegionLock
from cashtrace_constructs.residency import template_leaks
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
    key = EnvironmentKey(stack, "Key", environment_name="dev").key
    PrometheusWorkspace(stack, "Prometheus", environment_name="dev", encryption_key=key)
    Aspects.of(app).add(RegionLock())
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.dumps(validation_report(tmp_path))
    assert "DEPLOY_RESIDENCY_VIOLATION" in report and "eu-west-1" in report
