"""`BlueGreenService`: a Fargate service behind an ALB, released blue-green (or canary) by CodeDeploy.

A new task definition revision starts a CodeDeploy deployment during `cdk deploy`; rollback
alarms, a health-check hook on the test listener and kept blue tasks make a bad release roll
back by itself. Timing numbers are checked by the Property 5/9/10 rules (docs/service.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from aws_cdk import Duration, Stack
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from cashtrace_constructs.config import (
    AutoScalingConfig,
    DeploymentStrategy,
    MonitoringConfig,
    RollbackConfig,
    ServiceConfig,
    fargate_size,
)
from cashtrace_constructs.domain import ListenerTls
from cashtrace_constructs.prometheus import COLLECTOR_IMAGE, COLLECTOR_USER, PrometheusWorkspace, collector_config
from cashtrace_constructs.service.load_balancer import PublicLoadBalancer
from cashtrace_constructs.service.release import CodeDeployRelease, rollback_alarms
from cashtrace_constructs.service.scaling import task_count_scaling
from cashtrace_constructs.service.task import ApplicationTask
from cashtrace_constructs.timing import LONGEST_REQUEST_METADATA


@dataclass(frozen=True, kw_only=True)
class BlueGreenServiceProps:
    """Everything that differs between two services (or two environments) of this construct."""

    environment_name: str
    service: ServiceConfig
    # Fargate "<cpu>/<memory MiB>" and the task-count range of the compute resource.
    size: str
    scaling: AutoScalingConfig
    strategy: DeploymentStrategy
    rollback: RollbackConfig
    vpc: ec2.IVpc
    encryption_key: kms.IKey
    task_subnets: ec2.SubnetSelection
    load_balancer_subnets: ec2.SubnetSelection
    # Sources the test listener admits: where the deploy hook calls from (the NAT addresses).
    test_client_cidrs: Sequence[str] = ()
    # HTTPS listeners with this certificate, verified as its host name by the deploy hook; None is
    # plain HTTP, which `EndpointConfig` allows in dev only.
    tls: ListenerTls | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    # From `EnvironmentSecrets.container_secret` only: it refuses other environments' secrets.
    secrets: Mapping[str, ecs.Secret] = field(default_factory=dict)


class BlueGreenService(Construct):
    """ECS Fargate service, ALB (WAF, access logs, prod + test listeners), CodeDeploy, autoscaling, alarms.

    Public: `task` (`ApplicationTask`), `entrance` (`PublicLoadBalancer`), `cluster`, `service`,
    `service_security_group`, `rollback_alarms`, `scaling`, `release` (`CodeDeployRelease`), and
    the shortcuts `load_balancer` and `task_definition`.

    The parts (`PublicLoadBalancer`, `ApplicationTask`, `CodeDeployRelease`, the scaling
    function) are plain classes and functions that build into this construct's own scope, not
    constructs of their own: a construct level would change the path, hence the logical id, of
    every resource below it, and CloudFormation would replace the deployed load balancer,
    service and deployment group.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: BlueGreenServiceProps) -> None:
        config = props.service
        # Refused before any resource exists.
        cpu, memory = fargate_size(props.size, field_path="BlueGreenServiceProps.size")
        super().__init__(scope, construct_id)
        self.props = props

        self.task = ApplicationTask(
            self,
            environment_name=props.environment_name,
            config=config,
            cpu=cpu,
            memory=memory,
            encryption_key=props.encryption_key,
            environment=props.environment,
            secrets=props.secrets,
        )
        self.entrance = PublicLoadBalancer(
            self,
            environment_name=props.environment_name,
            config=config,
            strategy=props.strategy,
            vpc=props.vpc,
            subnets=props.load_balancer_subnets,
            encryption_key=props.encryption_key,
            test_client_cidrs=props.test_client_cidrs,
            tls=props.tls,
        )

        self.cluster = ecs.Cluster(self, "Cluster", vpc=props.vpc, container_insights_v2=ecs.ContainerInsights.ENHANCED)
        self.service_security_group = ec2.SecurityGroup(
            self,
            "ServiceSecurityGroup",
            vpc=props.vpc,
            description=f"{config.name} tasks: the container port from the load balancer only",
            # Tasks reach AWS through the VPC endpoints and the internet through NAT (HTTPS only).
            allow_all_outbound=False,
        )
        self.service_security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs")
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=self.cluster,
            task_definition=self.task.task_definition,
            desired_count=props.scaling.min_replicas,
            vpc_subnets=props.task_subnets,
            security_groups=[self.service_security_group],
            assign_public_ip=False,
            health_check_grace_period=Duration.seconds(config.health_check_grace_period_seconds),
            deployment_controller=ecs.DeploymentController(type=ecs.DeploymentControllerType.CODE_DEPLOY),
            # Ignored under CodeDeploy (it swaps whole task sets); full capacity if ECS ever controls it.
            min_healthy_percent=100,
            max_healthy_percent=200,
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
        )
        # Budgets only the config knows, recorded for the Property 10 rule.
        cast(ecs.CfnService, self.service.node.default_child).add_metadata(
            LONGEST_REQUEST_METADATA, config.longest_request_seconds
        )
        # Also opens the container port from the load balancer's group to the tasks', and only that.
        self.service.attach_to_application_target_group(self.entrance.blue_target_group)

        self.rollback_alarms: list[cloudwatch.IAlarm] = rollback_alarms(
            self,
            config=config,
            load_balancer=self.entrance.load_balancer,
            target_groups={"Blue": self.entrance.blue_target_group, "Green": self.entrance.green_target_group},
        )
        self.scaling: autoscaling.ScalableTarget = task_count_scaling(
            self, config=config, scaling=props.scaling, cluster=self.cluster, service=self.service
        )
        self.release = CodeDeployRelease(
            self,
            config=config,
            strategy=props.strategy,
            rollback=props.rollback,
            service=self.service,
            task=self.task,
            entrance=self.entrance,
            alarms=self.rollback_alarms,
            vpc=props.vpc,
            encryption_key=props.encryption_key,
        )

    # ---- the parts' outputs most callers need -------------------------------------------------

    @property
    def load_balancer(self) -> elbv2.ApplicationLoadBalancer:
        return self.entrance.load_balancer

    @property
    def task_definition(self) -> ecs.FargateTaskDefinition:
        return self.task.task_definition

    # ---- sidecars -----------------------------------------------------------------------------

    def add_sidecar(
        self,
        container_id: str,
        *,
        image: ecs.ContainerImage,
        log_stream_prefix: str,
        user: str,
        memory_reservation_mib: int = 128,
        parameters: Mapping[str, ssm.IStringParameter] | None = None,
    ) -> ecs.ContainerDefinition:
        """A non-essential container beside the app (see `ApplicationTask.add_sidecar`)."""
        return self.task.add_sidecar(
            container_id,
            image=image,
            log_stream_prefix=log_stream_prefix,
            user=user,
            memory_reservation_mib=memory_reservation_mib,
            parameters=parameters,
        )

    def add_metrics_collector(
        self, workspace: PrometheusWorkspace, *, config: MonitoringConfig, job: str = "cashtrace-api"
    ) -> ecs.ContainerDefinition:
        """The ADOT collector sidecar: scrapes the app on localhost, remote-writes to `workspace` only.

        Its configuration travels through an SSM parameter (ADOT's `AOT_CONFIG_CONTENT`), so the
        task definition carries no plain environment variables for it.
        """
        task_definition = self.task.task_definition
        parameter = ssm.StringParameter(
            task_definition,
            "PrometheusCollectorConfig",
            description=f"ADOT collector configuration for {job} ({workspace.environment_name})",
            string_value=collector_config(
                region=Stack.of(self).region,
                remote_write_url=workspace.remote_write_url,
                config=config,
                job=job,
                environment=workspace.environment_name,
            ),
            tier=ssm.ParameterTier.STANDARD,
        )
        container = self.add_sidecar(
            "PrometheusCollector",
            image=ecs.ContainerImage.from_registry(f"{COLLECTOR_IMAGE}:{config.collector_image_tag}"),
            log_stream_prefix="prometheus-collector",
            user=COLLECTOR_USER,
            parameters={"AOT_CONFIG_CONTENT": parameter},
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
