"""`DeliveryMetrics`: deployment frequency, lead time, change failure rate and time to restore per environment.

A scheduled function reads the deployment record and publishes the metrics (embedded metric
format, namespace CashTrace/Delivery, dimension Environment); a dashboard shows them.
`make delivery-report` computes the same numbers from the same table.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from constructs import Construct

from cashtrace_constructs.function import PythonHandler, PythonHandlerProps

NAMESPACE = "CashTrace/Delivery"
# Metric name (as lambdas/delivery_metrics publishes it) -> dashboard title.
METRICS = {
    "DeploymentsPerWeek": "Deployments per week",
    "LeadTimeSeconds": "Lead time, commit to deployed (median, s)",
    "PipelineLeadTimeSeconds": "Lead time, pipeline start to deployed (median, s)",
    "ChangeFailureRate": "Change failure rate (%)",
    "TimeToRestoreSeconds": "Time to restore (median, s)",
    "UnrestoredFailures": "Failures not restored yet",
}


@dataclass(frozen=True, kw_only=True)
class DeliveryMetricsProps:
    """The deployment record to read, where the function runs, and which environments to measure."""

    table: dynamodb.ITableV2
    vpc: ec2.IVpc
    subnets: ec2.SubnetSelection
    encryption_key: kms.IKey
    environments: Sequence[str]
    # Environments whose deployments wait for a manual approval: a rejected one is no change.
    approval_gated: Sequence[str] = ()
    window_days: int = 30
    every_minutes: int = 60


class DeliveryMetrics(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, props: DeliveryMetricsProps) -> None:
        super().__init__(scope, construct_id)
        self.publisher = PythonHandler(
            self,
            "Publisher",
            props=PythonHandlerProps(
                source="delivery_metrics",
                description="Publishes delivery metrics per environment from the deployment record",
                vpc=props.vpc,
                subnets=props.subnets,
                encryption_key=props.encryption_key,
                reserved_concurrency=1,
                environment={
                    "TABLE_NAME": props.table.table_name,
                    "ENVIRONMENTS": json.dumps(list(props.environments)),
                    "APPROVAL_GATED": json.dumps(sorted(props.approval_gated)),
                    "WINDOW_DAYS": str(props.window_days),
                },
            ),
        )
        props.table.grant_read_data(self.publisher.function)
        self.schedule = events.Rule(
            self,
            "Schedule",
            description="Recomputes the delivery metrics",
            schedule=events.Schedule.rate(Duration.minutes(props.every_minutes)),
            targets=[targets.LambdaFunction(self.publisher.function, retry_attempts=2)],
        )
        period = Duration.minutes(props.every_minutes)
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            # A name people type in the console; one per pipeline account.
            dashboard_name="CashTrace-Delivery",
            default_interval=Duration.days(props.window_days),
            widgets=[
                [
                    cloudwatch.GraphWidget(
                        title=title,
                        width=8,
                        left=[
                            cloudwatch.Metric(
                                namespace=NAMESPACE,
                                metric_name=name,
                                dimensions_map={"Environment": environment},
                                statistic="Maximum",
                                period=period,
                                label=environment,
                            )
                            for environment in props.environments
                        ],
                    )
                    for name, title in METRICS.items()
                ]
            ],
        )
