"""Dashboard rows and alarms of Fargate services: the API (pages on a task shortfall) and operator tools."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from cdk_monitoring_constructs import (
    CustomMetricGroup,
    CustomMetricWithAlarm,
    CustomThreshold,
    MonitoringFacade,
    UsageThreshold,
)

from cashtrace_constructs.config import MonitoringConfig
from cashtrace_constructs.monitoring.paging import CRITICAL, WARNING


def monitor_service(
    facade: MonitoringFacade,
    config: MonitoringConfig,
    *,
    service: ecs.FargateService,
    load_balancer: elbv2.IApplicationLoadBalancer,
    min_tasks: int,
    max_tasks: int,
    name: str = "Api",
) -> None:
    """CPU, memory and running-vs-desired tasks of a Fargate service, plus its ALB's traffic.

    The ALB's 5xx, p99 and unhealthy-host alarms are the service's rollback alarms; join them
    with `page_on(service.rollback_alarms)` rather than creating copies here. The task-count
    alarm reads Container Insights (`ECS/ContainerInsights`), which the cluster must enable.
    """
    facade.monitor_simple_fargate_service(
        fargate_service=service,
        alarm_friendly_name=name,
        human_readable_name=f"{name} service",
        min_auto_scaling_task_count=min_tasks,
        max_auto_scaling_task_count=max_tasks,
        add_cpu_usage_alarm={WARNING: UsageThreshold(max_usage_percent=config.service_cpu_percent)},
        add_memory_usage_alarm={WARNING: UsageThreshold(max_usage_percent=config.service_memory_percent)},
    )
    dimensions = {"ClusterName": service.cluster.cluster_name, "ServiceName": service.service_name}
    shortfall = cloudwatch.MathExpression(
        expression="desired - running",
        label="Desired minus running tasks",
        period=Duration.minutes(1),
        using_metrics={
            "desired": cloudwatch.Metric(
                namespace="ECS/ContainerInsights",
                metric_name="DesiredTaskCount",
                dimensions_map=dimensions,
                statistic="Maximum",
                period=Duration.minutes(1),
            ),
            "running": cloudwatch.Metric(
                namespace="ECS/ContainerInsights",
                metric_name="RunningTaskCount",
                dimensions_map=dimensions,
                statistic="Minimum",
                period=Duration.minutes(1),
            ),
        },
    )
    facade.monitor_custom(
        alarm_friendly_name=f"{name}Tasks",
        human_readable_name=f"{name} running vs desired tasks",
        metric_groups=[
            CustomMetricGroup(
                title="Task shortfall (desired - running)",
                metrics=[
                    CustomMetricWithAlarm(
                        metric=shortfall,
                        alarm_friendly_name="TaskShortfall",
                        add_alarm={
                            CRITICAL: CustomThreshold(
                                threshold=0,
                                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                                evaluation_periods=config.service_task_shortfall_minutes,
                                datapoints_to_alarm=config.service_task_shortfall_minutes,
                                additional_description="Running tasks stayed below the desired count.",
                            )
                        },
                    )
                ],
            ),
        ],
    )
    _load_balancer_widgets(facade, load_balancer, name)


def monitor_internal_service(
    facade: MonitoringFacade, config: MonitoringConfig, *, service: ecs.FargateService, name: str
) -> None:
    """CPU and memory of an operator tool (Grafana): warnings only, it never pages."""
    facade.monitor_simple_fargate_service(
        fargate_service=service,
        alarm_friendly_name=name,
        human_readable_name=f"{name} (operators)",
        add_cpu_usage_alarm={WARNING: UsageThreshold(max_usage_percent=config.service_cpu_percent)},
        add_memory_usage_alarm={WARNING: UsageThreshold(max_usage_percent=config.service_memory_percent)},
    )


def _load_balancer_widgets(facade: MonitoringFacade, load_balancer: elbv2.IApplicationLoadBalancer, name: str) -> None:
    # Dashboard only: the alarms on these signals belong to the service's rollback path.
    metrics = load_balancer.metrics
    every_minute = Duration.minutes(1)
    facade.monitor_custom(
        alarm_friendly_name=f"{name}LoadBalancer",
        human_readable_name=f"{name} load balancer",
        metric_groups=[
            CustomMetricGroup(
                title="Requests and errors",
                metrics=[
                    metrics.request_count(period=every_minute),
                    metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=every_minute),
                    metrics.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=every_minute),
                ],
            ),
            CustomMetricGroup(
                title="Latency p99 (s)",
                metrics=[metrics.target_response_time(statistic="p99", period=every_minute)],
            ),
        ],
    )
