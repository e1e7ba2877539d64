"""`SecretAgeWatch`: third-party keys are never rotated by us, so their age is measured daily and alarmed.

A function (`lambdas/secret_age`) publishes `CashTrace/Secrets SecretAgeDays` per secret: the days
since its current value was stored. Each secret's alarm fires above `max_age_days`, and also when
no age arrives for two days (the watch itself is broken, which its own error alarms say too).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration, Tags
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from cashtrace_constructs.function import PythonHandler, PythonHandlerProps
from cashtrace_constructs.secrets.isolation import ENVIRONMENT_TAG

AGE_METRIC_NAMESPACE = "CashTrace/Secrets"
AGE_METRIC = "SecretAgeDays"


@dataclass(frozen=True, kw_only=True)
class SecretAgeWatchProps:
    environment_name: str
    # Full name (cashtrace/<env>/<purpose>) -> the secret.
    secrets: Mapping[str, secretsmanager.ISecret]
    max_age_days: int
    vpc: ec2.IVpc
    encryption_key: kms.IKey
    subnets: ec2.SubnetSelection | None = None


class SecretAgeWatch(Construct):
    """A daily age measurement of each secret and one alarm per secret; `handler`, `alarms`."""

    def __init__(self, scope: Construct, construct_id: str, *, props: SecretAgeWatchProps) -> None:
        super().__init__(scope, construct_id)
        secrets = dict(sorted(props.secrets.items()))
        self.handler = PythonHandler(
            self,
            "Function",
            props=PythonHandlerProps(
                source="secret_age",
                description=f"Measures the age of CashTrace {props.environment_name} third-party keys",
                vpc=props.vpc,
                subnets=props.subnets,
                encryption_key=props.encryption_key,
                timeout_seconds=60,
                reserved_concurrency=1,
                environment={
                    "SECRETS": json.dumps({name: secret.secret_arn for name, secret in secrets.items()}),
                    "POWERTOOLS_METRICS_NAMESPACE": AGE_METRIC_NAMESPACE,
                },
            ),
        )
        function = self.handler.function
        Tags.of(function.role).add(ENVIRONMENT_TAG, props.environment_name)  # type: ignore[arg-type]
        function.add_to_role_policy(
            iam.PolicyStatement(
                # Metadata only: the age needs the versions' dates, never a value.
                actions=["secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds"],
                resources=[secret.secret_arn for secret in secrets.values()],
            )
        )
        self.schedule = events.Rule(
            self,
            "Daily",
            description=f"Measure the age of CashTrace {props.environment_name} third-party keys",
            schedule=events.Schedule.rate(Duration.days(1)),
            targets=[targets.LambdaFunction(function, retry_attempts=2, max_event_age=Duration.hours(6))],
        )
        self.alarms: list[cloudwatch.Alarm] = [
            cloudwatch.Alarm(
                self,
                "".join(part.capitalize() for part in name.rsplit("/", 1)[-1].split("-")) + "AgeAlarm",
                metric=cloudwatch.Metric(
                    namespace=AGE_METRIC_NAMESPACE,
                    metric_name=AGE_METRIC,
                    dimensions_map={"SecretName": name},
                    statistic="Maximum",
                    period=Duration.days(1),
                ),
                alarm_description=(
                    f"{name} is older than {props.max_age_days} days, or its age was not measured for two days: "
                    "ask its issuer for a new key and store it with `python -m tools.secret_manager set`"
                ),
                threshold=props.max_age_days,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=2,
                datapoints_to_alarm=2,
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            )
            for name in secrets
        ]
