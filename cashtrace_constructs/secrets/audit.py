"""`SecretsAudit`: the account's CloudTrail trail, stored in af-south-1, and an alarm on denied secret access.

The trail is multi-region and records management events only (Secrets Manager reads and writes
are management events): what any region's control plane was asked to do lands in this region's
bucket and log group. Data flows into af-south-1, never out: a multi-region trail has one home
region, which stores everything; the other regions only forward their management events to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cashtrace_constructs.log_buckets import access_log_bucket
from cashtrace_constructs.log_retention import retention

METRIC_NAMESPACE = "CashTrace/Secrets"
DENIED_ACCESS_METRIC = "DeniedSecretAccess"
# Secrets Manager reports a refused call as AccessDenied (IAM or resource policy) and KMS
# refusals surfacing through it as AccessDeniedException; both mean "someone tried and failed".
DENIED_ACCESS_FILTER = (
    '{ ($.eventSource = "secretsmanager.amazonaws.com") && '
    '(($.errorCode = "AccessDenied*") || ($.errorCode = "*UnauthorizedOperation")) }'
)


@dataclass(frozen=True, kw_only=True)
class SecretsAuditProps:
    environment_name: str
    encryption_key: kms.IKey
    log_retention_days: int


class SecretsAudit(Construct):
    """Trail -> KMS-encrypted, versioned, TLS-only bucket (with access logs) and a log group with a
    metric filter on denied Secrets Manager calls; `denied_access_alarm` fires on the first one."""

    def __init__(self, scope: Construct, construct_id: str, *, props: SecretsAuditProps) -> None:
        super().__init__(scope, construct_id)
        environment_name, encryption_key = props.environment_name, props.encryption_key
        log_retention_days = props.log_retention_days
        stack = Stack.of(self)
        self.access_logs_bucket = access_log_bucket(self, "AccessLogs")
        self.bucket = s3.Bucket(
            self,
            "TrailBucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=encryption_key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="trail-bucket/",
            removal_policy=RemovalPolicy.RETAIN,
            # Audit evidence for as long as the trail's log group keeps it; a replaced version
            # (there should be none: CloudTrail never rewrites a file) goes after 30 days.
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireTrailFiles",
                    expiration=Duration.days(log_retention_days),
                    noncurrent_version_expiration=Duration.days(30),
                )
            ],
        )
        self.log_group = logs.LogGroup(
            self,
            "TrailLogs",
            retention=retention(log_retention_days, field="secrets.audit_log_retention_days"),
            encryption_key=encryption_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # CloudTrail encrypts log files with the key; scoped to trails of this account and region.
        trails_here = f"arn:{stack.partition}:cloudtrail:{stack.region}:{stack.account}:trail/*"
        cloudtrail_principal = iam.ServicePrincipal("cloudtrail.amazonaws.com")
        encryption_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailOfThisAccountAndRegionToEncrypt",
                principals=[cloudtrail_principal],
                actions=["kms:GenerateDataKey*"],
                resources=["*"],
                conditions={
                    "StringLike": {
                        "aws:SourceArn": trails_here,
                        "kms:EncryptionContext:aws:cloudtrail:arn": trails_here,
                    }
                },
            )
        )
        encryption_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailToDescribeKey",
                principals=[cloudtrail_principal],
                actions=["kms:DescribeKey"],
                resources=["*"],
                conditions={"StringLike": {"aws:SourceArn": trails_here}},
            )
        )
        self.trail = cloudtrail.Trail(
            self,
            "Trail",
            bucket=self.bucket,
            encryption_key=encryption_key,
            enable_file_validation=True,
            # Every region's management events, stored here (a trail in another region would be
            # blind to this one, and to the global services). Global-service events (IAM, STS)
            # are included so a policy change that opens a secret is on the record too.
            is_multi_region_trail=True,
            include_global_service_events=True,
            management_events=cloudtrail.ReadWriteType.ALL,
            send_to_cloud_watch_logs=True,
            cloud_watch_log_group=self.log_group,
        )
        denied_access = logs.MetricFilter(
            self,
            "DeniedSecretAccessFilter",
            log_group=self.log_group,
            filter_pattern=logs.FilterPattern.literal(DENIED_ACCESS_FILTER),
            metric_namespace=METRIC_NAMESPACE,
            metric_name=DENIED_ACCESS_METRIC,
            metric_value="1",
            default_value=0,
        )
        self.denied_access_metric = denied_access.metric(statistic=cloudwatch.Stats.SUM, period=Duration.minutes(5))
        self.denied_access_alarm = cloudwatch.Alarm(
            self,
            "DeniedSecretAccessAlarm",
            alarm_description=(
                f"CashTrace {environment_name}: a principal was denied access to a secret "
                "(cross-environment attempt or missing grant); see docs/secrets.md"
            ),
            metric=self.denied_access_metric,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
