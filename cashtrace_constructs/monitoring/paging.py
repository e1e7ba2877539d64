"""Severities and how an alarm reaches people: PagerDuty (critical) or the warning topic."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import Tags
from aws_cdk import aws_cloudwatch as cloudwatch
from cdk_monitoring_constructs import IAlarmActionStrategy, SnsAlarmActionStrategy

from cashtrace_constructs.checks.every_alarm_has_action import SEVERITY_TAG

CRITICAL = "Critical"
WARNING = "Warning"
RUNBOOKS = "docs/monitoring.md#runbooks"


@jsii.implements(IAlarmActionStrategy)
class SeverityAction:
    """The facade's action for one severity: the SNS topic(s), the severity tag, and the alarm recorded.

    Called once per alarm as the facade creates it (asking the facade for its alarms afterwards
    costs ~90 ms per call across jsii).
    """

    def __init__(self, sns_action: SnsAlarmActionStrategy, severity: str, created: list[cloudwatch.IAlarm]) -> None:
        self.sns_action = sns_action
        self.severity = severity
        self.created = created

    def add_alarm_actions(
        self,
        *,
        alarm: cloudwatch.AlarmBase,
        action: IAlarmActionStrategy,
        custom_params: Mapping[str, Any] | None = None,
        custom_tags: Sequence[str] | None = None,
        dedupe_string: str | None = None,
        disambiguator: str | None = None,
    ) -> None:
        self.sns_action.add_alarm_actions(
            alarm=alarm,
            action=action,
            custom_params=custom_params,
            custom_tags=custom_tags,
            dedupe_string=dedupe_string,
            disambiguator=disambiguator,
        )
        Tags.of(alarm).add(SEVERITY_TAG, self.severity.lower())
        self.created.append(alarm)
