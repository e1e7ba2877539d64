"""CT-AlarmPaging: every alarm has an action, every critical alarm pages through PagerDuty."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Validations
from aws_cdk import aws_cloudwatch as cloudwatch

from cashtrace_constructs.checks import CashTraceChecks, EveryAlarmHasAction, SynthesizedStack, default_rules, evaluate
from cashtrace_constructs.checks.template import of_type
from cashtrace_constructs.config import MonitoringConfig
from cashtrace_constructs.encryption import EnvironmentKey, EnvironmentKeyProps
from cashtrace_constructs.monitoring import Monitoring, MonitoringProps
from tests.synth import make_app, stack_in_region, unacknowledged, validation_report

PAGERDUTY = "{{resolve:secretsmanager:cashtrace/dev/pagerduty-integration-url:SecretString:::}}"


def _alarm(actions: list[Any], severity: str | None = None, **extra: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {"AlarmActions": actions, **extra}
    if severity:
        properties["Tags"] = [{"Key": "cashtrace:severity", "Value": severity}]
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": properties}


def _stack(
    alarms: dict[str, dict[str, Any]], *, endpoint: Any = PAGERDUTY, subscribed: bool = True
) -> SynthesizedStack:
    resources: dict[str, Any] = {
        "Critical": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "Warning": {"Type": "AWS::SNS::Topic", "Properties": {}},
        **alarms,
    }
    if subscribed:
        resources["PagerDuty"] = {
            "Type": "AWS::SNS::Subscription",
            "Properties": {"Protocol": "https", "TopicArn": {"Ref": "Critical"}, "Endpoint": endpoint},
        }
    return SynthesizedStack(
        name="CashTrace-Dev", construct_path="CashTrace-Dev", template={"Resources": resources}, region="af-south-1"
    )


def _findings(stack: SynthesizedStack) -> list[str]:
    return [f"{finding.logical_id}: {finding.message}" for finding in evaluate([EveryAlarmHasAction()], [stack])]


def test_compliant_critical_and_warning_alarms_pass() -> None:
    stack = _stack(
        {
            "Rollback5xx": _alarm([{"Ref": "Critical"}], "critical"),
            "CpuHigh": _alarm([{"Ref": "Warning"}], "warning"),
            # A step-scaling alarm acts on a scaling policy: an action, not a page.
            "ScaleOut": _alarm([{"Ref": "ScaleOutPolicy"}]),
        }
    )
    assert _findings(stack) == []


def test_alarm_without_action_is_reported() -> None:
    findings = _findings(_stack({"Orphan": _alarm([])}))
    assert len(findings) == 1
    assert findings[0].startswith("Orphan: Alarm paging") and "no alarm action" in findings[0]


def _composite(condition: str, actions: list[Any], **extra: Any) -> dict[str, Any]:
    rule = {"Fn::Join": ["", ['ALARM("', {"Fn::GetAtt": [condition, "Arn"]}, '")']]}
    properties = {"AlarmRule": rule, "AlarmActions": actions, **extra}
    properties["Tags"] = [{"Key": "cashtrace:severity", "Value": "critical"}]
    return {"Type": "AWS::CloudWatch::CompositeAlarm", "Properties": properties}


def test_a_condition_of_a_paging_composite_alarm_needs_no_action_of_its_own() -> None:
    stack = _stack({"NotVerified": _alarm([]), "Overdue": _composite("NotVerified", [{"Ref": "Critical"}])})
    assert _findings(stack) == []


def test_a_condition_of_a_composite_alarm_that_tells_nobody_is_reported() -> None:
    silent = _stack({"NotVerified": _alarm([]), "Overdue": _composite("NotVerified", [])})
    assert sorted(finding.split(":")[0] for finding in _findings(silent)) == ["NotVerified", "Overdue"]
    muted = _stack(
        {"NotVerified": _alarm([]), "Overdue": _composite("NotVerified", [{"Ref": "Critical"}], ActionsEnabled=False)}
    )
    assert [finding.split(":")[0] for finding in _findings(muted)] == ["NotVerified", "Overdue"]


def test_alarm_with_actions_disabled_is_reported() -> None:
    findings = _findings(_stack({"Muted": _alarm([{"Ref": "Warning"}], "warning", ActionsEnabled=False)}))
    assert findings and "disabled" in findings[0]


def test_critical_alarm_sent_only_to_warnings_does_not_page() -> None:
    findings = _findings(_stack({"Rollback5xx": _alarm([{"Ref": "Warning"}], "critical")}))
    assert len(findings) == 1 and "does not page" in findings[0]


def test_removing_the_pagerduty_subscription_is_reported() -> None:
    findings = _findings(_stack({"Rollback5xx": _alarm([{"Ref": "Critical"}], "critical")}, subscribed=False))
    assert len(findings) == 1 and "does not page" in findings[0]


def test_plaintext_pagerduty_url_is_reported_and_does_not_count_as_paging() -> None:
    stack = _stack(
        {"Rollback5xx": _alarm([{"Ref": "Critical"}], "critical")},
        endpoint="https://events.pagerduty.com/integration/abc/enqueue",
    )
    findings = _findings(stack)
    assert any("written into the template" in f for f in findings)
    assert any("does not page" in f for f in findings)


def test_rule_is_part_of_the_default_rules() -> None:
    assert any(isinstance(rule, EveryAlarmHasAction) for rule in default_rules())


def test_real_environment_template_without_an_alarm_action_fails(templates: dict[str, dict[str, Any]]) -> None:
    template = copy.deepcopy(templates["CashTrace-Prod"])
    alarms = [r for _, r in of_type(template, "AWS::CloudWatch::Alarm")]
    assert alarms, "the environment stack has alarms"
    stack = SynthesizedStack(name="CashTrace-Prod", construct_path="CashTrace-Prod", template=template)
    assert _findings(stack) == []
    alarms[0]["Properties"].pop("AlarmActions")
    assert len(_findings(stack)) == 1


@pytest.mark.synth
def test_synth_fails_for_an_alarm_nobody_hears(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    stack = stack_in_region(app)
    key = EnvironmentKey(stack, "Key", props=EnvironmentKeyProps(environment_name="dev")).key
    Monitoring(
        stack,
        "Monitoring",
        props=MonitoringProps(environment_name="dev", config=MonitoringConfig(), encryption_key=key),
    )
    cloudwatch.Alarm(
        stack,
        "Forgotten",
        metric=cloudwatch.Metric(namespace="AWS/ApplicationELB", metric_name="HTTPCode_Target_5XX_Count"),
        threshold=1,
        evaluation_periods=1,
    )
    Validations.of(app).add_plugins(CashTraceChecks([EveryAlarmHasAction()]))
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    findings = unacknowledged(validation_report(tmp_path))
    assert len(findings) == 1
    assert "CT-AlarmPaging Test/Forgotten" in findings[0] and "no alarm action" in findings[0]


@pytest.mark.synth
def test_synth_fails_when_the_pagerduty_subscription_is_removed(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    stack = stack_in_region(app)
    key = EnvironmentKey(stack, "Key", props=EnvironmentKeyProps(environment_name="dev")).key
    monitoring = Monitoring(
        stack,
        "Monitoring",
        props=MonitoringProps(environment_name="dev", config=MonitoringConfig(), encryption_key=key),
    )
    rollback = cloudwatch.Alarm(
        stack,
        "Rollback",
        metric=cloudwatch.Metric(namespace="AWS/ApplicationELB", metric_name="UnHealthyHostCount"),
        threshold=1,
        evaluation_periods=1,
    )
    monitoring.page_on([rollback])
    assert monitoring.node.try_remove_child("PagerDuty")
    Validations.of(app).add_plugins(CashTraceChecks([EveryAlarmHasAction()]))
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    findings = unacknowledged(validation_report(tmp_path))
    assert len(findings) == 1
    assert "CT-AlarmPaging Test/Rollback" in findings[0] and "does not page" in findings[0]
