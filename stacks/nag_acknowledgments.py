"""Every acknowledged cdk-nag finding, with its reason: the one place a reviewer reads them.

Each entry names one construct by its path inside an environment stack (a `*` matches one
path segment, for resources CDK creates once per AZ or per endpoint) and one rule. An entry
whose path no longer matches anything fails synthesis, so this list cannot silently go stale.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, replace

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

from cashtrace_constructs.config import StrategyType
from cashtrace_constructs.errors import DeploymentError, ErrorCode


@dataclass(frozen=True)
class NagAcknowledgment:
    path: str
    rule: str
    reason: str
    environments: tuple[str, ...] = ("dev", "staging", "prod")
    # Constructs that exist only under some deployment strategies (CodeDeploy's, for instance).
    strategies: tuple[StrategyType, ...] = tuple(StrategyType)


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
_INLINE_POLICY_RULES = (
    "NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy",
    "PCI.DSS.321::PCI.DSS.321-IAMNoInlinePolicy",
)
_NO_CERTIFICATE = (
    "No ACM certificate is configured for this environment yet (ServiceConfig.certificate_arn is None), "
    "so the listener serves HTTP. Setting certificate_arn switches production to HTTPS on 443 with an "
    "80->443 redirect and the test listener to HTTPS; docs/service.md lists this as a go-live step."
)
_DEPLOYMENT_PROVIDER = (
    "Custom-resource provider of cdklabs.ecs-codedeploy's EcsDeployment (Lambda functions, waiter state "
    "machine, their roles and log groups). It only calls the CodeDeploy API while `cdk deploy` runs, handles "
    "no user data, and the package exposes no props for VPC, DLQ, concurrency, KMS or logging; forking it "
    "to change that would lose upstream fixes."
)
_ALB_LOG_BUCKETS = ("Api/AccessLogs/Resource", "Api/ServerAccessLogs/Resource")

SERVICE: list[NagAcknowledgment] = [
    NagAcknowledgment(
        "Api/LoadBalancerSecurityGroup/Resource",
        "AwsSolutions::AwsSolutions-EC23",
        "The internet-facing API load balancer accepts 80/443 from anywhere; WAF (managed rule groups) "
        "filters the traffic. The test listener port only admits the VPC's NAT addresses.",
    ),
    *(
        NagAcknowledgment(
            "Api/TestListenerIngress*",
            rule,
            "The source is one NAT gateway's Elastic IP as a /32 (Fn::GetAtt, known only at deploy time), "
            "so the rule cannot evaluate it; it admits only the deploy hook's egress address, on the test port only.",
        )
        for rule in (
            "AwsSolutions::AwsSolutions-EC23",
            "NIST.800.53.R5::NIST.800.53.R5-EC2RestrictedCommonPorts",
            "NIST.800.53.R5::NIST.800.53.R5-EC2RestrictedSSH",
            "PCI.DSS.321::PCI.DSS.321-EC2RestrictedCommonPorts",
            "PCI.DSS.321::PCI.DSS.321-EC2RestrictedSSH",
        )
    ),
    NagAcknowledgment(
        "Api/TaskDefinition/Resource",
        "AwsSolutions::AwsSolutions-ECS2",
        "Plain environment variables carry non-secret settings (PORT, LOG_LEVEL); secrets are injected "
        "through the container's `secrets` (Secrets Manager), never as environment values.",
    ),
    NagAcknowledgment(
        "Api/TaskDefinition/ExecutionRole/DefaultPolicy/Resource",
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        "ecr:GetAuthorizationToken supports no resource-level permission; pulls are scoped to the one repository.",
    ),
    *(
        NagAcknowledgment(
            path,
            rule,
            "CDK grants of one single-purpose role (image pull, log writing / the CodeDeploy service role's "
            "hook invoke), scoped to named resources; the inline form is the auditable one.",
        )
        for path in (
            "Api/TaskDefinition/ExecutionRole/DefaultPolicy/Resource",
            "Api/DeploymentGroup/ServiceRole/DefaultPolicy/Resource",
        )
        for rule in _INLINE_POLICY_RULES
    ),
    NagAcknowledgment(
        "Api/DeploymentGroup/ServiceRole/Resource",
        "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSCodeDeployRoleForECS]",
        "AWS's managed policy for CodeDeploy ECS blue/green is the documented service role; it tracks new "
        "CodeDeploy features that a hand-written copy would miss.",
    ),
    NagAcknowledgment(
        "Api/DeploymentGroup/ServiceRole/DefaultPolicy/Resource",
        "AwsSolutions::AwsSolutions-IAM5[Resource::<ApiHealthCheckHookFunctionA78F4ECC.Arn>:*]",
        "lambda:InvokeFunction on the one hook function and its versions (`:*`), as CDK's grantInvoke writes it.",
    ),
    *function_baseline("Api/HealthCheckHook"),
    *(
        NagAcknowledgment(path, rule, reason)
        for path in _ALB_LOG_BUCKETS
        for rule, reason in (
            (
                "PCI.DSS.321::PCI.DSS.321-S3DefaultEncryptionKMS",
                "ALB access logs can only be delivered to SSE-S3 (AES-256) buckets; AWS does not support SSE-KMS "
                "for them. The server-access-log bucket holds logs of that bucket under the same limitation.",
            ),
            (
                "NIST.800.53.R5::NIST.800.53.R5-S3DefaultEncryptionKMS",
                "ALB access logs can only be delivered to SSE-S3 (AES-256) buckets; AWS does not support SSE-KMS "
                "for them. The server-access-log bucket holds logs of that bucket under the same limitation.",
            ),
            (
                "PCI.DSS.321::PCI.DSS.321-S3BucketReplicationEnabled",
                "Request logs stay in af-south-1 (Property 7); the bucket is versioned and retained, and a "
                "replica in another region is exactly what data residency forbids.",
            ),
            (
                "NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled",
                "Request logs stay in af-south-1 (Property 7); the bucket is versioned and retained, and a "
                "replica in another region is exactly what data residency forbids.",
            ),
        )
    ),
    *(
        NagAcknowledgment(
            "Api/ServerAccessLogs/Resource",
            rule,
            "This bucket receives the server access logs of the "
            "ALB access-log bucket; logging it into itself or a third bucket would recurse.",
        )
        for rule in (
            "AwsSolutions::AwsSolutions-S1",
            "PCI.DSS.321::PCI.DSS.321-S3BucketLoggingEnabled",
            "NIST.800.53.R5::NIST.800.53.R5-S3BucketLoggingEnabled",
        )
    ),
    *(
        NagAcknowledgment(f"Api/LoadBalancer/{listener}/Resource", rule, _NO_CERTIFICATE)
        for listener in ("ProductionListener", "TestListener")
        for rule in (
            "PCI.DSS.321::PCI.DSS.321-ALBHttpToHttpsRedirection",
            "NIST.800.53.R5::NIST.800.53.R5-ALBHttpToHttpsRedirection",
            "PCI.DSS.321::PCI.DSS.321-ELBv2ACMCertificateRequired",
            "NIST.800.53.R5::NIST.800.53.R5-ELBv2ACMCertificateRequired",
        )
    ),
    *(
        NagAcknowledgment(path, rule, _DEPLOYMENT_PROVIDER)
        for path, rules in (
            (
                "Api/DeploymentGroup/Deployment/*/Resource",
                (
                    "PCI.DSS.321::PCI.DSS.321-LambdaInsideVPC",
                    "NIST.800.53.R5::NIST.800.53.R5-LambdaInsideVPC",
                    "NIST.800.53.R5::NIST.800.53.R5-LambdaConcurrency",
                    "NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ",
                ),
            ),
            (
                "Api/DeploymentGroup/Deployment/DeploymentProvider/framework-*/Resource",
                (
                    "PCI.DSS.321::PCI.DSS.321-LambdaInsideVPC",
                    "NIST.800.53.R5::NIST.800.53.R5-LambdaInsideVPC",
                    "NIST.800.53.R5::NIST.800.53.R5-LambdaConcurrency",
                    "NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ",
                ),
            ),
            ("Api/DeploymentGroup/Deployment/*/Resource", ("AwsSolutions::AwsSolutions-L1",)),
            (
                "Api/DeploymentGroup/Deployment/*/ServiceRole/Resource",
                (
                    "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AWSLambdaBasicExecutionRole]",
                ),
            ),
            (
                "Api/DeploymentGroup/Deployment/DeploymentProvider/framework-*/ServiceRole/Resource",
                (
                    "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AWSLambdaBasicExecutionRole]",
                ),
            ),
            (
                "Api/DeploymentGroup/Deployment/DeploymentProvider/framework-*/ServiceRole/DefaultPolicy/Resource",
                (
                    "AwsSolutions::AwsSolutions-IAM5[Resource::<ApiDeploymentGroupDeploymentDeploymentProvider"
                    "IsCompleteLambda7EC5A4CF.Arn>:*]",
                    "AwsSolutions::AwsSolutions-IAM5[Resource::<ApiDeploymentGroupDeploymentDeploymentProvider"
                    "OnEventLambda5A2C1C2E.Arn>:*]",
                ),
            ),
            (
                "Api/DeploymentGroup/Deployment/DeploymentProvider/waiter-state-machine/Role/DefaultPolicy/Resource",
                (
                    "AwsSolutions::AwsSolutions-IAM5[Resource::<ApiDeploymentGroupDeploymentDeploymentProvider"
                    "frameworkisCompleteE40E40A9.Arn>:*]",
                    "AwsSolutions::AwsSolutions-IAM5[Resource::<ApiDeploymentGroupDeploymentDeploymentProvider"
                    "frameworkonTimeoutAA8B0A7D.Arn>:*]",
                ),
            ),
            (
                "Api/DeploymentGroup/Deployment/*/LogGroup/Resource",
                (
                    "PCI.DSS.321::PCI.DSS.321-CloudWatchLogGroupEncrypted",
                    "NIST.800.53.R5::NIST.800.53.R5-CloudWatchLogGroupEncrypted",
                ),
            ),
            (
                "Api/DeploymentGroup/Deployment/DeploymentProvider/framework-*/LogGroup/Resource",
                (
                    "PCI.DSS.321::PCI.DSS.321-CloudWatchLogGroupEncrypted",
                    "NIST.800.53.R5::NIST.800.53.R5-CloudWatchLogGroupEncrypted",
                ),
            ),
            ("Api/DeploymentGroup/Deployment/*/ServiceRole/DefaultPolicy/Resource", _INLINE_POLICY_RULES),
            (
                "Api/DeploymentGroup/Deployment/DeploymentProvider/*/ServiceRole/DefaultPolicy/Resource",
                _INLINE_POLICY_RULES,
            ),
            (
                "Api/DeploymentGroup/Deployment/DeploymentProvider/waiter-state-machine/Role/DefaultPolicy/Resource",
                _INLINE_POLICY_RULES,
            ),
            (
                "Api/DeploymentGroup/Deployment/DeploymentProvider/waiter-state-machine/Resource",
                ("AwsSolutions::AwsSolutions-SF1", "AwsSolutions::AwsSolutions-SF2"),
            ),
        )
        for rule in rules
    ),
]


def _both(
    path: str, nist: str, pci: str | None, reason: str, environments: tuple[str, ...] = ("dev", "staging", "prod")
) -> list[NagAcknowledgment]:
    rules = [f"NIST.800.53.R5::NIST.800.53.R5-{nist}", *([f"PCI.DSS.321::PCI.DSS.321-{pci}"] if pci else [])]
    return [NagAcknowledgment(path, rule, reason, environments) for rule in rules]


_NO_REPLICATION = (
    "Replication would copy the objects to a second bucket; a cross-region one is forbidden by "
    "Property 7 (data residency) and a same-region one adds nothing to versioning in the same region. "
    "Versioning and the RETAIN removal policy protect against deletion."
)
_ACCESS_LOGS_SSE_S3 = (
    "S3 delivers server access logs only to buckets encrypted with S3-managed keys (SSE-S3); a KMS "
    "default would make log delivery fail."
)
_ROTATION_WITH_ISSUE_5 = (
    "Rotation of this generated secret is added by the secrets capability (issue 5, EnvironmentSecrets), "
    "which owns rotation schedules and rotation functions for every secret of the environment."
)

DATA: list[NagAcknowledgment] = [
    # Sizes that production needs and dev/staging deliberately do without (config.DataConfig).
    *(
        NagAcknowledgment(
            "Database/Instance/Resource",
            rule,
            "Single-AZ outside production to halve the cost; production runs Multi-AZ and config "
            "validation refuses a production config without it.",
            ("dev", "staging"),
        )
        for rule in ("AwsSolutions::AwsSolutions-RDS3", "NIST.800.53.R5::NIST.800.53.R5-RDSMultiAZSupport")
    ),
    *(
        NagAcknowledgment(
            "Database/Instance/Resource",
            rule,
            "Dev holds synthetic data and is torn down freely; staging and production have deletion "
            "protection and config validation refuses a production config without it.",
            ("dev",),
        )
        for rule in (
            "AwsSolutions::AwsSolutions-RDS10",
            "NIST.800.53.R5::NIST.800.53.R5-RDSInstanceDeletionProtectionEnabled",
        )
    ),
    NagAcknowledgment(
        "Cache/ReplicationGroup",
        "AwsSolutions::AwsSolutions-AEC4",
        "The cache holds only re-computable data; outside production a single AZ is enough. "
        "Production runs Multi-AZ with automatic failover (config validation requires it).",
        ("dev", "staging"),
    ),
    *(
        NagAcknowledgment(path, rule, _ROTATION_WITH_ISSUE_5)
        for path in ("Secrets/DatabaseSecret/Resource", "Secrets/CacheAuthTokenSecret/Resource")
        for rule in ("AwsSolutions::AwsSolutions-SMG4", "NIST.800.53.R5::NIST.800.53.R5-SecretsManagerRotationEnabled")
    ),
    NagAcknowledgment(
        "Database/Instance/MonitoringRole/Resource",
        "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]",
        "AWS's own minimal policy for RDS Enhanced Monitoring to write OS metrics to CloudWatch Logs.",
    ),
    NagAcknowledgment(
        "Backups/Plan/Database/Role/Resource",
        "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]",
        "AWS Backup's own service-role policy, maintained by AWS as the services it backs up change; "
        "the role can be assumed by backup.amazonaws.com only.",
    ),
    NagAcknowledgment(
        "Backups/RestoreTestingRole/Resource",
        "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores]",
        "AWS Backup's own restore policy (restoring an RDS snapshot needs the RDS and KMS grant "
        "calls it lists); the role can be assumed by backup.amazonaws.com only.",
    ),
    *(
        entry
        for entry in function_baseline("Backups/Validator")
        if entry.rule != "AwsSolutions::AwsSolutions-IAM5[Resource::*]"
    ),
    NagAcknowledgment(
        "Backups/Validator/Function/ServiceRole/DefaultPolicy/Resource",
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        "X-Ray tracing and backup:DescribeRestoreJob / backup:PutRestoreValidationResult support no "
        "resource-level permissions (restore jobs have no ARN).",
    ),
    NagAcknowledgment(
        "Backups/Validator/Function/ServiceRole/DefaultPolicy/Resource",
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:db:*]",
        "Read-only rds:DescribeDBInstances on this account's instances in this region: restored copies "
        "get identifiers chosen by AWS Backup at restore time.",
    ),
    *(
        entry
        for path in (
            "Storage/Bucket/Resource",
            "Storage/AccessLogs/Resource",
            "StaticAssets/Bucket/Resource",
            "StaticAssets/AccessLogs/Resource",
        )
        for entry in _both(path, "S3BucketReplicationEnabled", "S3BucketReplicationEnabled", _NO_REPLICATION)
    ),
    *(
        entry
        for path in ("Storage/AccessLogs/Resource", "StaticAssets/AccessLogs/Resource")
        for entry in _both(path, "S3DefaultEncryptionKMS", "S3DefaultEncryptionKMS", _ACCESS_LOGS_SSE_S3)
    ),
    *_both(
        "StaticAssets/Bucket/Resource",
        "S3DefaultEncryptionKMS",
        "S3DefaultEncryptionKMS",
        "The bucket holds only the public web build, served to anyone through CloudFront; it is "
        "encrypted at rest with S3-managed keys. A KMS key would need a key policy letting every "
        "CloudFront distribution of the account decrypt it, which protects nothing more.",
    ),
    NagAcknowledgment(
        "StaticAssets/Distribution/Resource",
        "AwsSolutions::AwsSolutions-CFR1",
        "Public static assets (JavaScript, CSS, images) for customers who may travel; no user data is "
        "behind this distribution, so restricting countries protects nothing.",
    ),
    NagAcknowledgment(
        "StaticAssets/Distribution/Resource",
        "AwsSolutions::AwsSolutions-CFR2",
        "A CloudFront web ACL must be created in us-east-1; this app deploys only to af-south-1 "
        "(residency). The origin is a private bucket of read-only public files behind OAC; WAF for "
        "the API sits on the regional load balancer (service capability).",
    ),
    NagAcknowledgment(
        "StaticAssets/Distribution/Resource",
        "AwsSolutions::AwsSolutions-CFR3",
        "CloudFront standard logs cannot be delivered to buckets in af-south-1 (an opt-in region) and "
        "carry viewer IP addresses, which are personal data: shipping them to a bucket outside Africa "
        "would break Property 7. The origin bucket's S3 access logs stay in af-south-1.",
    ),
    NagAcknowledgment(
        "StaticAssets/Distribution/Resource",
        "AwsSolutions::AwsSolutions-CFR4",
        "Without a custom domain the distribution uses the *.cloudfront.net certificate, for which "
        "CloudFront fixes the TLS policy. A custom domain needs an ACM certificate in us-east-1 "
        "(future work, docs/data.md); it will then get TLSv1.2_2021.",
    ),
]

_ROTATION_FUNCTION = "Secrets/RotationFunction"
SECRETS: list[NagAcknowledgment] = [
    *(entry for entry in function_baseline(_ROTATION_FUNCTION) if "IAM5" not in entry.rule),
    NagAcknowledgment(
        f"{_ROTATION_FUNCTION}/Function/ServiceRole/DefaultPolicy/Resource",
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        "secretsmanager:GetRandomPassword (granted by CDK's rotation schedule) and X-Ray tracing "
        "support no resource-level permissions; every secret action is scoped to the rotated secrets.",
    ),
    *(
        NagAcknowledgment(
            "Secrets/Audit/Trail/LogsRole/DefaultPolicy/Resource",
            rule,
            "CDK generates this policy for CloudTrail's delivery into the one audit log group; an inline "
            "policy on a single-purpose service role is easier to audit than a shared managed policy.",
        )
        for rule in (
            "NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy",
            "PCI.DSS.321::PCI.DSS.321-IAMNoInlinePolicy",
        )
    ),
    *(
        NagAcknowledgment(
            f"Secrets/Audit/{bucket}/Resource",
            rule,
            "Replicating audit logs to another region is forbidden by data residency (Property 7), and "
            "same-region replication adds nothing to S3's multi-AZ durability; versioning keeps overwritten "
            "or deleted log objects recoverable.",
        )
        for bucket in ("TrailBucket", "AccessLogs")
        for rule in (
            "NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled",
            "PCI.DSS.321::PCI.DSS.321-S3BucketReplicationEnabled",
        )
    ),
    *(
        NagAcknowledgment(
            "Secrets/Audit/AccessLogs/Resource",
            rule,
            "S3 server access log delivery only supports SSE-S3 on the destination bucket; the trail's own "
            "bucket is SSE-KMS with the environment key.",
        )
        for rule in (
            "NIST.800.53.R5::NIST.800.53.R5-S3DefaultEncryptionKMS",
            "PCI.DSS.321::PCI.DSS.321-S3DefaultEncryptionKMS",
        )
    ),
]

MONITORING: list[NagAcknowledgment] = [
    *(
        NagAcknowledgment(
            "Secrets/GrafanaAdminSecret/Resource",
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

# Paths relative to CashTrace-Pipeline (the tooling account). The stage stacks inside it are
# CashTraceEnvironmentStacks and acknowledge their own findings.
_PIPELINE_ONLY = ("pipeline",)
# Roles CDK Pipelines generates for the pipeline, its actions and its CodeBuild projects.
_PIPELINE_ROLE_POLICIES = (
    "Pipeline/Pipeline/Role/DefaultPolicy/Resource",
    "Pipeline/Pipeline/Source/Source/CodePipelineActionRole/DefaultPolicy/Resource",
    # Synth, SecurityGate, IntegrationTests, SmokeTests: <stage>/<step>/<project>/Role.
    "Pipeline/Pipeline/*/*/*/Role/DefaultPolicy/Resource",
    "Pipeline/UpdatePipeline/SelfMutation/Role/DefaultPolicy/Resource",
    "Pipeline/Assets/FileRole/DefaultPolicy/Resource",
)
_PIPELINE_INLINE_POLICIES = (
    *_PIPELINE_ROLE_POLICIES,
    "Pipeline/Pipeline/EventsRole/DefaultPolicy/Resource",
    "Pipeline/CodeBuildActionRole/DefaultPolicy/Resource",
)
_PIPELINE_PROJECTS = (
    "Pipeline/Pipeline/*/*/*/Resource",
    "Pipeline/UpdatePipeline/SelfMutation/Resource",
    "Pipeline/Assets/FileAsset*/Resource",
)

PIPELINE: list[NagAcknowledgment] = [
    *(
        NagAcknowledgment(
            path,
            rule,
            "CDK Pipelines attaches each action's grants to that action's own single-purpose role; "
            "an inline policy per role is the auditable form (a shared managed policy would widen it).",
            _PIPELINE_ONLY,
        )
        for path in _PIPELINE_INLINE_POLICIES
        for rule in ("NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy", "PCI.DSS.321::PCI.DSS.321-IAMNoInlinePolicy")
    ),
    *(
        NagAcknowledgment(
            path,
            "PCI.DSS.321::PCI.DSS.321-CodeBuildProjectSourceRepoUrl",
            "False positive: these projects take their source from CodePipeline artifacts (source type "
            "CODEPIPELINE); no GitHub or Bitbucket URL, and so no credentials, is involved.",
            _PIPELINE_ONLY,
        )
        for path in _PIPELINE_PROJECTS
    ),
    *(
        NagAcknowledgment(
            f"{bucket}/Resource",
            rule,
            "Replication would copy to a second bucket; another region is ruled out by Property 7 and "
            "a second af-south-1 bucket adds nothing: the bucket is versioned, retained, and its "
            "contents are reproducible from the commit CI built.",
            _PIPELINE_ONLY,
        )
        for bucket in ("AccessLogs", "Source", "Artifacts")
        for rule in (
            "NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled",
            "PCI.DSS.321::PCI.DSS.321-S3BucketReplicationEnabled",
        )
    ),
    *(
        NagAcknowledgment(
            "AccessLogs/Resource",
            rule,
            "S3 server access logging can only deliver to a bucket encrypted with SSE-S3; the logs hold "
            "request metadata, not source or artifacts.",
            _PIPELINE_ONLY,
        )
        for rule in (
            "NIST.800.53.R5::NIST.800.53.R5-S3DefaultEncryptionKMS",
            "PCI.DSS.321::PCI.DSS.321-S3DefaultEncryptionKMS",
        )
    ),
    NagAcknowledgment(
        "AccessLogs/Resource",
        "AwsSolutions::AwsSolutions-S1",
        "This is the access-log bucket itself; logging it into itself would loop.",
        _PIPELINE_ONLY,
    ),
    *(
        NagAcknowledgment(
            "DeploymentRecord/Vpc/All/IAMRole/DefaultPolicy/Resource",
            rule,
            "CDK generates this flow-log delivery policy scoped to the one flow-log group; an inline "
            "policy on a single-purpose service role is easier to audit than a shared managed policy.",
            _PIPELINE_ONLY,
        )
        for rule in ("NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy", "PCI.DSS.321::PCI.DSS.321-IAMNoInlinePolicy")
    ),
    *(
        NagAcknowledgment(entry.path, entry.rule, entry.reason, _PIPELINE_ONLY)
        for entry in function_baseline("DeploymentRecord/Recorder")
    ),
    *(
        NagAcknowledgment(
            "DeploymentRecord/Recorder/Function/ServiceRole/DefaultPolicy/Resource",
            f"AwsSolutions::AwsSolutions-IAM5[{detail}]",
            "CDK's grants on the pipeline key (kms:GenerateDataKey*, kms:ReEncrypt* for the encrypted "
            "environment and dead-letter queue) and on the deployment table's own indexes (<table>/index/*).",
            _PIPELINE_ONLY,
        )
        for detail in (
            "Action::kms:GenerateDataKey*",
            "Action::kms:ReEncrypt*",
            "Resource::<DeploymentRecordTable20EDE7FD.Arn>/index/*",
        )
    ),
]

CI: list[NagAcknowledgment] = []

SERVICE.append(
    NagAcknowledgment(
        "ApiDataAccess/Resource",
        "AwsSolutions::AwsSolutions-IAM5[Resource::<StorageBucket5CB7C8EA.Arn>/*]",
        "The API reads and writes objects of the one application bucket (Get/PutObject only); object "
        "keys are per-customer and not known at deploy time.",
    )
)

# The CodeDeploy deployment group, its provider and its hook exist only for the blue-green strategies.
_CODEDEPLOY_STRATEGIES = (StrategyType.BLUE_GREEN, StrategyType.CANARY)
SERVICE = [
    replace(entry, strategies=_CODEDEPLOY_STRATEGIES)
    if entry.path.startswith(("Api/DeploymentGroup", "Api/HealthCheckHook"))
    else entry
    for entry in SERVICE
]
_ARTIFACT_GRANTS = ("s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*", "s3:GetObject*", "s3:List*")
_KEY_GRANTS = ("kms:GenerateDataKey*", "kms:ReEncrypt*")


def pipeline_role_wildcards(
    *, account: str, region: str, artifact_bucket: str, projects: dict[str, str]
) -> list[NagAcknowledgment]:
    """IAM5 findings of the roles CDK Pipelines generates, named exactly (they embed logical ids).

    `projects` maps each CodeBuild project's role-policy path to the project's logical id:
    CodeBuild scopes a project's log group and report groups by that id plus a wildcard.
    """
    reason_artifacts = (
        "Generated by CDK Pipelines: object-level access (s3:GetObject* and friends, <bucket>/*) to the "
        "pipeline's one artifact bucket and use of its one key; nothing outside the tooling account."
    )
    shared = (
        *(f"Action::{action}" for action in (*_ARTIFACT_GRANTS, *_KEY_GRANTS)),
        f"Resource::<{artifact_bucket}.Arn>/*",
    )
    roles = (
        "Pipeline/Pipeline/Role/DefaultPolicy/Resource",
        "Pipeline/Pipeline/Source/Source/CodePipelineActionRole/DefaultPolicy/Resource",
        "Pipeline/Assets/FileRole/DefaultPolicy/Resource",
        *projects,
    )
    entries = [
        NagAcknowledgment(path, f"AwsSolutions::AwsSolutions-IAM5[{detail}]", reason_artifacts, ("pipeline",))
        for path in roles
        for detail in shared
    ]
    for path, logical_id in projects.items():
        entries.extend(
            NagAcknowledgment(
                path,
                f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]",
                "CodeBuild names a build's log streams and report groups at run time; the grant is scoped "
                "to this one project's log group and report-group prefix.",
                ("pipeline",),
            )
            for resource in (
                f"arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/<{logical_id}>:*",
                f"arn:aws:codebuild:{region}:{account}:report-group/<{logical_id}>-*",
            )
        )
    self_mutation = "Pipeline/UpdatePipeline/SelfMutation/Role/DefaultPolicy/Resource"
    entries += [
        NagAcknowledgment(
            self_mutation,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:*:iam::{account}:role/*]",
            "Self-mutation assumes the CDK bootstrap roles of the tooling account only: the statement is "
            "conditioned on the iam:ResourceTag/aws-cdk:bootstrap-role tag (deploy, file- and "
            "image-publishing), whose role names embed a per-bootstrap qualifier.",
            ("pipeline",),
        ),
        NagAcknowledgment(
            self_mutation,
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            "cloudformation:DescribeStacks and s3:ListBucket issued by `cdk deploy` of the pipeline "
            "stack before it knows the bootstrap bucket's name.",
            ("pipeline",),
        ),
        *(
            NagAcknowledgment(
                "Pipeline/Assets/FileRole/DefaultPolicy/Resource",
                f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]",
                "One shared role runs every file-asset CodeBuild project, which self-mutation creates and "
                "renames as assets change (codebuild:StartBuild/BatchGetBuilds/StopBuild, their log "
                "groups and report groups); it may assume only the environments' file-publishing roles.",
                ("pipeline",),
            )
            for resource in (
                "*",
                f"arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/*",
                f"arn:aws:codebuild:{region}:{account}:report-group/*",
            )
        ),
    ]
    return entries


def github_oidc_access(path: str) -> list[NagAcknowledgment]:
    """What a `GitHubOidcAccess` at `path` (relative to its stack) needs acknowledged, and why.

    A function, not entries in `CI`: the construct lives in the pipeline stack, not in the
    environment stacks `ALL` is applied to.
    """
    return [
        NagAcknowledgment(
            f"{path}/ReleasePolicy/Resource",
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken (the docker login to ECR) supports no resource-level permission; "
            "it is the only action on '*', and pushing still needs the repository-scoped actions.",
        )
    ]


ALL: list[NagAcknowledgment] = [*NETWORK, *SERVICE, *DATA, *SECRETS, *MONITORING, *CI]


class _Tree:
    """Path lookups in one stack; each jsii round trip (~0.3 ms) is made once per node, not once per entry.

    A literal segment is one `try_find_child`; only a glob segment lists a node's children.
    """

    def __init__(self, root: IConstruct) -> None:
        self.root = root
        self._children: dict[str, list[tuple[str, IConstruct, str]]] = {}
        self._child: dict[str, IConstruct | None] = {}

    def _children_of(self, node: IConstruct, path: str) -> list[tuple[str, IConstruct, str]]:
        if path not in self._children:
            self._children[path] = [(child.node.id, child, f"{path}/{child.node.id}") for child in node.node.children]
        return self._children[path]

    def _child_of(self, node: IConstruct, path: str, child_id: str) -> list[tuple[IConstruct, str]]:
        child_path = f"{path}/{child_id}"
        if child_path not in self._child:
            self._child[child_path] = node.node.try_find_child(child_id)
        child = self._child[child_path]
        return [] if child is None else [(child, child_path)]

    def matching(self, pattern: str) -> list[IConstruct]:
        nodes: list[tuple[IConstruct, str]] = [(self.root, "")]
        for segment in pattern.split("/"):
            if not any(char in segment for char in "*?["):
                nodes = [found for node, path in nodes for found in self._child_of(node, path, segment)]
                continue
            nodes = [
                (child, child_path)
                for node, path in nodes
                for child_id, child, child_path in self._children_of(node, path)
                if fnmatch.fnmatchcase(child_id, segment)
            ]
        return [node for node, _ in nodes]


def acknowledge(
    stack: Stack,
    environment: str,
    acknowledgments: Iterable[NagAcknowledgment] = ALL,
    *,
    strategy: StrategyType | None = None,
) -> None:
    """Apply the acknowledgments that concern `environment` to `stack`; refuse stale ones."""
    tree = _Tree(stack)
    for entry in acknowledgments:
        if environment not in entry.environments or (strategy is not None and strategy not in entry.strategies):
            continue
        targets = tree.matching(entry.path)
        if not targets:
            raise DeploymentError(
                ErrorCode.CONFIG_INVALID,
                f"acknowledgment of {entry.rule} names {entry.path!r}, which is not in {stack.node.path}; "
                "remove or update it",
                field="nag_acknowledgments",
            )
        for target in targets:
            Validations.of(target).acknowledge(Acknowledgment(id=entry.rule, reason=entry.reason))
