"""The environment's own customer-managed KMS key: one per environment, single-region."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class EnvironmentKeyProps:
    environment_name: str
    # What the key encrypts; part of its alias (`alias/cashtrace/<env>/<purpose>`).
    purpose: str = "data"


def restrict_grants_to_aws_resources(key: kms.Key) -> None:
    """Deny kms:CreateGrant unless an AWS service asks for it on behalf of one of its resources.

    Grants hand out key use without a policy change; RDS, EBS, ElastiCache, Secrets Manager and
    AWS Backup create theirs with kms:GrantIsForAWSResource, so a person or a workload cannot
    grant itself (or another account) use of the key (Control Tower CT.KMS.PR.3).
    """
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="DenyGrantsOutsideAwsResources",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["kms:CreateGrant"],
            resources=["*"],
            conditions={"BoolIfExists": {"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}},
        )
    )


class EnvironmentKey(Construct):
    """A customer-managed key for one environment's data at rest.

    Single-region on purpose: a multi-region key can be replicated out of Africa (Property 7).
    CloudWatch Logs may use it for log groups of this account and region only.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: EnvironmentKeyProps) -> None:
        super().__init__(scope, construct_id)
        environment_name, purpose = props.environment_name, props.purpose
        stack = Stack.of(self)
        log_groups_of_this_account = f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:*"
        self.key = kms.Key(
            self,
            "Key",
            description=f"CashTrace {environment_name} {purpose} key",
            alias=f"alias/cashtrace/{environment_name}/{purpose}",
            enable_key_rotation=True,
            rotation_period=Duration.days(365),
            multi_region=False,
            # A deleted key makes every backup encrypted with it unreadable.
            removal_policy=RemovalPolicy.RETAIN,
            pending_window=Duration.days(30),
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsOfThisAccountAndRegion",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups_of_this_account}},
            )
        )
        restrict_grants_to_aws_resources(self.key)
