"""Property 5 rule: rollback budget, auto-rollback, kept blue tasks, canary interval."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cashtrace_constructs.checks import RollbackBudget
from cashtrace_constructs.timing import rollback_seconds
from tests.checks.service_templates import compliant_template, findings


def _findings(template: dict[str, Any]) -> list[str]:
    return findings(RollbackBudget(), template)


def test_compliant_service_has_no_finding() -> None:
    assert _findings(compliant_template()) == []


def test_five_periods_of_five_minutes_break_the_budget_and_name_the_alarm() -> None:
    template = compliant_template()
    template["Resources"]["ErrorsAlarm"]["Properties"].update(Period=300, EvaluationPeriods=5, DatapointsToAlarm=5)
    finding = _findings(template)[0]
    assert "Property 5" in finding and "Test/ErrorsAlarm" in finding
    assert f"{rollback_seconds(300, 5)} s" in finding and "180 s budget" in finding


def test_auto_rollback_on_alarm_is_required() -> None:
    template = compliant_template()
    template["Resources"]["Group"]["Properties"]["AutoRollbackConfiguration"]["Events"] = ["DEPLOYMENT_FAILURE"]
    assert any("Test/Group" in f and "roll back automatically" in f for f in _findings(template))


def test_a_group_without_alarms_is_refused() -> None:
    template = compliant_template()
    template["Resources"]["Group"]["Properties"]["AlarmConfiguration"] = {"Enabled": False, "Alarms": []}
    assert any("watches no rollback alarm" in f for f in _findings(template))


def test_blue_tasks_must_outlive_alarm_detection() -> None:
    template = compliant_template()
    blue = template["Resources"]["Group"]["Properties"]["BlueGreenDeploymentConfiguration"]
    blue["TerminateBlueInstancesOnDeploymentSuccess"]["TerminationWaitTimeInMinutes"] = 1
    assert any("terminates blue tasks" in f for f in _findings(template))


def test_canary_interval_shorter_than_detection_is_refused() -> None:
    template = compliant_template()
    template["Resources"]["Canary"]["Properties"]["TrafficRoutingConfig"]["TimeBasedCanary"]["CanaryInterval"] = 1
    template["Resources"]["ErrorsAlarm"]["Properties"].update(EvaluationPeriods=2, DatapointsToAlarm=2)
    assert any("Test/Canary" in f and "canary interval" in f for f in _findings(template))


def test_budget_is_capped_at_five_minutes_even_if_metadata_says_more() -> None:
    template = compliant_template()
    template["Resources"]["Group"]["Metadata"] = {"cashtrace:rollback-budget-seconds": 3600}
    template["Resources"]["ErrorsAlarm"]["Properties"].update(Period=60, EvaluationPeriods=5, DatapointsToAlarm=5)
    assert rollback_seconds(60, 5) > 300
    assert any("300 s budget" in f for f in _findings(template))


def test_rolling_service_needs_the_circuit_breaker() -> None:
    template = compliant_template()
    service = template["Resources"]["Service"]["Properties"]
    service["DeploymentController"] = {"Type": "ECS"}
    assert any("circuit breaker" in f for f in _findings(template))
    service["DeploymentConfiguration"] = {"DeploymentCircuitBreaker": {"Enable": True, "Rollback": True}}
    assert not any("circuit breaker" in f for f in _findings(template))


@given(period_minutes=st.integers(1, 10), datapoints=st.integers(1, 10), budget=st.integers(1, 300))
def test_a_finding_exactly_when_the_model_exceeds_the_budget(period_minutes: int, datapoints: int, budget: int) -> None:
    template = compliant_template()
    template["Resources"]["Group"]["Metadata"] = {"cashtrace:rollback-budget-seconds": budget}
    template["Resources"]["ErrorsAlarm"]["Properties"].update(
        Period=period_minutes * 60, EvaluationPeriods=datapoints, DatapointsToAlarm=datapoints
    )
    over = [f for f in _findings(template) if "Test/ErrorsAlarm" in f]
    assert bool(over) == (rollback_seconds(period_minutes * 60, datapoints) > budget)
