"""`tools.budgets`: the worst cases it prints, on the real templates and on hand-written ones."""

from __future__ import annotations

import copy
import io
from typing import Any

from cashtrace_constructs.timing import SCALE_OUT_BUDGET_SECONDS, rollback_seconds
from tests.checks.service_templates import compliant_template
from tools.budgets import budgets, within_budget
from tools.budgets.__main__ import report

Templates = dict[str, dict[str, Any]]


def test_printed_budgets_hold_for_every_environment(templates: Templates) -> None:
    prod = budgets(templates["CashTrace-Prod"])
    assert prod["rollback_seconds"] is not None and prod["rollback_seconds"] <= 180
    assert prod["scale_out_seconds"] is not None and prod["scale_out_seconds"] <= SCALE_OUT_BUDGET_SECONDS
    for name in ("CashTrace-Dev", "CashTrace-Staging", "CashTrace-Prod"):
        result = budgets(templates[name])
        assert result["rollback_seconds"] <= result["rollback_budget_seconds"]  # type: ignore[operator]
        assert within_budget(result)


def test_the_slowest_rollback_alarm_is_judged_against_the_recorded_budget() -> None:
    template = compliant_template()
    resources = template["Resources"]
    resources["LatencyAlarm"] = copy.deepcopy(resources["ErrorsAlarm"])
    resources["LatencyAlarm"]["Properties"].update(EvaluationPeriods=2, DatapointsToAlarm=2)
    resources["Group"]["Properties"]["AlarmConfiguration"]["Alarms"].append({"Name": {"Ref": "LatencyAlarm"}})
    assert within_budget(budgets(compliant_template()))
    result = budgets(template)
    assert result["rollback_seconds"] == rollback_seconds(60, 2) > rollback_seconds(60, 1)
    assert result["rollback_budget_seconds"] == 180
    assert not within_budget(result)


def test_a_service_without_a_step_scale_out_path_is_not_within_budget() -> None:
    template = compliant_template()
    del template["Resources"]["StepPolicy"]
    result = budgets(template)
    assert result["scale_out_seconds"] is None
    assert not within_budget(result)


def test_the_report_marks_the_environment_over_budget_and_fails() -> None:
    within = budgets(compliant_template())
    over = dict(within, scale_out_seconds=SCALE_OUT_BUDGET_SECONDS + 1)
    out = io.StringIO()
    assert report({"dev": within}, out=io.StringIO())
    assert not report({"dev": within, "prod": over}, out=out)
    header, dev, prod = out.getvalue().splitlines()
    assert header.split() == ["environment", "rollback", "budget", "scale-out", "budget"]
    assert dev.split()[0] == "dev" and dev.endswith("ok")
    assert prod.split()[0] == "prod" and prod.endswith("OVER BUDGET") and f"{SCALE_OUT_BUDGET_SECONDS + 1}s" in prod
