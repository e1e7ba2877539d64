"""Every alarm notifies someone, and every critical alarm pages on-call through PagerDuty.

An alarm without an action is a dashboard colour nobody sees; the rollback alarms of Property 5
are critical, so a rollback also wakes someone. Severity is the `cashtrace:severity` tag that
`Monitoring` puts on every alarm it creates or joins. An alarm that is a condition of a composite
alarm with actions notifies through that composite, and needs no action of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cashtrace_constructs.checks.rule import Finding, StackRule, SynthesizedStack
from cashtrace_constructs.checks.template import of_type

SEVERITY_TAG = "cashtrace:severity"
ALARM_TYPES = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
# A CloudFormation dynamic-reference prefix, not a secret.
_DYNAMIC_SECRET = "{{resolve:secretsmanager:"  # noqa: S105  # nosec B105


def _severity(resource: Mapping[str, Any]) -> str | None:
    for tag in (resource.get("Properties") or {}).get("Tags") or []:
        if tag.get("Key") == SEVERITY_TAG:
            return str(tag.get("Value"))
    return None


def _referenced_id(value: Any) -> str | None:
    if isinstance(value, Mapping) and isinstance(value.get("Ref"), str):
        return str(value["Ref"])
    return None


def paging_topics(stack: SynthesizedStack) -> set[str]:
    """Topics of this template with an HTTPS subscription whose endpoint is a Secrets Manager reference."""
    topics = {logical_id for logical_id, _ in of_type(stack.template, "AWS::SNS::Topic")}
    paging: set[str] = set()
    for _, subscription in of_type(stack.template, "AWS::SNS::Subscription"):
        properties = subscription.get("Properties") or {}
        topic = _referenced_id(properties.get("TopicArn"))
        endpoint = properties.get("Endpoint")
        if (
            topic in topics
            and str(properties.get("Protocol", "")).lower() == "https"
            and isinstance(endpoint, str)
            and endpoint.startswith(_DYNAMIC_SECRET)
        ):
            paging.add(str(topic))
    return paging


def _references(value: Any) -> Iterable[str]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if key == "Fn::GetAtt":
                yield str(inner[0] if isinstance(inner, list) else str(inner).split(".")[0])
            elif key == "Ref" and isinstance(inner, str):
                yield inner
            else:
                yield from _references(inner)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def composite_conditions(stack: SynthesizedStack) -> set[str]:
    """Alarms of this template named in the rule of a composite alarm that has alarm actions."""
    conditions: set[str] = set()
    for _, composite in of_type(stack.template, "AWS::CloudWatch::CompositeAlarm"):
        properties = composite.get("Properties") or {}
        if properties.get("AlarmActions") and properties.get("ActionsEnabled") is not False:
            conditions.update(_references(properties.get("AlarmRule")))
    return conditions


class EveryAlarmHasAction(StackRule):
    rule_id = "CT-AlarmPaging"
    property_name = "Alarm paging (Property 5 rollback alarms reach on-call)"
    description = "Every alarm has an enabled action; every critical alarm pages through the PagerDuty topic."
    fix = (
        "Join the alarm to the environment's Monitoring (monitoring.page_on([...]) for critical, "
        "monitoring.warn_on([...]) otherwise) and keep the PagerDuty subscription on the critical topic."
    )

    def check_stack(self, stack: SynthesizedStack) -> Iterable[Finding]:
        paging = paging_topics(stack)
        conditions = composite_conditions(stack)
        for logical_id, subscription in of_type(stack.template, "AWS::SNS::Subscription"):
            properties = subscription.get("Properties") or {}
            endpoint = properties.get("Endpoint")
            if str(properties.get("Protocol", "")).lower() in ("http", "https") and not (
                isinstance(endpoint, str) and endpoint.startswith(_DYNAMIC_SECRET)
            ):
                yield self.finding(
                    stack,
                    "an HTTP(S) alarm subscription's endpoint is written into the template; it must be a "
                    "{{resolve:secretsmanager:...}} reference (the URL carries the integration key)",
                    logical_id=logical_id,
                    location="Properties.Endpoint",
                )
        for logical_id, alarm in of_type(stack.template, *ALARM_TYPES):
            if logical_id in conditions and not (alarm.get("Properties") or {}).get("AlarmActions"):
                continue
            yield from self._check_alarm(stack, logical_id, alarm, paging)

    def _check_alarm(
        self, stack: SynthesizedStack, logical_id: str, alarm: Mapping[str, Any], paging: set[str]
    ) -> Iterable[Finding]:
        properties = alarm.get("Properties") or {}
        actions = properties.get("AlarmActions") or []
        if properties.get("ActionsEnabled") is False:
            yield self.finding(stack, "alarm has its actions disabled", logical_id=logical_id)
        if not actions:
            yield self.finding(stack, "alarm has no alarm action; nobody is told", logical_id=logical_id)
            return
        if _severity(alarm) == "critical":
            targets = {_referenced_id(action) for action in actions}
            if not targets & paging:
                yield self.finding(
                    stack,
                    "critical alarm does not page: none of its actions is a topic with the PagerDuty subscription",
                    logical_id=logical_id,
                    location="Properties.AlarmActions",
                )
