"""`Monitoring`: one environment's dashboard, alarms and paging path, built on cdk-monitoring-constructs.

Critical alarms page PagerDuty through an encrypted SNS topic; warnings go to a second topic.
Alarms other constructs own (the service's rollback alarms, backup and secret-access alarms)
join through `page_on` / `warn_on`, which attach actions to those same alarm objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import Duration, SecretValue, Stack, Tags
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from cdk_monitoring_constructs import (
    AlarmFactoryDefaults,
    CustomMetricGroup,
    CustomMetricWithAlarm,
    CustomThreshold,
    DefaultDashboardFactory,
    ElastiCacheClusterType,
    HighConnectionCountThreshold,
    IAlarmActionStrategy,
    MaxItemsCountThreshold,
    MetricFactoryDefaults,
    MinUsageCountThreshold,
    MonitoringFacade,
    NotificationsFailedThreshold,
    SnsAlarmActionStrategy,
    UsageThreshold,
)
from constructs import Construct

from cashtrace_constructs.checks.every_alarm_has_action import SEVERITY_TAG
from cashtrace_constructs.config import MonitoringConfig
from cashtrace_constructs.errors import DeploymentError, ErrorCode

CRITICAL = "Critical"
WARNING = "Warning"
RUNBOOKS = "docs/monitoring.md#runbooks"
_GIB = 1024**3


def pagerduty_secret_name(environment_name: str) -> str:
    """Where an operator stores the PagerDuty CloudWatch-integration URL of one environment."""
    return f"cashtrace/{environment_name}/pagerduty-integration-url"


def redis_member_cluster_ids(replication_group: elasticache.CfnReplicationGroup) -> list[str]:
    """The node clusters of a cluster-mode-disabled replication group (`<group>-001`, ...).

    ElastiCache publishes host and engine metrics per node cluster, not per replication group.
    """
    count = replication_group.num_cache_clusters
    replicas = replication_group.replicas_per_node_group
    if count is None and replication_group.num_node_groups == 1 and isinstance(replicas, int):
        # One shard given as primary + replicas: the same node clusters as num_cache_clusters.
        count = replicas + 1
    if not isinstance(count, int) or count < 1:
        raise DeploymentError(
            ErrorCode.CONFIG_INVALID,
            "the replication group needs a literal num_cache_clusters to be monitored per node",
            field="cache.num_cache_clusters",
        )
    return [f"{replication_group.ref}-{index:03d}" for index in range(1, count + 1)]


@jsii.implements(IAlarmActionStrategy)
class _SeverityAction:
    """The facade's action for one severity: the SNS topic(s), the severity tag, and the alarm recorded.

    Called once per alarm as the facade creates it (asking the facade for its alarms afterwards
    costs ~90 ms per call across jsii).
    """

    def __init__(self, sns_action: SnsAlarmActionStrategy, severity: str, created: list[cloudwatch.IAlarm]) -> None:
        self.sns_action = sns_action
        self.severity = severity
        self.created = created

    def add_alarm_actions(
        self,
        *,
        alarm: cloudwatch.AlarmBase,
        action: IAlarmActionStrategy,
        custom_params: Mapping[str, Any] | None = None,
        custom_tags: Sequence[str] | None = None,
        dedupe_string: str | None = None,
        disambiguator: str | None = None,
    ) -> None:
        self.sns_action.add_alarm_actions(
            alarm=alarm,
            action=action,
            custom_params=custom_params,
            custom_tags=custom_tags,
            dedupe_string=dedupe_string,
            disambiguator=disambiguator,
        )
        Tags.of(alarm).add(SEVERITY_TAG, self.severity.lower())
        self.created.append(alarm)


class Monitoring(Construct):
    """The dashboard `CashTrace-<env>`, the critical (paging) and warning topics, and the alarms.

    Public: `critical_topic`, `warning_topic`, `pagerduty_subscription`, `facade` (the
    `MonitoringFacade`), `dashboard`, `paging_alarms`, `warning_alarms`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environment_name: str,
        config: MonitoringConfig,
        encryption_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.environment_name = environment_name
        self.paging_alarms: list[cloudwatch.IAlarm] = []
        self.warning_alarms: list[cloudwatch.IAlarm] = []

        # CloudWatch and EventBridge publish into the topics with the environment key; AWS's
        # documented key-policy statement for encrypted alarm topics.
        encryption_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAlarmsAndEventsToPublishToEncryptedTopics",
                principals=[
                    iam.ServicePrincipal("cloudwatch.amazonaws.com"),
                    iam.ServicePrincipal("events.amazonaws.com"),
                ],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        self.critical_topic = sns.Topic(
            self,
            "CriticalTopic",
            display_name=f"CashTrace {environment_name} critical alarms (pages on-call)",
            master_key=encryption_key,
            enforce_ssl=True,
        )
        self.warning_topic = sns.Topic(
            self,
            "WarningTopic",
            display_name=f"CashTrace {environment_name} warnings",
            master_key=encryption_key,
            enforce_ssl=True,
        )
        self.pagerduty_secret_name = pagerduty_secret_name(environment_name)
        # A CloudFormation dynamic reference: the integration URL (it embeds PagerDuty's routing
        # key) is resolved by CloudFormation at deploy time and never written into the template.
        self.pagerduty_subscription = sns.Subscription(
            self,
            "PagerDuty",
            topic=self.critical_topic,
            protocol=sns.SubscriptionProtocol.HTTPS,
            endpoint=SecretValue.secrets_manager(self.pagerduty_secret_name).unsafe_unwrap(),
        )

        self.critical_action = _SeverityAction(
            SnsAlarmActionStrategy(
                on_alarm_topic=self.critical_topic,
                # PagerDuty resolves the incident when the alarm returns to OK.
                on_ok_topic=self.critical_topic,
            ),
            CRITICAL,
            self.paging_alarms,
        )
        self.warning_action = _SeverityAction(
            SnsAlarmActionStrategy(on_alarm_topic=self.warning_topic), WARNING, self.warning_alarms
        )
        dashboards = DefaultDashboardFactory(
            self,
            "Dashboards",
            dashboard_name_prefix=f"CashTrace-{environment_name}",
            create_dashboard=True,
            create_summary_dashboard=False,
            create_alarm_dashboard=False,
        )
        self.facade = MonitoringFacade(
            self,
            "Facade",
            alarm_factory_defaults=AlarmFactoryDefaults(
                actions_enabled=True,
                alarm_name_prefix=f"cashtrace-{environment_name}",
                action=self.warning_action,
                disambiguator_action={CRITICAL: self.critical_action, WARNING: self.warning_action},
                evaluation_periods=config.evaluation_periods,
                datapoints_to_alarm=config.evaluation_periods,
                runbook_link=RUNBOOKS,
            ),
            metric_factory_defaults=MetricFactoryDefaults(period=Duration.minutes(1)),
            dashboard_factory=dashboards,
        )
        self.dashboard = dashboards.dashboard
        # A PagerDuty endpoint that rejects deliveries would silence paging; tell the warning topic.
        self.facade.monitor_sns_topic(
            topic=self.critical_topic,
            alarm_friendly_name="PagingTopic",
            human_readable_name="Paging topic (PagerDuty deliveries)",
            add_message_notifications_failed_alarm={
                WARNING: NotificationsFailedThreshold(
                    max_notifications_failed_count=0, evaluation_periods=1, datapoints_to_alarm=1
                )
            },
        )

    # ---- resources this construct watches -------------------------------------------------

    def monitor_service(
        self,
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
        config = self.config
        self.facade.monitor_simple_fargate_service(
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
        self.facade.monitor_custom(
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
        self._load_balancer_widgets(load_balancer, name)

    def monitor_internal_service(self, *, service: ecs.FargateService, name: str) -> None:
        """CPU and memory of an operator tool (Grafana): warnings only, it never pages."""
        self.facade.monitor_simple_fargate_service(
            fargate_service=service,
            alarm_friendly_name=name,
            human_readable_name=f"{name} (operators)",
            add_cpu_usage_alarm={WARNING: UsageThreshold(max_usage_percent=self.config.service_cpu_percent)},
            add_memory_usage_alarm={WARNING: UsageThreshold(max_usage_percent=self.config.service_memory_percent)},
        )

    def _load_balancer_widgets(self, load_balancer: elbv2.IApplicationLoadBalancer, name: str) -> None:
        # Dashboard only: the alarms on these signals belong to the service's rollback path.
        metrics = load_balancer.metrics
        every_minute = Duration.minutes(1)
        self.facade.monitor_custom(
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

    def monitor_database(
        self,
        *,
        instance: rds.IDatabaseInstance,
        read_replicas: Sequence[rds.IDatabaseInstance] = (),
        name: str = "Database",
    ) -> None:
        """CPU, free storage and connections of an RDS instance; replica lag of its read replicas."""
        config = self.config
        self.facade.monitor_rds_instance(
            instance=instance,
            alarm_friendly_name=name,
            human_readable_name=f"{name} (RDS PostgreSQL)",
            add_cpu_usage_alarm={WARNING: UsageThreshold(max_usage_percent=config.database_cpu_percent)},
            # A full volume stops every write: page.
            add_free_storage_space_alarm={
                CRITICAL: MinUsageCountThreshold(min_count=config.database_min_free_storage_gib * _GIB)
            },
            add_max_connection_count_alarm={
                WARNING: HighConnectionCountThreshold(max_connection_count=config.database_max_connections)
            },
        )
        for index, replica in enumerate(read_replicas):
            self._warn_above(
                alarm_friendly_name=f"{name}Replica{index + 1}",
                human_readable_name=f"{name} read replica {index + 1}",
                title="Replica lag (s)",
                metric=replica.metric("ReplicaLag", statistic="Maximum", period=Duration.minutes(1)),
                metric_alarm_name="ReplicaLag",
                threshold=config.database_max_replica_lag_seconds,
            )

    def monitor_cache(self, *, cluster_ids: Sequence[str], name: str = "Cache") -> None:
        """CPU, evictions and memory of each Redis node cluster (see `redis_member_cluster_ids`)."""
        config = self.config
        for index, cluster_id in enumerate(cluster_ids):
            node = f"{name}Node{index + 1}"
            self.facade.monitor_elasti_cache_cluster(
                cluster_id=cluster_id,
                cluster_type=ElastiCacheClusterType.REDIS,
                alarm_friendly_name=node,
                human_readable_name=f"{name} node {index + 1} (Redis)",
                add_cpu_usage_alarm={WARNING: UsageThreshold(max_usage_percent=config.cache_cpu_percent)},
                add_max_evicted_items_count_alarm={
                    WARNING: MaxItemsCountThreshold(max_items_count=config.cache_max_evictions)
                },
            )
            self._warn_above(
                alarm_friendly_name=f"{node}Memory",
                human_readable_name=f"{name} node {index + 1} memory",
                title="Redis memory used (% of maxmemory)",
                metric=cloudwatch.Metric(
                    namespace="AWS/ElastiCache",
                    metric_name="DatabaseMemoryUsagePercentage",
                    dimensions_map={"CacheClusterId": cluster_id},
                    statistic="Maximum",
                    period=Duration.minutes(1),
                ),
                metric_alarm_name="MemoryUsage",
                threshold=config.cache_memory_percent,
            )

    def _warn_above(
        self,
        *,
        alarm_friendly_name: str,
        human_readable_name: str,
        title: str,
        metric: cloudwatch.Metric,
        metric_alarm_name: str,
        threshold: float,
    ) -> None:
        """One metric on the dashboard with a warning alarm above `threshold`."""
        self.facade.monitor_custom(
            alarm_friendly_name=alarm_friendly_name,
            human_readable_name=human_readable_name,
            metric_groups=[
                CustomMetricGroup(
                    title=title,
                    metrics=[
                        CustomMetricWithAlarm(
                            metric=metric,
                            alarm_friendly_name=metric_alarm_name,
                            add_alarm={
                                WARNING: CustomThreshold(
                                    threshold=threshold,
                                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                                )
                            },
                        )
                    ],
                )
            ],
        )

    def notify_pipeline_failures(self, *, pipeline_name: str) -> events.Rule:
        """Failed executions of the CD pipeline (same account and region) to the warning topic.

        CodePipeline publishes no failure metric, so an EventBridge rule carries the event; the
        message names only the pipeline, the execution and its state.
        """
        rule = events.Rule(
            self,
            "PipelineFailures",
            description=f"CashTrace {self.environment_name}: failed executions of {pipeline_name}",
            event_pattern=events.EventPattern(
                source=["aws.codepipeline"],
                detail_type=["CodePipeline Pipeline Execution State Change"],
                detail={"state": ["FAILED"], "pipeline": [pipeline_name]},
            ),
        )
        rule.add_target(
            events_targets.SnsTopic(
                self.warning_topic,
                message=events.RuleTargetInput.from_text(
                    f"CashTrace {self.environment_name}: pipeline {events.EventField.from_path('$.detail.pipeline')} "
                    f"execution {events.EventField.from_path('$.detail.execution-id')} FAILED"
                ),
            )
        )
        self.facade.monitor_custom(
            alarm_friendly_name="PipelineFailures",
            human_readable_name="CD pipeline failures",
            metric_groups=[
                CustomMetricGroup(
                    title="Failed pipeline executions",
                    metrics=[
                        cloudwatch.Metric(
                            namespace="AWS/Events",
                            metric_name="MatchedEvents",
                            dimensions_map={"RuleName": rule.rule_name},
                            statistic="Sum",
                            period=Duration.minutes(5),
                        )
                    ],
                )
            ],
        )
        return rule

    # ---- alarms other constructs own -------------------------------------------------------

    def page_on(self, alarms: Sequence[cloudwatch.IAlarm], *, title: str = "Paging alarms") -> None:
        """Make existing alarms page: alarm and OK actions to the critical topic, plus a dashboard row."""
        self._join(alarms, severity=CRITICAL, title=title)
        self.paging_alarms.extend(alarms)

    def warn_on(self, alarms: Sequence[cloudwatch.IAlarm], *, title: str = "Warning alarms") -> None:
        """Send existing alarms to the warning topic, plus a dashboard row."""
        self._join(alarms, severity=WARNING, title=title)
        self.warning_alarms.extend(alarms)

    def _join(self, alarms: Sequence[cloudwatch.IAlarm], *, severity: str, title: str) -> None:
        if not alarms:
            return
        topic = self.critical_topic if severity == CRITICAL else self.warning_topic
        for alarm in alarms:
            if not isinstance(alarm, cloudwatch.AlarmBase) or Stack.of(alarm).node.path != Stack.of(self).node.path:
                raise DeploymentError(
                    ErrorCode.CONFIG_INVALID,
                    f"{alarm.node.path} is not an alarm of this environment stack; only its own alarms can page",
                    field="monitoring.alarms",
                )
            alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
            if severity == CRITICAL:
                alarm.add_ok_action(cloudwatch_actions.SnsAction(topic))
            Tags.of(alarm).add(SEVERITY_TAG, severity.lower())
        self.facade.add_medium_header(title)
        self.facade.add_widget(
            cloudwatch.AlarmStatusWidget(alarms=list(alarms), title=f"{title} ({severity.lower()})", width=24)
        )
