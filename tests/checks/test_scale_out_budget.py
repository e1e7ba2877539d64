"""Property 9 rule: a fast step scale-out path exists and fits 180 s."""

from __future__ import annotations

from typing import Any

from cashtrace_constructs.checks import ScaleOutBudget
from cashtrace_constructs.timing import FARGATE_TASK_START_SECONDS, scale_out_seconds
from tests.checks.service_templates import compliant_template, findings


def _findings(template: dict[str, Any]) -> list[str]:
    return findings(ScaleOutBudget(), template)


def test_compliant_service_has_no_finding() -> None:
    assert _findings(compliant_template()) == []


def test_removing_the_step_policy_names_the_scalable_target() -> None:
    template = compliant_template()
    del template["Resources"]["StepPolicy"]
    [finding] = _findings(template)
    assert "Property 9" in finding and finding.startswith("Test/Scaling:") and "no step scale-out" in finding


def test_slow_step_alarm_is_named() -> None:
    template = compliant_template()
    template["Resources"]["StepAlarm"]["Properties"].update(EvaluationPeriods=3, DatapointsToAlarm=3)
    [finding] = _findings(template)
    assert "Test/StepAlarm" in finding and f"{scale_out_seconds(60, 3, 15, 20)} s" in finding


def test_a_scale_in_only_step_policy_does_not_count() -> None:
    template = compliant_template()
    steps = template["Resources"]["StepPolicy"]["Properties"]["StepScalingPolicyConfiguration"]["StepAdjustments"]
    steps[0]["ScalingAdjustment"] = -1
    assert any("no step scale-out" in f for f in _findings(template))


def test_slow_health_checks_count_against_the_budget() -> None:
    template = compliant_template()
    template["Resources"]["Blue"]["Properties"].update(HealthCheckIntervalSeconds=30, HealthyThresholdCount=5)
    assert 60 + 20 + 15 + FARGATE_TASK_START_SECONDS + 150 > 180
    assert any("Test/StepAlarm" in f for f in _findings(template))
