"""`Monitoring`: one environment's dashboard, alarms and paging path, built on cdk-monitoring-constructs.

Critical alarms page PagerDuty through an encrypted SNS topic; warnings go to a second topic.
Alarms other constructs own (the service's rollback alarms, backup and secret-access alarms)
join through `page_on` / `warn_on`, which attach actions to those same alarm objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration, SecretValue, Stack, Tags
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ecs as ecs
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
    DefaultDashboardFactory,
    MetricFactoryDefaults,
    MonitoringFacade,
    NotificationsFailedThreshold,
    SnsAlarmActionStrategy,
)
from constructs import Construct

from cashtrace_constructs.checks.every_alarm_has_action import SEVERITY_TAG
from cashtrace_constructs.config import MonitoringConfig, pagerduty_secret_name
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.monitoring import data_stores, services
from cashtrace_constructs.monitoring.paging import (
    CRITICAL,
    RUNBOOKS,
    WARNING,
    SeverityAction,
)


@dataclass(frozen=True, kw_only=True)
class MonitoringProps:
    environment_name: str
    config: MonitoringConfig
    # Encrypts the alarm topics; CloudWatch and EventBridge are allowed to publish with it.
    encryption_key: kms.IKey


class Monitoring(Construct):
    """The dashboard `CashTrace-<env>`, the critical (paging) and warning topics, and the alarms.

    Public: `critical_topic`, `warning_topic`, `pagerduty_subscription`, `facade` (the
    `MonitoringFacade`), `dashboard`, `paging_alarms`, `warning_alarms`.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: MonitoringProps) -> None:
        super().__init__(scope, construct_id)
        environment_name, config, encryption_key = props.environment_name, props.config, props.encryption_key
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

        self.critical_action = SeverityAction(
            SnsAlarmActionStrategy(
                on_alarm_topic=self.critical_topic,
                # PagerDuty resolves the incident when the alarm returns to OK.
                on_ok_topic=self.critical_topic,
            ),
            CRITICAL,
            self.paging_alarms,
        )
        self.warning_action = SeverityAction(
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

    # ---- resources this construct watches (sections in services.py and data_stores.py) -------

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
        with `page_on(service.rollback_alarms)` rather than creating copies here.
        """
        services.monitor_service(
            self.facade,
            self.config,
            service=service,
            load_balancer=load_balancer,
            min_tasks=min_tasks,
            max_tasks=max_tasks,
            name=name,
        )

    def monitor_internal_service(self, *, service: ecs.FargateService, name: str) -> None:
        """CPU and memory of an operator tool (Grafana): warnings only, it never pages."""
        services.monitor_internal_service(self.facade, self.config, service=service, name=name)

    def monitor_database(
        self,
        *,
        instance: rds.IDatabaseInstance,
        read_replicas: Sequence[rds.IDatabaseInstance] = (),
        name: str = "Database",
    ) -> None:
        """CPU, free storage and connections of an RDS instance; replica lag of its read replicas."""
        data_stores.monitor_database(
            self.facade, self.config, instance=instance, read_replicas=read_replicas, name=name
        )

    def monitor_cache(self, *, cluster_ids: Sequence[str], name: str = "Cache") -> None:
        """CPU, evictions and memory of each Redis node cluster (see `redis_member_cluster_ids`)."""
        data_stores.monitor_cache(self.facade, self.config, cluster_ids=cluster_ids, name=name)

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
