"""The timing model applied to a synthesized template: every rollback and scale-out path, worst case.

Shared by the Property 5, 9 and 10 rules and `python -m tools.budgets`; the model itself (the
constants and the arithmetic) is `cashtrace_constructs/timing.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from cashtrace_constructs.checks.template import Resource, Template, of_type, properties, references, resources_of
from cashtrace_constructs.timing import (
    MAX_ROLLBACK_SECONDS,
    ROLLBACK_BUDGET_METADATA,
    rollback_seconds,
    scale_out_seconds,
    time_to_healthy_seconds,
)

# ALB defaults when a target group leaves them unset.
DEFAULT_HEALTH_CHECK_INTERVAL = 30
DEFAULT_HEALTHY_THRESHOLD = 5


@dataclass(frozen=True)
class AlarmTiming:
    logical_id: str
    period_seconds: int
    datapoints: int


def alarm_timing(logical_id: str, alarm: Resource) -> AlarmTiming:
    """Period and datapoints an alarm needs; metric-math alarms use their longest metric period."""
    props = properties(alarm)
    period = props.get("Period")
    if period is None:
        periods = [
            int((query.get("MetricStat") or {}).get("Period") or query.get("Period") or 60)
            for query in props.get("Metrics") or []
        ]
        period = max(periods, default=60)
    datapoints = props.get("DatapointsToAlarm") or props.get("EvaluationPeriods") or 1
    return AlarmTiming(logical_id, int(period), int(datapoints))


@dataclass(frozen=True)
class RollbackPath:
    deployment_group: str
    alarm: str
    seconds: int
    budget_seconds: int


def rollback_budget_seconds(deployment_group: Resource) -> int:
    """The environment's rollbackTimeout recorded by the construct, never above 300 s."""
    recorded = (deployment_group.get("Metadata") or {}).get(ROLLBACK_BUDGET_METADATA)
    return min(int(recorded), MAX_ROLLBACK_SECONDS) if recorded is not None else MAX_ROLLBACK_SECONDS


def deployment_group_alarms(deployment_group: Resource) -> list[str]:
    alarms = (properties(deployment_group).get("AlarmConfiguration") or {}).get("Alarms") or []
    return [logical_id for alarm in alarms for logical_id in references(alarm.get("Name"))]


def rollback_paths(template: Template) -> list[RollbackPath]:
    """One worst-case rollback time per (deployment group, rollback alarm)."""
    resources = resources_of(template)
    paths: list[RollbackPath] = []
    for group_id, group in of_type(template, "AWS::CodeDeploy::DeploymentGroup"):
        budget = rollback_budget_seconds(group)
        for alarm_id in deployment_group_alarms(group):
            alarm = resources.get(alarm_id)
            if alarm is None or alarm.get("Type") != "AWS::CloudWatch::Alarm":
                continue
            timing = alarm_timing(alarm_id, alarm)
            paths.append(
                RollbackPath(group_id, alarm_id, rollback_seconds(timing.period_seconds, timing.datapoints), budget)
            )
    return paths


@dataclass(frozen=True)
class ScaleOutPath:
    scalable_target: str
    policy: str
    alarm: str
    seconds: int


def target_group_time_to_healthy(target_group: Resource) -> int:
    props = properties(target_group)
    return time_to_healthy_seconds(
        int(props.get("HealthyThresholdCount") or DEFAULT_HEALTHY_THRESHOLD),
        int(props.get("HealthCheckIntervalSeconds") or DEFAULT_HEALTH_CHECK_INTERVAL),
    )


def service_target_groups(template: Template, service_id: str) -> list[str]:
    balancers = properties(resources_of(template)[service_id]).get("LoadBalancers") or []
    return sorted({ref for balancer in balancers for ref in references(balancer.get("TargetGroupArn"))})


def ecs_scalable_targets(template: Template) -> Iterator[tuple[str, str | None]]:
    """(scalable target, the ECS service it scales if defined in this template)."""
    resources = resources_of(template)
    for target_id, target in of_type(template, "AWS::ApplicationAutoScaling::ScalableTarget"):
        if properties(target).get("ServiceNamespace") != "ecs":
            continue
        services = [
            ref
            for ref in references(properties(target).get("ResourceId"))
            if (resources.get(ref) or {}).get("Type") == "AWS::ECS::Service"
        ]
        yield target_id, (services[0] if services else None)


def scale_out_paths(template: Template, target_id: str, service_id: str | None) -> list[ScaleOutPath]:
    """Every step scale-out policy of one scalable target with the alarm that triggers it."""
    resources = resources_of(template)
    healthy = max(
        (
            target_group_time_to_healthy(resources[tg])
            for tg in service_target_groups(template, service_id)
            if tg in resources
        )
        if service_id
        else (),
        default=time_to_healthy_seconds(DEFAULT_HEALTHY_THRESHOLD, DEFAULT_HEALTH_CHECK_INTERVAL),
    )
    paths: list[ScaleOutPath] = []
    for policy_id, policy in of_type(template, "AWS::ApplicationAutoScaling::ScalingPolicy"):
        props = properties(policy)
        if props.get("PolicyType") != "StepScaling" or target_id not in references(props.get("ScalingTargetId")):
            continue
        config = props.get("StepScalingPolicyConfiguration") or {}
        if not any(float(step.get("ScalingAdjustment", 0)) > 0 for step in config.get("StepAdjustments") or []):
            continue
        cooldown = int(config.get("Cooldown") or 0)
        for alarm_id, alarm in of_type(template, "AWS::CloudWatch::Alarm"):
            if policy_id not in references(properties(alarm).get("AlarmActions")):
                continue
            timing = alarm_timing(alarm_id, alarm)
            seconds = scale_out_seconds(timing.period_seconds, timing.datapoints, cooldown, healthy)
            paths.append(ScaleOutPath(target_id, policy_id, alarm_id, seconds))
    return paths
