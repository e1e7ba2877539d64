"""`BlueGreenService`: a Fargate service behind an ALB, released blue-green (or canary) by CodeDeploy.

A new task definition revision starts a CodeDeploy deployment during `cdk deploy`; rollback
alarms, a health-check hook on the test listener and kept blue tasks make a bad release roll
back by itself. Timing numbers are checked by the Property 5/9/10 rules (docs/service.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_wafv2 as wafv2
from cdk.ecs_codedeploy import AppSpecHooks, EcsDeployment, TargetService
from constructs import Construct

from cashtrace_constructs.config import (
    AutoScalingConfig,
    DeploymentStrategy,
    RollbackConfig,
    ServiceConfig,
    StrategyType,
)
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.function import PythonHandler
from cashtrace_constructs.log_buckets import access_log_bucket
from cashtrace_constructs.log_retention import retention
from cashtrace_constructs.timing import LONGEST_REQUEST_METADATA, ROLLBACK_BUDGET_METADATA

# Fargate's valid CPU units -> memory MiB choices (Fargate quota table).
_FARGATE_MEMORY: Mapping[int, range] = {
    256: range(512, 2049, 512),
    512: range(1024, 4097, 1024),
    1024: range(2048, 8193, 1024),
    2048: range(4096, 16385, 1024),
    4096: range(8192, 30721, 1024),
}

_WAF_MANAGED_RULE_GROUPS: tuple[str, ...] = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)


def fargate_size(size: str, *, field_path: str = "size") -> tuple[int, int]:
    """`"1024/2048"` -> (cpu units, memory MiB), refusing combinations Fargate does not run."""
    try:
        cpu_text, memory_text = size.split("/")
        cpu, memory = int(cpu_text), int(memory_text)
    except ValueError:
        raise DeploymentError(
            ErrorCode.CONFIG_INVALID, f"must look like '<cpu>/<memory MiB>', got {size!r}", field=field_path
        ) from None
    if memory not in _FARGATE_MEMORY.get(cpu, range(0)):
        raise DeploymentError(
            ErrorCode.RESOURCE_LIMIT, f"Fargate cannot run {cpu} CPU units with {memory} MiB", field=field_path
        )
    return cpu, memory


@dataclass(frozen=True)
class BlueGreenServiceProps:
    """Everything that differs between two services (or two environments) of this construct."""

    environment_name: str
    service: ServiceConfig
    size: str
    scaling: AutoScalingConfig
    strategy: DeploymentStrategy
    rollback: RollbackConfig
    # Host name the certificate covers (the environment URL); the hook calls it when TLS is on.
    public_host: str | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, ecs.Secret] = field(default_factory=dict)


class BlueGreenService(Construct):
    """ECS Fargate service, ALB (WAF, access logs, prod + test listeners), CodeDeploy, autoscaling, alarms."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: BlueGreenServiceProps,
        vpc: ec2.IVpc,
        encryption_key: kms.IKey,
        task_subnets: ec2.SubnetSelection,
        load_balancer_subnets: ec2.SubnetSelection,
        test_client_cidrs: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        config = props.service
        cpu, memory = fargate_size(props.size, field_path=f"{props.environment_name}.service.size")
        self.props = props
        stack = Stack.of(self)

        # ---- Load balancer, access logs, WAF ----
        self.access_log_bucket = self._access_log_bucket()
        self.load_balancer_security_group = ec2.SecurityGroup(
            self,
            "LoadBalancerSecurityGroup",
            vpc=vpc,
            description=f"{config.name} load balancer: public listeners, test listener for the deploy hook only",
            allow_all_outbound=False,
        )
        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            vpc_subnets=load_balancer_subnets,
            internet_facing=True,
            security_group=self.load_balancer_security_group,
            drop_invalid_header_fields=True,
            deletion_protection=True,
            # Longer than any request, so the ALB never cuts a request the target still serves.
            idle_timeout=Duration.seconds(config.longest_request_seconds + 30),
        )
        self.load_balancer.log_access_logs(self.access_log_bucket, prefix=f"{config.name}-alb")
        self.web_acl = self._web_acl(props, encryption_key)

        # ---- Task definition ----
        self.log_group = logs.LogGroup(
            self,
            "ContainerLogs",
            retention=retention(
                config.log_retention_days, field=f"{props.environment_name}.service.log_retention_days"
            ),
            encryption_key=encryption_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "TaskDefinition",
            # Named, not derived from the construct path: the family must not change between a
            # top-level and a pipeline-staged deploy of the same environment (logical_ids.py).
            family=f"cashtrace-{props.environment_name}-{config.name}",
            cpu=cpu,
            memory_limit_mib=memory,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.ARM64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        self.repository = ecr.Repository.from_repository_attributes(
            self,
            "Repository",
            repository_arn=stack.format_arn(
                service="ecr",
                account=config.repository_account,
                resource="repository",
                resource_name=config.repository_name,
            ),
            repository_name=config.repository_name,
        )
        self.container = self.task_definition.add_container(
            "App",
            container_name=config.name,
            image=ecs.ContainerImage.from_ecr_repository(self.repository, config.image_tag),
            # Sidecars (e.g. an ADOT collector) may be added later; the app container alone is essential.
            essential=True,
            port_mappings=[ecs.PortMapping(container_port=config.container_port, protocol=ecs.Protocol.TCP)],
            environment={"PORT": str(config.container_port), **props.environment},
            secrets=dict(props.secrets),
            logging=ecs.LogDriver.aws_logs(stream_prefix=config.name, log_group=self.log_group),
            readonly_root_filesystem=True,
            # SIGTERM -> SIGKILL: in-flight requests (after the ALB drained the task) finish first.
            stop_timeout=Duration.seconds(config.stop_timeout_seconds),
        )

        # ---- Cluster and service ----
        self.cluster = ecs.Cluster(self, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENHANCED)
        self.service_security_group = ec2.SecurityGroup(
            self,
            "ServiceSecurityGroup",
            vpc=vpc,
            description=f"{config.name} tasks: the container port from the load balancer only",
            # Tasks reach AWS through the VPC endpoints and the internet through NAT (HTTPS only).
            allow_all_outbound=False,
        )
        self.service_security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs")
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=self.cluster,
            task_definition=self.task_definition,
            desired_count=props.scaling.min_replicas,
            vpc_subnets=task_subnets,
            security_groups=[self.service_security_group],
            assign_public_ip=False,
            health_check_grace_period=Duration.seconds(config.health_check_grace_period_seconds),
            deployment_controller=ecs.DeploymentController(type=ecs.DeploymentControllerType.CODE_DEPLOY),
            # Ignored under CodeDeploy; full healthy capacity should the controller ever change (Property 10).
            min_healthy_percent=100,
            max_healthy_percent=200,
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
        )

        service_resource = cast(ecs.CfnService, self.service.node.default_child)
        # Budgets only the config knows, recorded for the Property 10 rule.
        service_resource.add_metadata(LONGEST_REQUEST_METADATA, config.longest_request_seconds)

        # ---- Target groups and listeners ----
        self.blue_target_group = self._target_group("Blue", vpc, props)
        self.green_target_group = self._target_group("Green", vpc, props)
        self.service.attach_to_application_target_group(self.blue_target_group)
        self.certificate: acm.ICertificate | None = None
        if config.certificate_arn:
            self.certificate = acm.Certificate.from_certificate_arn(self, "Certificate", config.certificate_arn)
            self.production_listener = self.load_balancer.add_listener(
                "ProductionListener",
                port=443,
                protocol=elbv2.ApplicationProtocol.HTTPS,
                certificates=[elbv2.ListenerCertificate.from_certificate_manager(self.certificate)],
                ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
                default_target_groups=[self.blue_target_group],
                open=False,
            )
            self.load_balancer.add_redirect(source_port=80, target_port=443)
            production_port = 443
        else:
            # No certificate yet: plain HTTP until one is configured (docs/service.md).
            self.production_listener = self.load_balancer.add_listener(
                "ProductionListener",
                port=80,
                protocol=elbv2.ApplicationProtocol.HTTP,
                default_target_groups=[self.blue_target_group],
                open=False,
            )
            production_port = 80
        self.test_listener = self.load_balancer.add_listener(
            "TestListener",
            port=config.test_listener_port,
            protocol=elbv2.ApplicationProtocol.HTTPS if self.certificate else elbv2.ApplicationProtocol.HTTP,
            certificates=[elbv2.ListenerCertificate.from_certificate_manager(self.certificate)]
            if self.certificate
            else None,
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS if self.certificate else None,
            # Under CodeDeploy the replacement tasks register here first.
            default_target_groups=[self.green_target_group],
            open=False,
        )
        for port in sorted({80, production_port}):
            self.load_balancer_security_group.add_ingress_rule(
                ec2.Peer.any_ipv4(), ec2.Port.tcp(port), f"Public API traffic on {port}"
            )
        # Separate ingress resources: the NAT addresses are tokens nag cannot evaluate inside the group.
        for index, cidr in enumerate(test_client_cidrs):
            ec2.CfnSecurityGroupIngress(
                self,
                f"TestListenerIngress{index}",
                group_id=self.load_balancer_security_group.security_group_id,
                ip_protocol="tcp",
                from_port=config.test_listener_port,
                to_port=config.test_listener_port,
                cidr_ip=cidr,
                description="Deploy hook to the test listener",
            )
        self.load_balancer_security_group.add_egress_rule(
            self.service_security_group, ec2.Port.tcp(config.container_port), "To the tasks"
        )
        self.service_security_group.add_ingress_rule(
            self.load_balancer_security_group, ec2.Port.tcp(config.container_port), "From the load balancer"
        )

        # ---- Rollback alarms (Property 5) ----
        self.rollback_alarms: list[cloudwatch.IAlarm] = self._rollback_alarms(props)

        # ---- Autoscaling (Property 9) ----
        self.scaling = self._autoscaling(props)

        # ---- Deployments ----
        self.deployment_group: codedeploy.EcsDeploymentGroup | None = None
        self.deployment: EcsDeployment | None = None
        self.health_check_hook: PythonHandler | None = None
        self._code_deploy(props, vpc, encryption_key)

    # ---------------------------------------------------------------- helpers

    def _access_log_bucket(self) -> s3.Bucket:
        # S3 server access logs of the access-log bucket land here; logging this bucket too would loop.
        self.server_access_log_bucket = access_log_bucket(self, "ServerAccessLogs")
        # ALB access logs can only be written with SSE-S3 (AWS does not support SSE-KMS for them).
        return s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.server_access_log_bucket,
            server_access_logs_prefix="alb-access-logs/",
            removal_policy=RemovalPolicy.RETAIN,
            # PCI DSS 10.7: a year of audit trail.
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(400))],
        )

    def _web_acl(self, props: BlueGreenServiceProps, encryption_key: kms.IKey) -> wafv2.CfnWebACL:
        metric_prefix = f"cashtrace-{props.environment_name}-{props.service.name}"
        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name=group,
                priority=index,
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=group
                    )
                ),
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                    cloud_watch_metrics_enabled=True,
                    metric_name=f"{metric_prefix}-{group}",
                    sampled_requests_enabled=True,
                ),
            )
            for index, group in enumerate(_WAF_MANAGED_RULE_GROUPS)
        ]
        web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=rules,
            visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name=metric_prefix, sampled_requests_enabled=True
            ),
        )
        wafv2.CfnWebACLAssociation(
            self, "WebAclAssociation", resource_arn=self.load_balancer.load_balancer_arn, web_acl_arn=web_acl.attr_arn
        )
        # WAF only logs to log groups whose name starts with aws-waf-logs-.
        self.waf_log_group = logs.LogGroup(
            self,
            "WafLogs",
            log_group_name=f"aws-waf-logs-{metric_prefix}",
            retention=retention(props.service.log_retention_days),
            encryption_key=encryption_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        wafv2.CfnLoggingConfiguration(
            self,
            "WafLogging",
            resource_arn=web_acl.attr_arn,
            # WAF wants the bare log-group ARN; CDK's log_group_arn ends in ":*", which WAF rejects.
            log_destination_configs=[
                Stack.of(self).format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=self.waf_log_group.log_group_name,
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
        )
        return web_acl

    def _target_group(
        self, construct_id: str, vpc: ec2.IVpc, props: BlueGreenServiceProps
    ) -> elbv2.ApplicationTargetGroup:
        config = props.service
        return elbv2.ApplicationTargetGroup(
            self,
            construct_id,
            vpc=vpc,
            target_type=elbv2.TargetType.IP,
            port=config.container_port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            # Draining waits for the longest request (Property 10).
            deregistration_delay=Duration.seconds(config.deregistration_delay_seconds),
            health_check=elbv2.HealthCheck(
                path=props.strategy.health_check_path,
                interval=Duration.seconds(config.health_check_interval_seconds),
                timeout=Duration.seconds(
                    min(props.strategy.health_check_timeout, config.health_check_interval_seconds - 1)
                ),
                healthy_threshold_count=config.healthy_threshold,
                unhealthy_threshold_count=config.unhealthy_threshold,
                healthy_http_codes="200",
            ),
        )

    def _rollback_alarms(self, props: BlueGreenServiceProps) -> list[cloudwatch.IAlarm]:
        config = props.service
        period = Duration.seconds(config.alarm_period_seconds)
        common = {
            "evaluation_periods": config.alarm_evaluation_periods,
            "datapoints_to_alarm": config.alarm_evaluation_periods,
            "treat_missing_data": cloudwatch.TreatMissingData.NOT_BREACHING,
        }
        load_balancer_metrics = self.load_balancer.metrics
        alarms: list[cloudwatch.IAlarm] = [
            cloudwatch.Alarm(
                self,
                "Target5xxAlarm",
                alarm_description=f"{config.name}: targets answer 5xx (rolls a deployment back)",
                metric=load_balancer_metrics.http_code_target(
                    elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=period, statistic="Sum"
                ),
                threshold=config.target_5xx_threshold,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                **common,  # type: ignore[arg-type]
            ),
            cloudwatch.Alarm(
                self,
                "P99LatencyAlarm",
                alarm_description=f"{config.name}: p99 target response time too high (rolls a deployment back)",
                metric=load_balancer_metrics.target_response_time(period=period, statistic="p99"),
                threshold=config.p99_latency_threshold_ms / 1000,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                **common,  # type: ignore[arg-type]
            ),
        ]
        # UnHealthyHostCount only exists per target group; CodeDeploy swaps which one is live.
        for name, target_group in (("Blue", self.blue_target_group), ("Green", self.green_target_group)):
            alarms.append(
                cloudwatch.Alarm(
                    self,
                    f"{name}UnhealthyHostsAlarm",
                    alarm_description=f"{config.name}: unhealthy tasks in the {name.lower()} target group",
                    metric=target_group.metrics.unhealthy_host_count(period=period, statistic="Maximum"),
                    threshold=1,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    **common,  # type: ignore[arg-type]
                )
            )
        return alarms

    def _autoscaling(self, props: BlueGreenServiceProps) -> autoscaling.ScalableTarget:
        config, scaling = props.service, props.scaling
        target = autoscaling.ScalableTarget(
            self,
            "Scaling",
            service_namespace=autoscaling.ServiceNamespace.ECS,
            resource_id=f"service/{self.cluster.cluster_name}/{self.service.service_name}",
            scalable_dimension="ecs:service:DesiredCount",
            min_capacity=scaling.min_replicas,
            max_capacity=scaling.max_replicas,
        )
        target.node.add_dependency(self.service)
        minute = Duration.minutes(1)
        # Target tracking keeps the steady state and scales in slowly (scale_down_delay).
        for name, metric, target_value in (
            ("Cpu", self.service.metric_cpu_utilization(period=minute), scaling.target_cpu),
            ("Memory", self.service.metric_memory_utilization(period=minute), scaling.target_memory),
        ):
            target.scale_to_track_metric(
                f"{name}Tracking",
                custom_metric=metric,
                target_value=target_value,
                scale_in_cooldown=Duration.seconds(scaling.scale_down_delay),
                scale_out_cooldown=Duration.seconds(config.scale_out_cooldown_seconds),
            )
            # Target tracking waits for 3 one-minute datapoints; this step policy reacts to one.
            threshold = min(target_value + 15, 95)
            target.scale_on_metric(
                f"{name}StepScaleOut",
                metric=metric,
                scaling_steps=[
                    autoscaling.ScalingInterval(upper=threshold, change=0),
                    autoscaling.ScalingInterval(lower=threshold, change=50),
                    autoscaling.ScalingInterval(lower=min(threshold + 10, 99), change=100),
                ],
                adjustment_type=autoscaling.AdjustmentType.PERCENT_CHANGE_IN_CAPACITY,
                min_adjustment_magnitude=1,
                evaluation_periods=config.scale_out_evaluation_periods,
                datapoints_to_alarm=config.scale_out_evaluation_periods,
                cooldown=Duration.seconds(config.scale_out_cooldown_seconds),
                metric_aggregation_type=autoscaling.MetricAggregationType.MAXIMUM,
            )
        return target

    def _code_deploy(self, props: BlueGreenServiceProps, vpc: ec2.IVpc, encryption_key: kms.IKey) -> None:
        config, strategy = props.service, props.strategy
        if strategy.type is StrategyType.CANARY:
            deployment_config: codedeploy.IEcsDeploymentConfig = codedeploy.EcsDeploymentConfig(
                self,
                "CanaryConfig",
                traffic_routing=codedeploy.TrafficRouting.time_based_canary(
                    interval=Duration.minutes(config.canary_interval_minutes),
                    percentage=strategy.canary_percentage or 10,
                ),
            )
        else:
            deployment_config = codedeploy.EcsDeploymentConfig.ALL_AT_ONCE
        self.deployment_group = codedeploy.EcsDeploymentGroup(
            self,
            "DeploymentGroup",
            service=self.service,
            deployment_config=deployment_config,
            blue_green_deployment_config=codedeploy.EcsBlueGreenDeploymentConfig(
                blue_target_group=self.blue_target_group,
                green_target_group=self.green_target_group,
                listener=self.production_listener,
                test_listener=self.test_listener,
                # Blue tasks outlive alarm detection: a rollback after the switch is a traffic switch.
                termination_wait_time=Duration.minutes(config.blue_termination_wait_minutes),
            ),
            alarms=self.rollback_alarms,
            auto_rollback=codedeploy.AutoRollbackConfig(
                failed_deployment=True,
                deployment_in_alarm=props.rollback.automatic,
                stopped_deployment=True,
            ),
        )
        deployment_group_resource = cast(codedeploy.CfnDeploymentGroup, self.deployment_group.node.default_child)
        deployment_group_resource.add_metadata(ROLLBACK_BUDGET_METADATA, props.rollback.rollback_timeout)

        scheme = "https" if self.certificate else "http"
        host = (
            props.public_host if self.certificate and props.public_host else self.load_balancer.load_balancer_dns_name
        )
        self.test_url = f"{scheme}://{host}:{config.test_listener_port}{strategy.health_check_path}"
        self.health_check_hook = PythonHandler(
            self,
            "HealthCheckHook",
            source="deployment_health_check",
            description=f"{config.name}: AfterAllowTestTraffic health checks against the test listener",
            vpc=vpc,
            encryption_key=encryption_key,
            timeout_seconds=config.deployment_hook.timeout_seconds,
            environment={
                "TEST_URL": self.test_url,
                "HEALTH_CHECK_TIMEOUT_SECONDS": str(strategy.health_check_timeout),
                "HEALTH_CHECK_FAILURES": str(props.rollback.health_check_failures),
                "REQUIRED_SUCCESSES": str(config.deployment_hook.required_successes),
                "CHECK_SPACING_SECONDS": str(config.deployment_hook.check_spacing_seconds),
            },
        )
        hook_function = self.health_check_hook.function
        hook_function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["codedeploy:PutLifecycleEventHookExecutionStatus"],
                resources=[self.deployment_group.deployment_group_arn],
            )
        )
        # The managed CodeDeploy ECS policy only invokes functions named CodeDeployHook_*.
        hook_function.grant_invoke(self.deployment_group.role)
        self.deployment = EcsDeployment(
            deployment_group=self.deployment_group,
            target_service=TargetService(
                task_definition=self.task_definition,
                container_name=self.container.container_name,
                container_port=config.container_port,
            ),
            hooks=AppSpecHooks(after_allow_test_traffic=hook_function),
            description=f"{config.name} {config.image_tag}",
            # CodeDeploy reports success only after the blue tasks are gone; the stack update waits for it.
            timeout=Duration.minutes(config.canary_interval_minutes + config.blue_termination_wait_minutes + 20),
        )
        # The deployment provider creates its log groups unencrypted; like every other log group of
        # ours they use the environment key (rule CT-P7-DataStoreResidency).
        for node in self.deployment_group.node.find_all():
            if isinstance(node, logs.CfnLogGroup) and node.kms_key_id is None:
                node.kms_key_id = encryption_key.key_arn
