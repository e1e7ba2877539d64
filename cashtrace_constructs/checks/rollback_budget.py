"""Property 5 (rollback): automatic rollback on failure and alarms, within the environment's budget."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cashtrace_constructs.checks.rule import Finding, StackRule, SynthesizedStack
from cashtrace_constructs.checks.template import of_type, properties, references
from cashtrace_constructs.checks.timing_paths import alarm_timing, deployment_group_alarms, rollback_paths
from cashtrace_constructs.errors import ErrorCode
from cashtrace_constructs.timing import CODEDEPLOY_ALARM_REACTION_SECONDS, alarm_detection_seconds

_REQUIRED_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM")


class RollbackBudget(StackRule):
    rule_id = "CT-P5-RollbackBudget"
    property_name = "Property 5 (rollback within budget)"
    description = (
        "Every deployment rolls back automatically on failure and on alarms; worst-case rollback "
        "(alarm period x datapoints + CodeDeploy reaction + reroute) fits the environment's rollbackTimeout "
        "(<= 300 s), and blue tasks outlive alarm detection."
    )
    fix = "Use 1-minute alarm periods with few datapoints, enable auto-rollback, keep blue tasks longer."

    def check_stack(self, stack: SynthesizedStack) -> Iterable[Finding]:
        code = ErrorCode.ROLLBACK_FAILED.value
        for path in rollback_paths(stack.template):
            if path.seconds > path.budget_seconds:
                yield self.finding(
                    stack,
                    f"{code}: worst-case rollback through alarm {path.alarm} is {path.seconds} s, over the "
                    f"{path.budget_seconds} s budget of deployment group {path.deployment_group}",
                    logical_id=path.alarm,
                )
        for group_id, group in of_type(stack.template, "AWS::CodeDeploy::DeploymentGroup"):
            yield from self._check_group(stack, group_id, group, code)
        for service_id, service in of_type(stack.template, "AWS::ECS::Service"):
            props = properties(service)
            if (props.get("DeploymentController") or {}).get("Type", "ECS") != "ECS":
                continue
            breaker = (props.get("DeploymentConfiguration") or {}).get("DeploymentCircuitBreaker") or {}
            if not (breaker.get("Enable") and breaker.get("Rollback")):
                yield self.finding(
                    stack,
                    f"{code}: rolling service {service_id} lacks the deployment circuit breaker with rollback",
                    logical_id=service_id,
                )

    def _check_group(
        self, stack: SynthesizedStack, group_id: str, group: Mapping[str, Any], code: str
    ) -> Iterable[Finding]:
        resources = stack.resources
        props = properties(group)
        auto = props.get("AutoRollbackConfiguration") or {}
        events = set(auto.get("Events") or [])
        if not auto.get("Enabled") or not set(_REQUIRED_EVENTS) <= events:
            yield self.finding(
                stack,
                f"{code}: deployment group {group_id} does not roll back automatically on {list(_REQUIRED_EVENTS)}",
                logical_id=group_id,
            )
        alarm_ids = [a for a in deployment_group_alarms(group) if a in resources]
        if not (props.get("AlarmConfiguration") or {}).get("Enabled") or not alarm_ids:
            yield self.finding(
                stack, f"{code}: deployment group {group_id} watches no rollback alarm", logical_id=group_id
            )
            return
        detection = max(
            alarm_detection_seconds(t.period_seconds, t.datapoints)
            for t in (alarm_timing(a, resources[a]) for a in alarm_ids)
        )
        needed = detection + CODEDEPLOY_ALARM_REACTION_SECONDS
        blue = (props.get("BlueGreenDeploymentConfiguration") or {}).get(
            "TerminateBlueInstancesOnDeploymentSuccess"
        ) or {}
        wait = int(blue.get("TerminationWaitTimeInMinutes") or 0) * 60
        if wait < needed:
            yield self.finding(
                stack,
                f"{code}: deployment group {group_id} terminates blue tasks after {wait} s, before its alarms can "
                f"trigger a rollback ({needed} s); a rollback would need new tasks, not a traffic switch",
                logical_id=group_id,
            )
        for config_id in references(props.get("DeploymentConfigName")):
            config = resources.get(config_id) or {}
            canary = (properties(config).get("TrafficRoutingConfig") or {}).get("TimeBasedCanary") or {}
            interval = int(canary.get("CanaryInterval") or 0) * 60
            if canary and interval < needed:
                yield self.finding(
                    stack,
                    f"{code}: canary interval {interval} s of {config_id} ends before the alarms react ({needed} s)",
                    logical_id=config_id,
                )
