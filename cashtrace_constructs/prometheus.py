"""Amazon Managed Service for Prometheus in the environment's region, and the ADOT collector's configuration.

The collector is a sidecar of the service it scrapes (`BlueGreenService.add_metrics_collector`):
it reads the app's metrics endpoint on localhost and remote-writes to the workspace with SigV4.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_aps as aps
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from cashtrace_constructs.config import MonitoringConfig
from cashtrace_constructs.log_retention import retention

COLLECTOR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector"
# The unprivileged uid the ADOT collector image is built to run as; it writes no files.
COLLECTOR_USER = "10001"
QUERY_ACTIONS = ("aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata")


@dataclass(frozen=True, kw_only=True)
class PrometheusWorkspaceProps:
    environment_name: str
    encryption_key: kms.IKey
    log_retention_days: int = 365


class PrometheusWorkspace(Construct):
    """An AMP workspace encrypted with the environment key, logging to an encrypted log group."""

    def __init__(self, scope: Construct, construct_id: str, *, props: PrometheusWorkspaceProps) -> None:
        super().__init__(scope, construct_id)
        environment_name, encryption_key = props.environment_name, props.encryption_key
        self.environment_name = environment_name
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=retention(props.log_retention_days, field="monitoring.log_retention_days"),
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
