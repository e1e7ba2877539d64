"""Grafana on Fargate: its internal load balancer and access logs, its state and its task roles."""

from __future__ import annotations

from aws_cdk import Stack

from cashtrace_constructs.config import EnvironmentConfig
from stacks.acknowledgments.rules import (
    BUCKET_LOGGING,
    INLINE_POLICY,
    KMS_DEFAULT_ENCRYPTION,
    PLAIN_HTTP_LISTENER,
    REPLICATION,
    NagAcknowledgment,
    acknowledged,
    nist,
    nist_and_pci,
    solutions,
    wildcard,
)

GRAFANA = "Grafana"


def grafana(config: EnvironmentConfig, stack: Stack) -> list[NagAcknowledgment]:
    entries = [
        *acknowledged(
            f"{GRAFANA}/State/Resource",
            nist("EFSInBackupPlan"),
            reason="EFS automatic backups are on (BackupPolicy ENABLED): AWS Backup's "
            "aws/efs/automatic-backup-plan takes daily backups in-region. The file system holds Grafana's "
            "users and preferences only.",
        ),
        *acknowledged(
            f"{GRAFANA}/LoadBalancer/Resource",
            *nist_and_pci("ALBWAFEnabled"),
            reason="Internal load balancer in private subnets, reachable only from the VPC CIDR (operators "
            "over VPN or SSM port forwarding) and in front of a login-protected Grafana; no internet path.",
        ),
        *acknowledged(
            f"{GRAFANA}/AccessLogs/Resource",
            *BUCKET_LOGGING,
            *KMS_DEFAULT_ENCRYPTION,
            *REPLICATION,
            reason="This bucket receives the Grafana load balancer's access logs: ALB log delivery supports "
            "SSE-S3 only (no KMS key), logging a log bucket would recurse, and replication is left "
            "off because a copy in another region would break residency (Property 7).",
        ),
        *acknowledged(
            f"{GRAFANA}/Task/TaskRole/DefaultPolicy/Resource",
            wildcard("Resource::*"),
            reason="Read-only calls that take no resource in IAM: CloudWatch metric and alarm reads "
            "(GetMetricData, ListMetrics, DescribeAlarms*), logs:DescribeLogGroups, the query controls "
            "logs:StopQuery/GetQueryResults, tag:GetResources, ec2:DescribeRegions. Log reads and queries "
            "(StartQuery, GetLogEvents, ...) are scoped to the API's log group.",
        ),
        *acknowledged(
            f"{GRAFANA}/Task/Resource",
            solutions("ECS2"),
            reason="Grafana's plain environment is non-secret settings (GF_* flags, region, AMP query URL) and "
            "the provisioning files of monitoring/grafana/; the admin password comes from Secrets Manager.",
        ),
    ]
    for role in ("TaskRole", "ExecutionRole"):
        entries += acknowledged(
            f"{GRAFANA}/Task/{role}/DefaultPolicy/Resource",
            *INLINE_POLICY,
            reason="CDK grants of Grafana's single-purpose task roles (its secret, log group, EFS access "
            "point, AMP workspace); an inline policy on a one-service role is the auditable form.",
        )
    if not config.endpoint.tls:
        entries += acknowledged(
            f"{GRAFANA}/LoadBalancer/Http/Resource",
            *PLAIN_HTTP_LISTENER,
            reason="Internal-only listener (VPC CIDR) of an environment whose config sets endpoint.plain_http=True "
            "(dev only, synthetic data); with TLS configured it is HTTPS on the certificate's grafana. name.",
        )
    return entries
