"""How a new task definition reaches production: rollback alarms, the CodeDeploy release and its deploy hook.

A new revision starts a CodeDeploy deployment during `cdk deploy` (`EcsDeployment`); the hook
checks the green tasks on the test listener, and the rollback alarms, failures and stops roll
the deployment back while the blue tasks are still there (Property 5).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from cdk.ecs_codedeploy import AppSpecHooks, EcsDeployment, TargetService
from constructs import Construct

from cashtrace_constructs.config import (
    DeploymentStrategy,
    RollbackConfig,
    ServiceConfig,
    StrategyType,
)
from cashtrace_constructs.function import PythonHandler, PythonHandlerProps
from cashtrace_constructs.service.load_balancer import PublicLoadBalancer
from cashtrace_constructs.service.task import ApplicationTask
from cashtrace_constructs.timing import ROLLBACK_BUDGET_METADATA


def rollback_alarms(
    scope: Construct,
    *,
    config: ServiceConfig,
    load_balancer: elbv2.ApplicationLoadBalancer,
    target_groups: Mapping[str, elbv2.ApplicationTargetGroup],
) -> list[cloudwatch.IAlarm]:
    """5xx, p99 latency and unhealthy hosts per target group: what rolls a deployment back (Property 5)."""
    period = Duration.seconds(config.alarm_period_seconds)
    common = {
        "evaluation_periods": config.alarm_evaluation_periods,
        "datapoints_to_alarm": config.alarm_evaluation_periods,
        "treat_missing_data": cloudwatch.TreatMissingData.NOT_BREACHING,
    }
    metrics = load_balancer.metrics
    alarms: list[cloudwatch.IAlarm] = [
        cloudwatch.Alarm(
            scope,
            "Target5xxAlarm",
            alarm_description=f"{config.name}: targets answer 5xx (rolls a deployment back)",
            metric=metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=period, statistic="Sum"),
            threshold=config.target_5xx_threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            **common,  # type: ignore[arg-type]
        ),
        cloudwatch.Alarm(
            scope,
            "P99LatencyAlarm",
            alarm_description=f"{config.name}: p99 target response time too high (rolls a deployment back)",
            metric=metrics.target_response_time(period=period, statistic="p99"),
            threshold=config.p99_latency_threshold_ms / 1000,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            **common,  # type: ignore[arg-type]
        ),
    ]
    # UnHealthyHostCount only exists per target group; CodeDeploy swaps which one is live.
    for name, target_group in target_groups.items():
        alarms.append(
            cloudwatch.Alarm(
                scope,
                f"{name}UnhealthyHostsAlarm",
                alarm_description=f"{config.name}: unhealthy tasks in the {name.lower()} target group",
                metric=target_group.metrics.unhealthy_host_count(period=period, statistic="Maximum"),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                **common,  # type: ignore[arg-type]
            )
        )
    return alarms


class CodeDeployRelease:
    """The CodeDeploy deployment group, its health-check hook and the deployment, built into `scope`.

    Public: `deployment_group`, `test_url`, `health_check_hook`, `deployment`.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        config: ServiceConfig,
        strategy: DeploymentStrategy,
        rollback: RollbackConfig,
        service: ecs.FargateService,
        task: ApplicationTask,
        entrance: PublicLoadBalancer,
        alarms: list[cloudwatch.IAlarm],
        vpc: ec2.IVpc,
        encryption_key: kms.IKey,
    ) -> None:
        self.deployment_group = codedeploy.EcsDeploymentGroup(
            scope,
            "DeploymentGroup",
            service=service,
            deployment_config=_deployment_config(scope, config, strategy),
            blue_green_deployment_config=codedeploy.EcsBlueGreenDeploymentConfig(
                blue_target_group=entrance.blue_target_group,
                green_target_group=entrance.green_target_group,
                listener=entrance.production_listener,
                test_listener=entrance.test_listener,
                # Blue tasks outlive alarm detection: a rollback after the switch is a traffic switch.
                termination_wait_time=Duration.minutes(config.blue_termination_wait_minutes),
            ),
            alarms=alarms,
            auto_rollback=codedeploy.AutoRollbackConfig(
                failed_deployment=True,
                deployment_in_alarm=rollback.automatic,
                stopped_deployment=True,
            ),
        )
        deployment_group_resource = cast(codedeploy.CfnDeploymentGroup, self.deployment_group.node.default_child)
        deployment_group_resource.add_metadata(ROLLBACK_BUDGET_METADATA, rollback.rollback_timeout)

        self.test_url = entrance.test_url(strategy.health_check_path)
        # With TLS the hook connects to the load balancer and verifies the certificate's host name.
        connect_host = entrance.test_connect_host
        tls_environment = {"TEST_CONNECT_HOST": connect_host} if connect_host else {}
        self.health_check_hook = PythonHandler(
            scope,
            "HealthCheckHook",
            props=PythonHandlerProps(
                source="deployment_health_check",
                description=f"{config.name}: AfterAllowTestTraffic health checks against the test listener",
                vpc=vpc,
                encryption_key=encryption_key,
                timeout_seconds=config.deployment_hook.timeout_seconds,
                environment={
                    "TEST_URL": self.test_url,
                    "HEALTH_CHECK_TIMEOUT_SECONDS": str(strategy.health_check_timeout),
                    "HEALTH_CHECK_FAILURES": str(rollback.health_check_failures),
                    "REQUIRED_SUCCESSES": str(config.deployment_hook.required_successes),
                    "CHECK_SPACING_SECONDS": str(config.deployment_hook.check_spacing_seconds),
                    **tls_environment,
                },
            ),
        )
        hook_function = self.health_check_hook.function
        hook_function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["codedeploy:PutLifecycleEventHookExecutionStatus", "codedeploy:GetDeployment"],
                resources=[self.deployment_group.deployment_group_arn],
            )
        )
        # Its HealthCheckResults go to this account's default bus, bound for the deployment record.
        stack = Stack.of(scope)
        hook_function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["events:PutEvents"],
                resources=[f"arn:{stack.partition}:events:{stack.region}:{stack.account}:event-bus/default"],
            )
        )
        # The managed CodeDeploy ECS policy only invokes functions named CodeDeployHook_*.
        hook_function.grant_invoke(self.deployment_group.role)
        self.deployment = EcsDeployment(
            deployment_group=self.deployment_group,
            target_service=TargetService(
                task_definition=task.task_definition,
                container_name=task.container.container_name,
                container_port=config.container_port,
            ),
            hooks=AppSpecHooks(after_allow_test_traffic=hook_function),
            # The release being rolled out, in the deployment's own words (docs/pipeline.md, deployment record).
            description=f"{config.name} commit={config.commit_sha or 'unknown'} digest={config.image_digest}",
            # CodeDeploy reports success only after the blue tasks are gone; the stack update waits for it.
            timeout=Duration.minutes(config.canary_interval_minutes + config.blue_termination_wait_minutes + 20),
        )
        # The deployment provider creates its log groups unencrypted; like every other log group of
        # ours they use the environment key (rule CT-P7-DataStoreResidency).
        for node in self.deployment_group.node.find_all():
            if isinstance(node, logs.CfnLogGroup) and node.kms_key_id is None:
                node.kms_key_id = encryption_key.key_arn


def _deployment_config(
    scope: Construct, config: ServiceConfig, strategy: DeploymentStrategy
) -> codedeploy.IEcsDeploymentConfig:
    if strategy.type is StrategyType.CANARY:
        return codedeploy.EcsDeploymentConfig(
            scope,
            "CanaryConfig",
            traffic_routing=codedeploy.TrafficRouting.time_based_canary(
                interval=Duration.minutes(config.canary_interval_minutes),
                percentage=strategy.canary_percentage or 10,
            ),
        )
    return codedeploy.EcsDeploymentConfig.ALL_AT_ONCE
