"""Alarms of the functions and queues we deploy: Lambda errors and throttles, dead-letter queue depth.

`PythonHandler` makes these for its own function and dead-letter queue. `watch_functions(stack)`
makes them for every other Lambda function and queue in a stack (the custom-resource providers CDK
and construct libraries bring), so a stack cannot carry a function or queue nobody hears about.
Routing (which topic, which severity) stays with the stack: `Monitoring.warn_on` in an environment,
`notify(alarms, topic)` in the pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_cdk import CfnResource, Duration, Stack, Stage, Tags
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct

from cashtrace_constructs.checks.every_alarm_has_action import SEVERITY_TAG

if TYPE_CHECKING:
    from cashtrace_constructs.function import PythonHandler

LAMBDA_NAMESPACE = "AWS/Lambda"
SQS_NAMESPACE = "AWS/SQS"
FUNCTION_ALARM_METRICS = ("Errors", "Throttles")
QUEUE_DEPTH_METRIC = "ApproximateNumberOfMessagesVisible"
WATCH_ID = "FunctionAlarms"


@dataclass(frozen=True)
class FunctionAlarms:
    """One function's alarms: any error, any throttle, and anything waiting in its dead-letter queue."""

    errors: cloudwatch.Alarm
    throttles: cloudwatch.Alarm
    dead_letters: cloudwatch.Alarm | None = None

    @property
    def all(self) -> tuple[cloudwatch.Alarm, ...]:
        return tuple(a for a in (self.errors, self.throttles, self.dead_letters) if a is not None)


def _on_any(scope: Construct, construct_id: str, metric: cloudwatch.IMetric, description: str) -> cloudwatch.Alarm:
    # One failed invocation is one lost event (a rotation, a restore verdict, a deployment record):
    # alarm on the first, and treat silence as health.
    return cloudwatch.Alarm(
        scope,
        construct_id,
        metric=metric,
        alarm_description=description,
        threshold=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )


def function_alarms(
    scope: Construct,
    *,
    function_name: str,
    label: str,
    dead_letter_queue_name: str | None = None,
) -> FunctionAlarms:
    """Errors and Throttles of the function named `function_name` (a token is fine), and its DLQ's depth."""

    def lambda_metric(name: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=LAMBDA_NAMESPACE,
            metric_name=name,
            dimensions_map={"FunctionName": function_name},
            statistic="Sum",
            period=Duration.minutes(5),
        )

    return FunctionAlarms(
        errors=_on_any(scope, "ErrorsAlarm", lambda_metric("Errors"), f"{label}: an invocation failed"),
        throttles=_on_any(scope, "ThrottlesAlarm", lambda_metric("Throttles"), f"{label}: an invocation was throttled"),
        dead_letters=(
            queue_depth_alarm(scope, "DeadLettersAlarm", queue_name=dead_letter_queue_name, label=label)
            if dead_letter_queue_name
            else None
        ),
    )


def queue_depth_alarm(scope: Construct, construct_id: str, *, queue_name: str, label: str) -> cloudwatch.Alarm:
    """Any message visible in a (dead-letter) queue: an event that no retry could deliver."""
    metric = cloudwatch.Metric(
        namespace=SQS_NAMESPACE,
        metric_name=QUEUE_DEPTH_METRIC,
        dimensions_map={"QueueName": queue_name},
        statistic="Maximum",
        period=Duration.minutes(5),
    )
    return _on_any(scope, construct_id, metric, f"{label}: a message waits in its dead-letter queue")


def constructs_of(stack: Stack) -> Iterator[IConstruct]:
    """Every construct of `stack` itself: not those of a nested Stage (the pipeline's) or another stack."""
    pending: list[IConstruct] = list(stack.node.children)
    while pending:
        construct = pending.pop()
        if isinstance(construct, (Stage, Stack)):
            continue
        yield construct
        pending.extend(construct.node.children)


def python_handlers(stack: Stack) -> list[PythonHandler]:
    from cashtrace_constructs.function import PythonHandler  # the function module imports this one

    return [construct for construct in constructs_of(stack) if isinstance(construct, PythonHandler)]


def handler_alarms(stack: Stack) -> list[cloudwatch.Alarm]:
    """The alarms every `PythonHandler` of `stack` made for itself."""
    return [alarm for handler in python_handlers(stack) for alarm in handler.alarms.all]


def _watched_names(stack: Stack) -> set[str]:
    """Paths of the functions and queues a `FunctionAlarms` set already covers."""
    covered: set[str] = set()
    for handler in python_handlers(stack):
        for covered_by_handler in (handler.function, handler.dead_letter_queue):
            default = covered_by_handler.node.default_child
            if default is not None:
                covered.add(default.node.path)
    return covered


def _construct_id(stack: Stack, resource: CfnResource) -> str:
    relative = resource.node.path[len(stack.node.path) + 1 :]
    return re.sub(r"[^A-Za-z0-9]", "", relative.removesuffix("/Resource"))


def watch_functions(stack: Stack) -> list[cloudwatch.Alarm]:
    """Alarms for every Lambda function and SQS queue of `stack` that no `PythonHandler` watches yet.

    Call after the stack is composed (again after adding functions: what is watched stays watched).
    Returns only the alarms it made (route them).
    """
    covered = _watched_names(stack)
    resources = [
        child
        for child in constructs_of(stack)
        if isinstance(child, CfnResource)
        and child.cfn_resource_type in ("AWS::Lambda::Function", "AWS::SQS::Queue")
        and child.node.path not in covered
    ]
    if not resources:
        return []
    found = stack.node.try_find_child(WATCH_ID)
    watch = found if isinstance(found, Construct) else Construct(stack, WATCH_ID)
    made: list[cloudwatch.Alarm] = []
    for resource in resources:
        if watch.node.try_find_child(_construct_id(stack, resource)) is not None:
            continue  # watched by an earlier call
        scope = Construct(watch, _construct_id(stack, resource))
        if resource.cfn_resource_type == "AWS::Lambda::Function":
            alarms = function_alarms(scope, function_name=resource.ref, label=resource.node.path)
            made.extend(alarms.all)
        else:
            made.append(
                queue_depth_alarm(
                    scope, "DepthAlarm", queue_name=resource.get_att("QueueName").to_string(), label=resource.node.path
                )
            )
    return made


def notify(alarms: list[cloudwatch.Alarm], topic: sns.ITopic, *, severity: str = "warning") -> None:
    """Send alarms to a topic with their severity tag, where no `Monitoring` exists (the pipeline stack)."""
    for alarm in alarms:
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
        Tags.of(alarm).add(SEVERITY_TAG, severity)
