"""`CashTracePipelineStack`: the self-mutating CD pipeline that carries `main` to staging, then prod.

Source -> Synth (tests + `cdk synth`) -> UpdatePipeline -> Assets -> Staging (security gate,
deploy, integration tests) -> Approval -> Prod (deploy, smoke tests). Property 4 is refused at
construction time here and checked again on the synthesized template by `staging-before-prod`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnOutput, CfnResource, Duration, Environment, RemovalPolicy, Stack, pipelines
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as codepipeline_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cashtrace_constructs.config import EnvironmentConfig, Ownership, PipelineConfig
from cashtrace_constructs.delivery_metrics import DeliveryMetrics, DeliveryMetricsProps
from cashtrace_constructs.deployment_record import DeploymentRecord, DeploymentRecordProps
from cashtrace_constructs.encryption import restrict_grants_to_aws_resources
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.github_oidc import GitHubOidcAccess, GitHubOidcAccessProps
from cashtrace_constructs.image_repository import ServiceImageRepository, ServiceImageRepositoryProps
from cashtrace_constructs.log_buckets import access_log_bucket
from cashtrace_constructs.log_retention import retention
from cashtrace_constructs.monitoring.functions import handler_alarms, notify, watch_functions
from cashtrace_constructs.promotion import PlannedStage, check_promotion
from cashtrace_constructs.promotion_gate import DeploymentRecordReader, DeploymentRecordReaderProps
from cashtrace_constructs.retention import retain_stateful_resources
from stacks.acknowledgments import acknowledge_pipeline
from stacks.environments import github_oidc
from stacks.pipeline_notifications import pipeline_notifications
from stacks.pipeline_steps import (
    CDK_ASSETS_VERSION,
    build_defaults,
    cdk_cli_version,
    live_tests_step,
    scope_asset_builds,
    security_gate_step,
    synth_step,
)
from stacks.stage import CashTraceStage

PIPELINE_ENVIRONMENT = "pipeline"
# Build logs are the record of what each release ran (tests, synth, gates): a year.
BUILD_LOG_RETENTION_DAYS = 365
# Superseded release zips and pipeline artifacts are kept this long.
PIPELINE_OBJECT_DAYS = 90


class CashTracePipelineStack(Stack):
    """The CD pipeline in the tooling account; `environments` are deployed in `config.promotion` order."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        environments: Sequence[EnvironmentConfig],
        ownership: Ownership | None = None,
        **kwargs: Any,
    ) -> None:
        ownership = ownership or Ownership()
        super().__init__(
            scope,
            construct_id,
            env=Environment(account=config.account, region=config.region),
            stack_name=config.stack_name,
            description="CashTrace CD pipeline: staging, integration tests, approval, prod, smoke tests",
            termination_protection=True,
            tags={
                "environment": PIPELINE_ENVIRONMENT,
                "service": ownership.service,
                "owner": ownership.owner,
                "cost-center": ownership.cost_center,
            },
            **kwargs,
        )
        self.config = config
        by_name = {environment.name: environment for environment in environments}
        missing = [name for name in config.promotion if name not in by_name]
        if missing:
            raise DeploymentError(
                ErrorCode.CONFIG_INVALID,
                f"the promotion order names {missing}, which have no environment config",
                field="pipeline.promotion",
            )
        self.release_digest = self._release_digest([by_name[name] for name in config.promotion])
        self._planned: list[PlannedStage] = []
        # Check the whole promotion order before any resource exists.
        check_promotion(
            [self._plan(by_name[name], approval=None, tested=True) for name in config.promotion],
            path="pipeline.promotion",
        )

        self.key = kms.Key(
            self,
            "PipelineKey",
            description="CashTrace pipeline: source, artifacts, notifications, deployment records",
            enable_key_rotation=True,
            multi_region=False,
            removal_policy=RemovalPolicy.RETAIN,
            pending_window=Duration.days(30),
        )
        restrict_grants_to_aws_resources(self.key)
        self.build_logs = self._build_logs()
        self.access_logs = access_log_bucket(self, "AccessLogs")
        self.source_bucket = self._bucket("Source")
        # S3's native EventBridge switch: no notification custom resource (and its Lambda) needed.
        self._cfn(self.source_bucket).add_property_override(
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
        )
        self.artifact_bucket = self._bucket("Artifacts")
        # Build once, promote by digest: CI pushes each release here; every environment pulls it.
        self.image_repository = ServiceImageRepository(
            self,
            "ReleaseRepository",
            props=ServiceImageRepositoryProps(
                repository_name=config.release_repository,
                puller_account_ids=sorted({env.infrastructure.account for env in environments}),
            ),
        )
        self.release_repository = self.image_repository.repository
        self.source = pipelines.CodePipelineSource.s3(
            self.source_bucket,
            config.source_object_key,
            action_name="Source",
            # Started by the EventBridge rule below: S3 sends its own events, no CloudTrail trail needed.
            trigger=codepipeline_actions.S3Trigger.NONE,
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name="CashTrace",
            pipeline_type=codepipeline.PipelineType.V2,
            self_mutation=True,
            artifact_bucket=self.artifact_bucket,
            cli_version=cdk_cli_version(),
            cdk_assets_cli_version=CDK_ASSETS_VERSION,
            synth=synth_step(self.source, environments, config=config),
            code_build_defaults=build_defaults(self.build_logs),
        )
        self.stages: dict[str, CashTraceStage] = {}
        # Pipeline stage name -> environment, and -> its live test action, for the deployment record.
        self.approval_stages: dict[str, str] = {}
        self.test_actions: dict[str, str] = {}
        for name in config.promotion:
            self.add_environment(by_name[name])
        self.pipeline.build_pipeline()
        scope_asset_builds(self.pipeline)

        self.notifications = pipeline_notifications(
            self, addresses=config.notification_emails, pipeline=self.pipeline.pipeline, key=self.key
        )
        # EventBridge and CloudWatch alarms publish to the encrypted topic with this key.
        self.key.grant(iam.ServicePrincipal("events.amazonaws.com"), "kms:GenerateDataKey*", "kms:Decrypt")
        self.key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:GenerateDataKey*", "kms:Decrypt")
        events.Rule(
            self,
            "SourceUploaded",
            description="Starts the pipeline when CI uploads a new release zip",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [self.source_bucket.bucket_name]},
                    "object": {"key": [config.source_object_key]},
                },
            ),
            targets=[targets.CodePipeline(self.pipeline.pipeline)],
        )
        self.deployment_record = DeploymentRecord(
            self,
            "DeploymentRecord",
            props=DeploymentRecordProps(
                encryption_key=self.key,
                pipeline=self.pipeline.pipeline,
                stage_environments={stage.stage_name: name for name, stage in self.stages.items()},
                approval_environments=self.approval_stages,
                environments=[by_name[name] for name in config.promotion],
                test_actions=self.test_actions,
            ),
        )
        # What the approval-gated environments' promotion gates may read of it, from their accounts.
        gated = {name: by_name[name].infrastructure.account for name in self.approval_stages.values()}
        if gated:
            self.record_reader = DeploymentRecordReader(
                self,
                "DeploymentRecordReader",
                props=DeploymentRecordReaderProps(
                    table=self.deployment_record.table, encryption_key=self.key, gate_accounts=gated
                ),
            )
        self.delivery_metrics = DeliveryMetrics(
            self,
            "DeliveryMetrics",
            props=DeliveryMetricsProps(
                table=self.deployment_record.table,
                vpc=self.deployment_record.vpc,
                subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
                encryption_key=self.key,
                environments=list(config.promotion),
                approval_gated=[name for name in config.promotion if by_name[name].settings.requires_approval],
            ),
        )
        # GitHub's main branch pushes release images here and hands the source to the pipeline (CI).
        self.github_access = GitHubOidcAccess(
            self,
            "GitHubRelease",
            props=GitHubOidcAccessProps(
                config=github_oidc(),
                ecr_repositories=[self.release_repository],
                source_bucket=self.source_bucket,
                source_object_key=config.source_object_key,
                encryption_keys=[self.image_repository.encryption_key],
            ),
        )
        # No Monitoring here: the pipeline's own functions and queues warn on its notification topic.
        notify(handler_alarms(self) + watch_functions(self), self.notifications)
        retain_stateful_resources(self, retain=config.retain_on_delete)
        self._outputs()
        acknowledge_pipeline(self, config)

    def _outputs(self) -> None:
        """What a team copies into GitHub (docs/ci.md) and into its first release."""
        self.release_role_arn_output = CfnOutput(
            self,
            "GitHubReleaseRoleArn",
            value=self.github_access.role.role_arn,
            description="GitHub variable for the release workflow: the role it assumes through OIDC",
        )
        self.source_bucket_output = CfnOutput(
            self,
            "SourceBucketName",
            value=self.source_bucket.bucket_name,
            description="GitHub variable for the release workflow: where it uploads the release zip",
        )
        self.release_repository_output = CfnOutput(
            self,
            "ReleaseRepositoryUri",
            value=self.release_repository.repository_uri,
            description="The ECR repository CI pushes release images to and every environment pulls from",
        )
        self.notifications_output = CfnOutput(
            self,
            "NotificationsTopicArn",
            value=self.notifications.topic_arn,
            description="Failed executions and pending approvals; subscribe more people or a chat integration",
        )

    def _build_logs(self) -> logs.LogGroup:
        """Every CodeBuild project's log group, encrypted with the pipeline key."""
        log_groups_here = f"arn:{self.partition}:logs:{self.region}:{self.account}:*"
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsOfThisAccountAndRegion",
                principals=[iam.ServicePrincipal(f"logs.{self.region}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups_here}},
            )
        )
        return logs.LogGroup(
            self,
            "BuildLogs",
            encryption_key=self.key,
            retention=retention(BUILD_LOG_RETENTION_DAYS),
            removal_policy=RemovalPolicy.RETAIN,
        )

    @staticmethod
    def _release_digest(promoted: Sequence[EnvironmentConfig]) -> str:
        """The one image every promoted environment ships: what the security gate checks."""
        digests = sorted({environment.service.image_digest for environment in promoted})
        if len(digests) != 1:
            raise DeploymentError(
                ErrorCode.CI_FAILED,
                f"the promoted environments pin different images {digests}; one release ships one image",
                field="pipeline.promotion",
            )
        return digests[0]

    @staticmethod
    def _cfn(construct: Construct) -> CfnResource:
        child = construct.node.default_child
        if not isinstance(child, CfnResource):
            raise TypeError(f"{construct.node.path} has no CloudFormation resource")
        return child

    @property
    def availability_zones(self) -> list[str]:
        # Named AZs, like the environment stacks: synth needs no AZ lookup (and no credentials).
        return [f"{self.region}a", f"{self.region}b"]

    def _bucket(self, construct_id: str) -> s3.Bucket:
        return s3.Bucket(
            self,
            construct_id,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{construct_id.lower()}/",
            removal_policy=RemovalPolicy.RETAIN,
            # Each upload or artifact is superseded by the next release; old versions are evidence
            # for a quarter, then go (the deployment record keeps what shipped).
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireOldReleases",
                    noncurrent_version_expiration=Duration.days(PIPELINE_OBJECT_DAYS),
                    expiration=None if construct_id == "Source" else Duration.days(PIPELINE_OBJECT_DAYS),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
        )

    def _plan(self, environment: EnvironmentConfig, *, approval: bool | None, tested: bool) -> PlannedStage:
        return PlannedStage(
            environment=environment.name,
            requires_approval=environment.settings.requires_approval,
            approved_before=environment.settings.requires_approval if approval is None else approval,
            tested_after=tested,
        )

    def add_environment(
        self, environment: EnvironmentConfig, *, approval: bool | None = None, tests: bool = True
    ) -> CashTraceStage:
        """Deploy `environment` as the pipeline's next stage.

        `approval` defaults to the environment's `requires_approval`; asking for less raises
        DEPLOY_APPROVAL_REQUIRED (Property 4), as does reaching an approval-gated environment
        before a tested pre-production stage.
        """
        planned = self._plan(environment, approval=approval, tested=tests)
        check_promotion([*self._planned, planned])
        self._planned.append(planned)

        stage = CashTraceStage(
            self, environment.name.capitalize(), config=environment, deployment_events_account=self.config.account
        )
        service_url = stage.environment_stack.service_url
        pre: list[pipelines.Step] = []
        post: list[pipelines.Step] = []
        if planned.approved_before:
            # A stage of its own, so the pipeline reads Staging -> Approval -> Prod.
            self.approval_stages["Approval"] = environment.name
            self.pipeline.add_wave(
                "Approval",
                pre=[
                    pipelines.ManualApprovalStep(
                        "Approve",
                        comment=f"Promote the release that passed the earlier stages to {environment.name}",
                        review_url=environment.settings.url,
                    )
                ],
            )
        if not self._planned[:-1]:
            # The first stage ships the image first: check it against its scan findings (Property 3).
            pre.append(
                security_gate_step(self.source, self.config, self.release_repository, digest=self.release_digest)
            )
        if tests:
            suite = "integration" if not environment.settings.requires_approval else "smoke"
            post.append(live_tests_step(self.source, suite, service_url, release_manifest=self.config.release_manifest))
            self.test_actions[stage.stage_name] = post[-1].id
        self.pipeline.add_stage(stage, pre=pre, post=post)
        self.stages[environment.name] = stage
        return stage
