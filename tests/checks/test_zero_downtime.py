"""Property 10 rule: draining, stop timeout, grace period, min healthy, verified test traffic."""

from __future__ import annotations

from typing import Any

from cashtrace_constructs.checks import ZeroDowntime
from tests.checks.service_templates import compliant_template, findings


def _findings(template: dict[str, Any]) -> list[str]:
    return findings(ZeroDowntime(), template)


def test_compliant_service_has_no_finding() -> None:
    assert _findings(compliant_template()) == []


def test_draining_shorter_than_the_longest_request() -> None:
    template = compliant_template()
    template["Resources"]["Blue"]["Properties"]["TargetGroupAttributes"][0]["Value"] = "10"
    [finding] = _findings(template)
    assert "Property 10" in finding and finding.startswith("Test/Blue:") and "drains for 10 s" in finding


def test_stop_timeout_shorter_than_the_longest_request() -> None:
    template = compliant_template()
    template["Resources"]["Task"]["Properties"]["ContainerDefinitions"][0]["StopTimeout"] = 5
    assert any(f.startswith("Test/Task:") and "SIGTERM" in f for f in _findings(template))


def test_grace_period_shorter_than_time_to_healthy() -> None:
    template = compliant_template()
    template["Resources"]["Service"]["Properties"]["HealthCheckGracePeriodSeconds"] = 5
    assert any("grace period" in f for f in _findings(template))


def test_rolling_below_full_capacity() -> None:
    template = compliant_template()
    service = template["Resources"]["Service"]["Properties"]
    service["DeploymentController"] = {"Type": "ECS"}
    service["DeploymentConfiguration"] = {"MinimumHealthyPercent": 50}
    assert any("50% healthy" in f for f in _findings(template))


def test_blue_green_without_test_listener_or_hook() -> None:
    template = compliant_template()
    del template["Resources"]["Deployment"]
    pair = template["Resources"]["Group"]["Properties"]["LoadBalancerInfo"]["TargetGroupPairInfoList"][0]
    del pair["TestTrafficRoute"]
    findings = _findings(template)
    assert any("no test listener" in f for f in findings)
    assert any("AfterAllowTestTraffic" in f for f in findings)


def test_health_check_timeout_must_be_below_interval() -> None:
    template = compliant_template()
    template["Resources"]["Green"]["Properties"]["HealthCheckTimeoutSeconds"] = 10
    assert any(f.startswith("Test/Green:") for f in _findings(template))
