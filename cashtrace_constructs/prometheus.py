"""Amazon Managed Service for Prometheus in the environment's region, and the ADOT collector sidecar.

The sidecar scrapes the app's metrics endpoint on localhost and remote-writes to the workspace
with SigV4; its configuration travels through an SSM parameter (ADOT's `AOT_CONFIG_CONTENT`),
so the task definition carries no plain environment variables for it.
"""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_aps as aps
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from cashtrace_constructs.config import MonitoringConfig
from cashtrace_constructs.log_retention import retention

COLLECTOR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector"
QUERY_ACTIONS = ("aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata")


class PrometheusWorkspace(Construct):
    """An AMP workspace encrypted with the environment key, logging to an encrypted log group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environment_name: str,
        encryption_key: kms.IKey,
        log_retention_days: int = 365,
    ) -> None:
        super().__init__(scope, construct_id)
        self.environment_name = environment_name
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=retention(log_retention_days, field="monitoring.log_retention_days"),
            encryption_key=encryption_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.workspace = aps.CfnWorkspace(
            self,
            "Workspace",
            alias=f"cashtrace-{environment_name}",
            kms_key_arn=encryption_key.key_arn,
            logging_configuration=aps.CfnWorkspace.LoggingConfigurationProperty(
                log_group_arn=self.log_group.log_group_arn
            ),
        )
        # A KMS-encrypted workspace cannot be re-keyed; replacing it would lose the series.
        self.workspace.apply_removal_policy(RemovalPolicy.RETAIN)

    @property
    def workspace_arn(self) -> str:
        return self.workspace.attr_arn

    @property
    def query_url(self) -> str:
        """The Prometheus-compatible endpoint (ends with a slash), for Grafana's data source."""
        return self.workspace.attr_prometheus_endpoint

    @property
    def remote_write_url(self) -> str:
        return f"{self.workspace.attr_prometheus_endpoint}api/v1/remote_write"

    def grant_remote_write(self, grantee: iam.IGrantable) -> iam.Grant:
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["aps:RemoteWrite"], resource_arns=[self.workspace_arn]
        )

    def grant_query(self, grantee: iam.IGrantable) -> iam.Grant:
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=list(QUERY_ACTIONS), resource_arns=[self.workspace_arn]
        )


def collector_config(
    *, region: str, remote_write_url: str, config: MonitoringConfig, job: str, environment: str
) -> str:
    """The ADOT collector configuration (JSON is YAML): one Prometheus scrape, one SigV4 remote write."""
    document = {
        "extensions": {"sigv4auth": {"region": region, "service": "aps"}},
        "receivers": {
            "prometheus": {
                "config": {
                    "global": {
                        "scrape_interval": f"{config.scrape_interval_seconds}s",
                        "scrape_timeout": f"{min(10, config.scrape_interval_seconds)}s",
                        "external_labels": {"environment": environment},
                    },
                    "scrape_configs": [
                        {
                            "job_name": job,
                            "metrics_path": config.metrics_path,
                            "static_configs": [{"targets": [f"localhost:{config.metrics_port}"]}],
                        }
                    ],
                }
            }
        },
        "processors": {"batch": {}},
        "exporters": {"prometheusremotewrite": {"endpoint": remote_write_url, "auth": {"authenticator": "sigv4auth"}}},
        "service": {
            "extensions": ["sigv4auth"],
            "pipelines": {
                "metrics": {
                    "receivers": ["prometheus"],
                    "processors": ["batch"],
                    "exporters": ["prometheusremotewrite"],
                }
            },
        },
    }
    return json.dumps(document, indent=1)


def add_prometheus_collector(
    task_definition: ecs.TaskDefinition,
    workspace: PrometheusWorkspace,
    *,
    config: MonitoringConfig,
    log_group: logs.ILogGroup,
    job: str = "cashtrace-api",
) -> ecs.ContainerDefinition:
    """Add the ADOT collector sidecar to `task_definition`; the task role may write to `workspace` only.

    The sidecar is not essential: a collector failure costs metrics, never the API's tasks.
    """
    stack = Stack.of(task_definition)
    parameter = ssm.StringParameter(
        task_definition,
        "PrometheusCollectorConfig",
        description=f"ADOT collector configuration for {job} ({workspace.environment_name})",
        string_value=collector_config(
            region=stack.region,
            remote_write_url=workspace.remote_write_url,
            config=config,
            job=job,
            environment=workspace.environment_name,
        ),
        tier=ssm.ParameterTier.STANDARD,
    )
    container = task_definition.add_container(
        "PrometheusCollector",
        image=ecs.ContainerImage.from_registry(f"{COLLECTOR_IMAGE}:{config.collector_image_tag}"),
        essential=False,
        memory_reservation_mib=128,
        secrets={"AOT_CONFIG_CONTENT": ecs.Secret.from_ssm_parameter(parameter)},
        logging=ecs.LogDriver.aws_logs(stream_prefix="prometheus-collector", log_group=log_group),
        readonly_root_filesystem=True,
    )
    # A managed policy, not a grant: the service's task role may have no inline policy (cdk-nag
    # IAMNoInlinePolicy), and this one permission names one workspace.
    iam.ManagedPolicy(
        task_definition,
        "PrometheusRemoteWrite",
        description=f"Remote write into the {workspace.environment_name} AMP workspace only",
        statements=[iam.PolicyStatement(actions=["aps:RemoteWrite"], resources=[workspace.workspace_arn])],
        roles=[task_definition.task_role],
    )
    return container
