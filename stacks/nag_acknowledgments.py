"""Every acknowledged cdk-nag finding, with its reason: the one place a reviewer reads them.

Each entry names one construct by its path inside an environment stack (a `*` matches one
path segment, for resources CDK creates once per AZ or per endpoint) and one rule. An entry
whose path no longer matches anything fails synthesis, so this list cannot silently go stale.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

from cashtrace_constructs.errors import DeploymentError, ErrorCode


@dataclass(frozen=True)
class NagAcknowledgment:
    path: str
    rule: str
    reason: str
    environments: tuple[str, ...] = ("dev", "staging", "prod")


NETWORK: list[NagAcknowledgment] = [
    *(
        NagAcknowledgment(
            "Network/Vpc/publicSubnet*/DefaultRoute",
            rule,
            "The public subnets exist for the internet-facing load balancer and the NAT gateways; "
            "their route to the internet gateway is their purpose. Tasks and data stores sit in "
            "private and isolated subnets without such a route.",
        )
        for rule in (
            "NIST.800.53.R5::NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW",
            "PCI.DSS.321::PCI.DSS.321-VPCNoUnrestrictedRouteToIGW",
        )
    ),
    *(
        NagAcknowledgment(
            "Network/Vpc/All/IAMRole/DefaultPolicy/Resource",
            rule,
            "CDK generates this flow-log delivery policy scoped to the one flow-log group; an inline "
            "policy on a single-purpose service role is easier to audit than a shared managed policy.",
        )
        for rule in (
            "NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy",
            "PCI.DSS.321::PCI.DSS.321-IAMNoInlinePolicy",
        )
    ),
]


def function_baseline(path: str) -> list[NagAcknowledgment]:
    """What every `PythonHandler` at `path` needs acknowledged, and why."""
    return [
        *(
            NagAcknowledgment(
                f"{path}/Function/ServiceRole/Resource",
                f"AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/{policy}]",
                "AWSLambdaBasicExecutionRole and AWSLambdaVPCAccessExecutionRole are AWS's minimal "
                "policies for logging and for the ENIs a VPC function needs; ENI actions cannot be "
                "scoped to resources.",
            )
            for policy in ("AWSLambdaBasicExecutionRole", "AWSLambdaVPCAccessExecutionRole")
        ),
        NagAcknowledgment(
            f"{path}/Function/ServiceRole/DefaultPolicy/Resource",
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            "X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) supports no resource-level permissions.",
        ),
        *(
            NagAcknowledgment(
                f"{path}/Function/ServiceRole/DefaultPolicy/Resource",
                rule,
                "CDK grants of this one function (its DLQ, its key, the calls it makes), scoped to "
                "named resources; an inline policy on a single-purpose role is the auditable form.",
            )
            for rule in (
                "NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy",
                "PCI.DSS.321::PCI.DSS.321-IAMNoInlinePolicy",
            )
        ),
    ]


# One list per capability; each issue's constructs add theirs, and ALL is what stacks apply.
SERVICE: list[NagAcknowledgment] = []

DATA: list[NagAcknowledgment] = []

SECRETS: list[NagAcknowledgment] = []

MONITORING: list[NagAcknowledgment] = [
    *(
        NagAcknowledgment(
            "Grafana/AdminSecret/Resource",
            rule,
            "Grafana keeps its own hash of the admin password and reads this secret only on first "
            "start; a Secrets Manager rotation would not change the login. Operators rotate it in "
            "Grafana and here together (docs/monitoring.md).",
        )
        for rule in ("AwsSolutions::AwsSolutions-SMG4", "NIST.800.53.R5::NIST.800.53.R5-SecretsManagerRotationEnabled")
    ),
    NagAcknowledgment(
        "Grafana/State/Resource",
        "NIST.800.53.R5::NIST.800.53.R5-EFSInBackupPlan",
        "EFS automatic backups are on (BackupPolicy ENABLED): AWS Backup's aws/efs/automatic-backup-plan "
        "takes daily backups in-region. The file system holds Grafana's users and preferences only.",
    ),
    *(
        NagAcknowledgment(
            "Grafana/LoadBalancer/Resource",
            rule,
            "Internal load balancer in private subnets, reachable only from the VPC CIDR (operators "
            "over VPN or SSM port forwarding) and in front of a login-protected Grafana; no internet path.",
        )
        for rule in ("NIST.800.53.R5::NIST.800.53.R5-ALBWAFEnabled", "PCI.DSS.321::PCI.DSS.321-ALBWAFEnabled")
    ),
    # Until an ACM certificate is configured (monitoring.grafana_certificate_arn) the internal
    # listener is HTTP. With a certificate the listener is HTTPS and these paths stop matching,
    # which fails synthesis until these entries are removed.
    *(
        NagAcknowledgment(
            "Grafana/LoadBalancer/Http/Resource",
            rule,
            "Internal-only listener (VPC CIDR) while the environment has no certificate for Grafana; "
            "setting monitoring.grafana_certificate_arn switches it to HTTPS with a TLS 1.2+ policy.",
        )
        for rule in (
            "NIST.800.53.R5::NIST.800.53.R5-ELBv2ACMCertificateRequired",
            "PCI.DSS.321::PCI.DSS.321-ELBv2ACMCertificateRequired",
            "NIST.800.53.R5::NIST.800.53.R5-ALBHttpToHttpsRedirection",
            "PCI.DSS.321::PCI.DSS.321-ALBHttpToHttpsRedirection",
        )
    ),
    *(
        NagAcknowledgment(
            "Grafana/AccessLogs/Resource",
            rule,
            "This bucket receives the Grafana load balancer's access logs: ALB log delivery supports "
            "SSE-S3 only (no KMS key), logging a log bucket would recurse, and replication is left "
            "off because a copy in another region would break residency (Property 7).",
        )
        for rule in (
            "AwsSolutions::AwsSolutions-S1",
            "NIST.800.53.R5::NIST.800.53.R5-S3BucketLoggingEnabled",
            "PCI.DSS.321::PCI.DSS.321-S3BucketLoggingEnabled",
            "NIST.800.53.R5::NIST.800.53.R5-S3DefaultEncryptionKMS",
            "PCI.DSS.321::PCI.DSS.321-S3DefaultEncryptionKMS",
            "NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled",
            "PCI.DSS.321::PCI.DSS.321-S3BucketReplicationEnabled",
        )
    ),
    *(
        NagAcknowledgment(
            f"Grafana/Task/{role}/DefaultPolicy/Resource",
            rule,
            "CDK grants of Grafana's single-purpose task roles (its secret, log group, EFS access "
            "point, AMP workspace); an inline policy on a one-service role is the auditable form.",
        )
        for role in ("TaskRole", "ExecutionRole")
        for rule in ("NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy", "PCI.DSS.321::PCI.DSS.321-IAMNoInlinePolicy")
    ),
    NagAcknowledgment(
        "Grafana/Task/TaskRole/DefaultPolicy/Resource",
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        "Grafana's CloudWatch data source needs cloudwatch:GetMetricData/ListMetrics/DescribeAlarms* "
        "and Logs Insights queries, which support no resource-level permissions; all are read-only.",
    ),
    NagAcknowledgment(
        "Grafana/Task/Resource",
        "AwsSolutions::AwsSolutions-ECS2",
        "Grafana's plain environment is non-secret settings (GF_* flags, region, AMP query URL) and "
        "the provisioning files of monitoring/grafana/; the admin password comes from Secrets Manager.",
    ),
]

PIPELINE: list[NagAcknowledgment] = []

CI: list[NagAcknowledgment] = []

ALL: list[NagAcknowledgment] = [*NETWORK, *SERVICE, *DATA, *SECRETS, *MONITORING, *CI]


def _matching(root: IConstruct, path: str) -> list[IConstruct]:
    nodes = [root]
    for segment in path.split("/"):
        nodes = [child for node in nodes for child in node.node.children if fnmatch.fnmatchcase(child.node.id, segment)]
    return nodes


def acknowledge(stack: Stack, environment: str, acknowledgments: Iterable[NagAcknowledgment] = ALL) -> None:
    """Apply the acknowledgments that concern `environment` to `stack`; refuse stale ones."""
    for entry in acknowledgments:
        if environment not in entry.environments:
            continue
        targets = _matching(stack, entry.path)
        if not targets:
            raise DeploymentError(
                ErrorCode.CONFIG_INVALID,
                f"acknowledgment of {entry.rule} names {entry.path!r}, which is not in {stack.node.path}; "
                "remove or update it",
                field="nag_acknowledgments",
            )
        for target in targets:
            Validations.of(target).acknowledge(Acknowledgment(id=entry.rule, reason=entry.reason))
