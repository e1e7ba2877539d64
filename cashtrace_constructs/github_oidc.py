"""`GitHubOidcAccess`: the AWS role GitHub Actions assumes on `main` to push the image and hand off the source.

GitHub's OIDC token replaces long-lived access keys: only a job of one repository on one branch,
asking for the STS audience, can assume the role, for at most the configured session length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cashtrace_constructs.config import GITHUB_OIDC_ISSUER, GitHubOidcConfig
from cashtrace_constructs.errors import DeploymentError, ErrorCode

STS_AUDIENCE = "sts.amazonaws.com"


@dataclass(frozen=True, kw_only=True)
class GitHubOidcAccessProps:
    config: GitHubOidcConfig
    # Repositories the release job pushes the image to (issue 3's release repository).
    ecr_repositories: Sequence[ecr.IRepository] = ()
    # The CD pipeline's source bucket and the one key the release job writes (issue 6).
    source_bucket: s3.IBucket | None = None
    source_object_key: str = "source/cashtrace.zip"
    # Keys of an imported bucket or of the repositories: `IBucket.encryption_key` is only
    # known for buckets defined in the same app.
    encryption_keys: Sequence[kms.IKey] = field(default_factory=tuple)


class GitHubOidcAccess(Construct):
    """The GitHub OIDC provider (created or imported) and the release role trusted only for one branch."""

    def __init__(self, scope: Construct, construct_id: str, *, props: GitHubOidcAccessProps) -> None:
        super().__init__(scope, construct_id)
        config = props.config
        if not props.ecr_repositories and props.source_bucket is None:
            raise DeploymentError(
                ErrorCode.CONFIG_INVALID,
                "the release role needs at least one ECR repository or the source bucket to write to",
                field="github_oidc_access",
            )
        if "*" in props.source_object_key or not props.source_object_key.endswith(".zip"):
            raise DeploymentError(
                ErrorCode.CONFIG_INVALID,
                f"must be one exact .zip key, got {props.source_object_key!r}",
                field="github_oidc_access.source_object_key",
            )
        stack = Stack.of(self)

        if config.create_provider:
            # The CloudFormation-native provider: no custom resource Lambda. Without thumbprints
            # IAM trusts GitHub's certificate through its own root CA store.
            provider = iam.OidcProviderNative(
                self,
                "Provider",
                url=f"https://{GITHUB_OIDC_ISSUER}",
                client_ids=[STS_AUDIENCE],
                # One provider per issuer URL and account: kept when the stack goes, but deleted when
                # the create that made it fails, or the retry would find it "already exists".
                removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
            )
            self.provider_arn = provider.oidc_provider_arn
        else:
            self.provider_arn = f"arn:{stack.partition}:iam::{stack.account}:oidc-provider/{GITHUB_OIDC_ISSUER}"

        self.role = iam.Role(
            self,
            "ReleaseRole",
            description=f"GitHub Actions release job of {config.owner}/{config.repository} on {config.branch}",
            assumed_by=iam.WebIdentityPrincipal(
                self.provider_arn,
                conditions={
                    # StringEquals, not StringLike: pull requests, other branches, tags and
                    # deployment environments carry a different `sub` and are refused.
                    "StringEquals": {
                        f"{GITHUB_OIDC_ISSUER}:aud": STS_AUDIENCE,
                        f"{GITHUB_OIDC_ISSUER}:sub": config.subject,
                    }
                },
            ),
            max_session_duration=Duration.minutes(config.max_session_minutes),
        )

        # Written out rather than `grant_push`/`grant_put`: those add wildcard actions (s3:Abort*,
        # kms:ReEncrypt*) and an inline policy; a managed policy of exact actions is what nag wants.
        statements: list[iam.PolicyStatement] = []
        if props.ecr_repositories:
            statements.append(
                iam.PolicyStatement(
                    sid="EcrLogin",
                    # ECR's login call has no resource-level permission (acknowledged in nag_acknowledgments).
                    actions=["ecr:GetAuthorizationToken"],
                    resources=["*"],
                )
            )
            statements.append(
                iam.PolicyStatement(
                    sid="EcrPushReleaseImage",
                    actions=[
                        "ecr:BatchCheckLayerAvailability",
                        "ecr:BatchGetImage",
                        "ecr:InitiateLayerUpload",
                        "ecr:UploadLayerPart",
                        "ecr:CompleteLayerUpload",
                        "ecr:PutImage",
                    ],
                    resources=[repository.repository_arn for repository in props.ecr_repositories],
                )
            )
        if props.source_bucket is not None:
            statements.append(
                iam.PolicyStatement(
                    sid="PutSourceArtifact",
                    actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                    resources=[props.source_bucket.arn_for_objects(props.source_object_key)],
                )
            )
        keys = [*props.encryption_keys]
        if props.source_bucket is not None and props.source_bucket.encryption_key is not None:
            keys.append(props.source_bucket.encryption_key)
        if keys:
            statements.append(
                iam.PolicyStatement(
                    sid="EncryptArtifacts",
                    # Decrypt too: `aws s3 cp` switches to multipart above 8 MB, which reads the data key back.
                    actions=["kms:GenerateDataKey", "kms:Decrypt"],
                    resources=[key.key_arn for key in keys],
                )
            )
        self.policy = iam.ManagedPolicy(
            self,
            "ReleasePolicy",
            description="Push the release image and upload the source artifact; nothing else",
            roles=[self.role],
            statements=statements,
        )
