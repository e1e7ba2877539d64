"""How the database logins rotate, and the alarm that says a rotation of any secret failed.

The master login (administration only) rotates in place with AWS's hosted `PostgreSQLSingleUser`
function. The API's login rotates with hosted `PostgreSQLMultiUser` (alternating users): each
rotation sets a new password on the *other* of two users (`cashtrace_api`, `cashtrace_api_clone`)
and only then makes it current, so the user and password a running task read at start keep
working through the next rotation period (docs/secrets.md, "Rotation without interruption").
Both functions are made by a CloudFormation transform, so their names are set here: the alarms
need them.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from cashtrace_constructs.monitoring.functions import FunctionAlarms, function_alarms

ROTATION_METRIC_NAMESPACE = "CashTrace/Secrets"
# What Secrets Manager records (as AWS service events in CloudTrail) when a rotation goes wrong.
ROTATION_FAILURE_EVENTS: tuple[str, ...] = ("RotationFailed", "RotationAbandoned", "TestRotationFailed")


def hosted_rotation_function_name(environment_name: str, purpose: str) -> str:
    """`cashtrace-<env>-<purpose>-rotation`: the hosted function's name, which its alarms watch."""
    return f"cashtrace-{environment_name}-{purpose}-rotation"


def hosted_postgres_rotation(
    *,
    vpc: ec2.IVpc,
    subnets: ec2.SubnetSelection,
    security_group: ec2.ISecurityGroup,
    function_name: str,
    master_secret: secretsmanager.ISecret | None = None,
) -> secretsmanager.HostedRotation:
    """Single-user rotation for a login that changes its own password, alternating users given its master."""
    if master_secret is None:
        return secretsmanager.HostedRotation.postgre_sql_single_user(
            vpc=vpc, vpc_subnets=subnets, security_groups=[security_group], function_name=function_name
        )
    return secretsmanager.HostedRotation.postgre_sql_multi_user(
        master_secret=master_secret,
        vpc=vpc,
        vpc_subnets=subnets,
        security_groups=[security_group],
        function_name=function_name,
    )


def rotation_security_group(
    scope: Construct, vpc: ec2.IVpc, environment_name: str, instance: rds.DatabaseInstance, port: int
) -> ec2.ISecurityGroup:
    """The one group both hosted functions run in (made on first use), admitted by the instance on `port`."""
    existing = scope.node.try_find_child("DatabaseRotationSecurityGroup")
    if isinstance(existing, ec2.SecurityGroup):
        return existing
    # Our own group: CDK's default one is described by its construct path, which differs between
    # a top-level and a pipeline-staged stack and would replace it (logical_ids.py).
    group = ec2.SecurityGroup(
        scope,
        "DatabaseRotationSecurityGroup",
        vpc=vpc,
        description=f"Managed rotation of the CashTrace {environment_name} database credentials",
    )
    instance.connections.allow_from(group, ec2.Port.tcp(port), "Managed rotation of the database credentials")
    return group


def rotation_failure_pattern(secret: secretsmanager.ISecret, name: str) -> str:
    """CloudTrail JSON filter: a failed, abandoned or failed-test rotation of this one secret (ARN or name)."""
    events = " || ".join(f'($.eventName = "{event}")' for event in ROTATION_FAILURE_EVENTS)
    return (
        '{ ($.eventSource = "secretsmanager.amazonaws.com") && ('
        + events
        + ") && (($.additionalEventData.SecretId = "
        + f'"{secret.secret_arn}") || ($.additionalEventData.SecretId = "{name}")) }}'
    )


def rotation_failure_alarm(
    scope: Construct, construct_id: str, *, trail_logs: logs.ILogGroup, secret: secretsmanager.ISecret, name: str
) -> cloudwatch.Alarm:
    """An alarm on the first failed rotation of `secret`, counted from the audit trail's log group."""
    purpose = name.rsplit("/", 1)[-1]
    metric_filter = logs.MetricFilter(
        scope,
        f"{construct_id}Filter",
        log_group=trail_logs,
        filter_pattern=logs.FilterPattern.literal(rotation_failure_pattern(secret, name)),
        metric_namespace=ROTATION_METRIC_NAMESPACE,
        metric_name=f"RotationFailed-{purpose}",
        metric_value="1",
    )
    return cloudwatch.Alarm(
        scope,
        construct_id,
        metric=metric_filter.metric(statistic=cloudwatch.Stats.SUM, period=Duration.minutes(5)),
        alarm_description=f"Rotation of {name} failed; its current value still works (docs/secrets.md#rotation)",
        threshold=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )


def hosted_function_alarms(scope: Construct, *, function_name: str, label: str) -> FunctionAlarms:
    """Errors and throttles of a transform-made rotation function (no dead-letter queue: Secrets Manager retries)."""
    return function_alarms(scope, function_name=function_name, label=label)


@dataclass(frozen=True)
class LoginRotation:
    schedule: secretsmanager.RotationSchedule
    alarms: tuple[cloudwatch.Alarm, ...]


def rotate_postgres_login(
    scope: Construct,
    *,
    login: secretsmanager.ISecret,
    purpose: str,
    environment_name: str,
    days: int,
    vpc: ec2.IVpc,
    subnets: ec2.SubnetSelection,
    security_group: ec2.ISecurityGroup,
    master: secretsmanager.ISecret | None,
    trail_logs: logs.ILogGroup,
) -> LoginRotation:
    """A hosted rotation of `login` every `days`, with its function's alarms and its failure alarm."""
    function_name = hosted_rotation_function_name(environment_name, purpose)
    hosted = hosted_postgres_rotation(
        vpc=vpc, subnets=subnets, security_group=security_group, function_name=function_name, master_secret=master
    )
    schedule = login.add_rotation_schedule("Rotation", hosted_rotation=hosted, automatically_after=Duration.days(days))
    label = f"cashtrace/{environment_name}/{purpose}"
    alarm_id = "".join(part.capitalize() for part in purpose.split("-"))
    function = hosted_function_alarms(
        Construct(scope, f"{alarm_id}RotationAlarms"), function_name=function_name, label=f"Hosted rotation of {label}"
    )
    failed = rotation_failure_alarm(
        scope, f"{alarm_id}SecretRotationFailedAlarm", trail_logs=trail_logs, secret=login, name=label
    )
    return LoginRotation(schedule=schedule, alarms=(*function.all, failed))
