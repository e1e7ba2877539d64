"""The timing model of rollbacks (Property 5) and scale-out (Property 9), over synthesized templates.

Pure functions: the correctness rules and `python -m stacks.budgets` share them. The constants
are assumptions, documented in docs/service.md; a load test in a real account should replace
them with measured numbers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# ALB and ECS publish 1-minute metrics; a datapoint reaches the alarm evaluator within ~20 s.
METRIC_PUBLICATION_LAG_SECONDS = 20
# CodeDeploy polls the deployment group's alarms; it stops and rolls back within a minute of ALARM.
CODEDEPLOY_ALARM_REACTION_SECONDS = 60
# Rollback moves the production listener back to the blue target group (tasks still running).
TRAFFIC_REROUTE_SECONDS = 15
# Fargate: capacity, ENI, image pull through the in-VPC ECR endpoint, container start.
FARGATE_TASK_START_SECONDS = 60
# Property 9 and the cap of Property 5 (the design's 3 and 5 minutes).
SCALE_OUT_BUDGET_SECONDS = 180
MAX_ROLLBACK_SECONDS = 300
# ALB defaults when a target group leaves them unset.
_DEFAULT_HEALTH_CHECK_INTERVAL = 30
_DEFAULT_HEALTHY_THRESHOLD = 5

ROLLBACK_BUDGET_METADATA = "cashtrace:rollback-budget-seconds"
LONGEST_REQUEST_METADATA = "cashtrace:longest-request-seconds"
# A service that must stop before its replacement starts (one writer) says so, and why.
ZERO_DOWNTIME_EXEMPTION = "cashtrace:zero-downtime-exemption"

Resources = Mapping[str, Mapping[str, Any]]


# ---------------------------------------------------------------- the model


def alarm_detection_seconds(period_seconds: int, datapoints: int) -> int:
    """From a persistent breach starting to the alarm entering ALARM."""
    return period_seconds * datapoints + METRIC_PUBLICATION_LAG_SECONDS


def rollback_seconds(period_seconds: int, datapoints: int) -> int:
    """From a bad release hurting traffic to production traffic back on the blue tasks."""
    return (
        alarm_detection_seconds(period_seconds, datapoints)
        + CODEDEPLOY_ALARM_REACTION_SECONDS
        + TRAFFIC_REROUTE_SECONDS
    )


def time_to_healthy_seconds(healthy_threshold: int, interval_seconds: int) -> int:
    return healthy_threshold * interval_seconds


def scale_out_seconds(period_seconds: int, datapoints: int, cooldown_seconds: int, healthy_seconds: int) -> int:
    """From load crossing the step alarm's threshold to new tasks healthy in the target group.

    The cooldown counts in full: in the worst case the breach starts just after an earlier step.
    """
    return (
        alarm_detection_seconds(period_seconds, datapoints)
        + cooldown_seconds
        + FARGATE_TASK_START_SECONDS
        + healthy_seconds
    )


# ---------------------------------------------------------------- reading templates


def references(value: Any) -> set[str]:
    """Logical ids a template value refers to (Ref / Fn::GetAtt), at any depth."""
    found: set[str] = set()
    if isinstance(value, Mapping):
        if isinstance(value.get("Ref"), str):
            found.add(value["Ref"])
        attribute = value.get("Fn::GetAtt")
        if isinstance(attribute, list) and attribute and isinstance(attribute[0], str):
            found.add(attribute[0])
        for item in value.values():
            found |= references(item)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return found


def of_type(resources: Resources, resource_type: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for logical_id, resource in resources.items():
        if resource.get("Type") == resource_type:
            yield logical_id, resource


def properties(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    return resource.get("Properties") or {}


@dataclass(frozen=True)
class AlarmTiming:
    logical_id: str
    period_seconds: int
    datapoints: int


def alarm_timing(logical_id: str, alarm: Mapping[str, Any]) -> AlarmTiming:
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


def rollback_budget_seconds(deployment_group: Mapping[str, Any]) -> int:
    """The environment's rollbackTimeout recorded by the construct, never above 300 s."""
    recorded = (deployment_group.get("Metadata") or {}).get(ROLLBACK_BUDGET_METADATA)
    return min(int(recorded), MAX_ROLLBACK_SECONDS) if recorded is not None else MAX_ROLLBACK_SECONDS


def deployment_group_alarms(deployment_group: Mapping[str, Any]) -> list[str]:
    alarms = (properties(deployment_group).get("AlarmConfiguration") or {}).get("Alarms") or []
    return [logical_id for alarm in alarms for logical_id in references(alarm.get("Name"))]


def rollback_paths(resources: Resources) -> list[RollbackPath]:
    """One worst-case rollback time per (deployment group, rollback alarm)."""
    paths: list[RollbackPath] = []
    for group_id, group in of_type(resources, "AWS::CodeDeploy::DeploymentGroup"):
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


def target_group_time_to_healthy(target_group: Mapping[str, Any]) -> int:
    props = properties(target_group)
    return time_to_healthy_seconds(
        int(props.get("HealthyThresholdCount") or _DEFAULT_HEALTHY_THRESHOLD),
        int(props.get("HealthCheckIntervalSeconds") or _DEFAULT_HEALTH_CHECK_INTERVAL),
    )


def service_target_groups(resources: Resources, service_id: str) -> list[str]:
    balancers = properties(resources[service_id]).get("LoadBalancers") or []
    return sorted({ref for balancer in balancers for ref in references(balancer.get("TargetGroupArn"))})


def ecs_scalable_targets(resources: Resources) -> Iterator[tuple[str, str | None]]:
    """(scalable target, the ECS service it scales if defined in this template)."""
    for target_id, target in of_type(resources, "AWS::ApplicationAutoScaling::ScalableTarget"):
        if properties(target).get("ServiceNamespace") != "ecs":
            continue
        services = [
            ref
            for ref in references(properties(target).get("ResourceId"))
            if (resources.get(ref) or {}).get("Type") == "AWS::ECS::Service"
        ]
        yield target_id, (services[0] if services else None)


def scale_out_paths(resources: Resources, target_id: str, service_id: str | None) -> list[ScaleOutPath]:
    """Every step scale-out policy of one scalable target with the alarm that triggers it."""
    healthy = max(
        (
            target_group_time_to_healthy(resources[tg])
            for tg in service_target_groups(resources, service_id)
            if tg in resources
        )
        if service_id
        else (),
        default=time_to_healthy_seconds(_DEFAULT_HEALTHY_THRESHOLD, _DEFAULT_HEALTH_CHECK_INTERVAL),
    )
    paths: list[ScaleOutPath] = []
    for policy_id, policy in of_type(resources, "AWS::ApplicationAutoScaling::ScalingPolicy"):
        props = properties(policy)
        if props.get("PolicyType") != "StepScaling" or target_id not in references(props.get("ScalingTargetId")):
            continue
        config = props.get("StepScalingPolicyConfiguration") or {}
        if not any(float(step.get("ScalingAdjustment", 0)) > 0 for step in config.get("StepAdjustments") or []):
            continue
        cooldown = int(config.get("Cooldown") or 0)
        for alarm_id, alarm in of_type(resources, "AWS::CloudWatch::Alarm"):
            if policy_id not in references(properties(alarm).get("AlarmActions")):
                continue
            timing = alarm_timing(alarm_id, alarm)
            seconds = scale_out_seconds(timing.period_seconds, timing.datapoints, cooldown, healthy)
            paths.append(ScaleOutPath(target_id, policy_id, alarm_id, seconds))
    return paths
