"""`ServiceImageRepository`: one ECR repository per service, built once and pulled by every environment.

It lives in the tooling (CD pipeline) account: CI pushes an image once, and dev, staging and
prod pull the same bytes by tag or digest ("build once, promote by digest").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from cashtrace_constructs.encryption import restrict_grants_to_aws_resources
from cashtrace_constructs.errors import DeploymentError, ErrorCode

# Pull actions only: environments never push or delete images.
PULL_ACTIONS: tuple[str, ...] = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
)


@dataclass(frozen=True, kw_only=True)
class ServiceImageRepositoryProps:
    repository_name: str
    puller_account_ids: Sequence[str]
    # None: the repository gets a key of its own.
    encryption_key: kms.IKey | None = None
    untagged_retention_days: int = 7
    max_image_count: int = 200


class ServiceImageRepository(Construct):
    """An immutable-tag, scan-on-push, KMS-encrypted repository that `puller_account_ids` may pull from."""

    def __init__(self, scope: Construct, construct_id: str, *, props: ServiceImageRepositoryProps) -> None:
        super().__init__(scope, construct_id)
        repository_name, puller_account_ids = props.repository_name, props.puller_account_ids
        encryption_key = props.encryption_key
        for index, account in enumerate(puller_account_ids):
            if not (account.isdigit() and len(account) == 12):
                raise DeploymentError(
                    ErrorCode.CONFIG_INVALID,
                    f"must be a 12-digit AWS account id, got {account!r}",
                    field=f"puller_account_ids[{index}]",
                )
        if encryption_key is None:
            encryption_key = kms.Key(
                self,
                "Key",
                description=f"CashTrace image repository {repository_name}",
                enable_key_rotation=True,
                multi_region=False,
                removal_policy=RemovalPolicy.RETAIN,
            )
            restrict_grants_to_aws_resources(encryption_key)
        self.encryption_key = encryption_key
        self.repository = ecr.Repository(
            self,
            "Repository",
            repository_name=repository_name,
            image_scan_on_push=True,
            # A tag names one image forever: staging and prod run exactly what was tested.
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            encryption=ecr.RepositoryEncryption.KMS,
            encryption_key=encryption_key,
            # Images of running releases must survive a stack deletion. The name is fixed (CI pushes to
            # it, environments pull from it), so a first create that fails deletes it again (still
            # empty: CI pushes only once the stack exists) instead of blocking the retry.
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    rule_priority=1,
                    description="Untagged layers of failed pushes",
                    tag_status=ecr.TagStatus.UNTAGGED,
                    max_image_age=Duration.days(props.untagged_retention_days),
                ),
                ecr.LifecycleRule(
                    rule_priority=2,
                    description="Keep the newest images; older releases cannot be rolled back to anyway",
                    tag_status=ecr.TagStatus.ANY,
                    max_image_count=props.max_image_count,
                ),
            ],
        )
        self.puller_account_ids = tuple(puller_account_ids)
        if self.puller_account_ids:
            principals = [iam.AccountPrincipal(account) for account in self.puller_account_ids]
            self.repository.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="PullFromEnvironmentAccounts",
                    principals=principals,
                    actions=list(PULL_ACTIONS),
                )
            )
            # ECR decrypts layers with this key on the puller's behalf; only through ECR, in this region.
            stack = Stack.of(self)
            encryption_key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="DecryptThroughEcrForEnvironmentAccounts",
                    principals=principals,
                    actions=["kms:Decrypt", "kms:DescribeKey"],
                    resources=["*"],
                    conditions={"StringEquals": {"kms:ViaService": f"ecr.{stack.region}.amazonaws.com"}},
                )
            )
