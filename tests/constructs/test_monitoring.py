"""Monitoring, the Prometheus workspace and the paging path, on one small purpose-built stack.

The stack stands in for what issues 3 and 4 build (a Fargate service behind an ALB with its
rollback alarms, an RDS instance, a Redis replication group), so the monitoring API is tested
the way the environment stack will call it.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_rds as rds

from cashtrace_constructs.checks import EveryAlarmHasAction, SynthesizedStack, evaluate
from cashtrace_constructs.checks.template import of_type
from cashtrace_constructs.config import MonitoringConfig
from cashtrace_constructs.encryption import EnvironmentKey, EnvironmentKeyProps
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.monitoring import Monitoring, MonitoringProps, redis_member_cluster_ids
from cashtrace_constructs.prometheus import PrometheusWorkspace, PrometheusWorkspaceProps
from tests.synth import make_app, stack_in_region

CONFIG = MonitoringConfig(database_min_free_storage_gib=20, cache_max_evictions=50, metrics_port=9464)


@dataclass
class Built:
    template: dict[str, Any]
    rollback_alarm_ids: list[str]
    monitoring: Monitoring
    other_stack_alarm: cloudwatch.Alarm


def _rollback_alarm(stack: Stack, name: str, metric_name: str) -> cloudwatch.Alarm:
    return cloudwatch.Alarm(
        stack,
        name,
        metric=cloudwatch.Metric(namespace="AWS/ApplicationELB", metric_name=metric_name),
        threshold=1,
        evaluation_periods=1,
    )


@pytest.fixture(scope="module")
def built() -> Built:
    app = make_app()
    stack = stack_in_region(app)
    key = EnvironmentKey(stack, "Key", props=EnvironmentKeyProps(environment_name="dev")).key
    monitoring = Monitoring(
        stack, "Monitoring", props=MonitoringProps(environment_name="dev", config=CONFIG, encryption_key=key)
    )
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
    cluster = ecs.Cluster(stack, "Cluster", vpc=vpc)
    task = ecs.FargateTaskDefinition(stack, "Task", cpu=512, memory_limit_mib=1024)
    task.add_container("Api", image=ecs.ContainerImage.from_registry("public.ecr.aws/nginx/nginx:1.27"))
    service = ecs.FargateService(stack, "Service", cluster=cluster, task_definition=task, min_healthy_percent=100)
    balancer = elbv2.ApplicationLoadBalancer(stack, "Alb", vpc=vpc)
    database = rds.DatabaseInstance(
        stack, "Db", engine=rds.DatabaseInstanceEngine.POSTGRES, vpc=vpc, removal_policy=RemovalPolicy.DESTROY
    )
    redis = elasticache.CfnReplicationGroup(
        stack,
        "Redis",
        replication_group_description="cache",
        engine="redis",
        cache_node_type="cache.t4g.micro",
        num_cache_clusters=2,
    )
    PrometheusWorkspace(stack, "Prometheus", props=PrometheusWorkspaceProps(environment_name="dev", encryption_key=key))

    rollback = [
        _rollback_alarm(stack, "Target5xx", "HTTPCode_Target_5XX_Count"),
        _rollback_alarm(stack, "Unhealthy", "UnHealthyHostCount"),
    ]
    monitoring.monitor_service(service=service, load_balancer=balancer, min_tasks=2, max_tasks=4)
    monitoring.monitor_database(instance=database, read_replicas=[database])
    monitoring.monitor_cache(cluster_ids=redis_member_cluster_ids(redis))
    monitoring.page_on(rollback, title="Rollback alarms")
    monitoring.notify_pipeline_failures(pipeline_name="CashTrace-Pipeline")
    other = stack_in_region(app, "Other")
    other_alarm = _rollback_alarm(other, "Foreign", "HTTPCode_Target_5XX_Count")
    template = app.synth().get_stack_by_name("Test").template
    ids = [stack.get_logical_id(alarm.node.default_child) for alarm in rollback]  # type: ignore[arg-type]
    return Built(template, ids, monitoring, other_alarm)


def _alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {logical_id: r["Properties"] for logical_id, r in of_type(template, "AWS::CloudWatch::Alarm")}


def metric_names(alarm: dict[str, Any]) -> list[str]:
    """Metric names of an alarm, whether it is a plain metric alarm or a metric-math one."""
    names = [alarm["MetricName"]] if "MetricName" in alarm else []
    names += [m["MetricStat"]["Metric"]["MetricName"] for m in alarm.get("Metrics", []) if "MetricStat" in m]
    return names


def dimensions(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(alarm.get("Dimensions", []))
    for metric in alarm.get("Metrics", []):
        found += metric.get("MetricStat", {}).get("Metric", {}).get("Dimensions", [])
    return found


def _topic(template: dict[str, Any], label: str) -> str:
    return next(
        logical_id
        for logical_id, r in of_type(template, "AWS::SNS::Topic")
        if label in r["Properties"].get("DisplayName", "")
    )


def test_rollback_alarms_page_as_the_same_alarms_not_copies(built: Built) -> None:
    alarms = _alarms(built.template)
    critical = _topic(built.template, "critical")
    for logical_id in built.rollback_alarm_ids:
        assert alarms[logical_id]["AlarmActions"] == [{"Ref": critical}]
        assert alarms[logical_id]["OKActions"] == [{"Ref": critical}]
    names = [name for a in alarms.values() for name in metric_names(a)]
    assert names.count("HTTPCode_Target_5XX_Count") == 1
    assert names.count("UnHealthyHostCount") == 1


def test_critical_topic_pages_pagerduty_through_a_secret_reference(built: Built) -> None:
    critical = _topic(built.template, "critical")
    subscriptions = [r["Properties"] for _, r in of_type(built.template, "AWS::SNS::Subscription")]
    assert subscriptions == [
        {
            "Protocol": "https",
            "TopicArn": {"Ref": critical},
            "Endpoint": "{{resolve:secretsmanager:cashtrace/dev/pagerduty-integration-url:SecretString:::}}",
        }
    ]
    assert "pagerduty.com" not in json.dumps(built.template)


def test_topics_are_encrypted_and_tls_only(built: Built) -> None:
    for _, topic in of_type(built.template, "AWS::SNS::Topic"):
        assert "KmsMasterKeyId" in topic["Properties"]
    policies = [r["Properties"] for _, r in of_type(built.template, "AWS::SNS::TopicPolicy")]
    assert len(policies) == 2
    for policy in policies:
        statements = policy["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
            for s in statements
        )


def test_every_alarm_has_an_action_and_the_rule_agrees(built: Built) -> None:
    alarms = _alarms(built.template)
    assert len(alarms) >= 12
    assert all(a.get("AlarmActions") for a in alarms.values())
    stack = SynthesizedStack(name="Test", construct_path="Test", template=built.template)
    assert evaluate([EveryAlarmHasAction()], [stack]) == []


def test_removing_the_pagerduty_subscription_fails_the_rule(built: Built) -> None:
    template = copy.deepcopy(built.template)
    for logical_id, _ in list(of_type(template, "AWS::SNS::Subscription")):
        del template["Resources"][logical_id]
    findings = evaluate([EveryAlarmHasAction()], [SynthesizedStack(name="T", construct_path="T", template=template)])
    critical = {
        lid
        for lid, a in _alarms(template).items()
        if {"Key": "cashtrace:severity", "Value": "critical"} in a.get("Tags", [])
    }
    assert critical >= set(built.rollback_alarm_ids)
    assert {f.logical_id for f in findings} == critical


def test_thresholds_come_from_config(built: Built) -> None:
    alarms = list(_alarms(built.template).values())
    storage = [a for a in alarms if "FreeStorageSpace" in metric_names(a)]
    assert [a["Threshold"] for a in storage] == [20 * 1024**3]
    assert any(t["Value"] == "critical" for t in storage[0]["Tags"])
    evictions = [a for a in alarms if "Evictions" in metric_names(a)]
    assert sorted(a["Threshold"] for a in evictions) == [50, 50]
    lag = [a for a in alarms if "ReplicaLag" in metric_names(a)]
    assert [a["Threshold"] for a in lag] == [CONFIG.database_max_replica_lag_seconds]


def test_redis_alarms_name_each_node_of_the_replication_group(built: Built) -> None:
    cluster_ids = {
        json.dumps(d["Value"], sort_keys=True)
        for a in _alarms(built.template).values()
        for d in dimensions(a)
        if d["Name"] == "CacheClusterId"
    }
    assert len(cluster_ids) == 2, cluster_ids
    assert all('"Ref": "Redis"' in c for c in cluster_ids)


def test_running_vs_desired_task_alarm_pages(built: Built) -> None:
    shortfall = [a for a in _alarms(built.template).values() if "desired - running" in json.dumps(a.get("Metrics", []))]
    assert len(shortfall) == 1
    assert shortfall[0]["EvaluationPeriods"] == CONFIG.service_task_shortfall_minutes
    assert {"Key": "cashtrace:severity", "Value": "critical"} in shortfall[0]["Tags"]


def test_dashboard_shows_the_joined_alarms(built: Built) -> None:
    dashboards = [r["Properties"] for _, r in of_type(built.template, "AWS::CloudWatch::Dashboard")]
    assert len(dashboards) == 1
    body = json.dumps(dashboards[0]["DashboardBody"])
    assert "Rollback alarms" in body and "Task shortfall" in body and "Replica lag" in body


def test_pipeline_failures_reach_the_warning_topic_without_personal_data(built: Built) -> None:
    rules = [r["Properties"] for _, r in of_type(built.template, "AWS::Events::Rule")]
    assert len(rules) == 1
    assert rules[0]["EventPattern"]["detail"] == {"state": ["FAILED"], "pipeline": ["CashTrace-Pipeline"]}
    target = rules[0]["Targets"][0]
    assert target["Arn"] == {"Ref": _topic(built.template, "warnings")}
    assert set(target["InputTransformer"]["InputPathsMap"].values()) == {"$.detail.pipeline", "$.detail.execution-id"}


def test_workspace_is_encrypted_and_logs(built: Built) -> None:
    workspace = next(r["Properties"] for _, r in of_type(built.template, "AWS::APS::Workspace"))
    assert "Fn::GetAtt" in workspace["KmsKeyArn"]
    assert "Fn::GetAtt" in workspace["LoggingConfiguration"]["LogGroupArn"]
    assert workspace["Alias"] == "cashtrace-dev"


def test_alarms_of_another_stack_cannot_page_here(built: Built) -> None:
    with pytest.raises(DeploymentError) as error:
        built.monitoring.page_on([built.other_stack_alarm])
    assert error.value.code is ErrorCode.CONFIG_INVALID
    assert error.value.field == "monitoring.alarms"


def test_a_replication_group_without_a_node_count_is_refused() -> None:
    app = make_app()
    stack = stack_in_region(app)
    group = elasticache.CfnReplicationGroup(stack, "Redis", replication_group_description="cache", num_node_groups=2)
    with pytest.raises(DeploymentError, match="num_cache_clusters"):
        redis_member_cluster_ids(group)


def test_alarm_payloads_are_fixed_text_with_a_runbook_pointer(built: Built) -> None:
    # An alarm notification carries the alarm's name, description, metric and dimensions; keeping
    # descriptions literal text (no references, no addresses) keeps customer data out of pages.
    for logical_id, alarm in _alarms(built.template).items():
        if logical_id in built.rollback_alarm_ids:
            continue
        description = alarm["AlarmDescription"]
        assert isinstance(description, str), logical_id
        assert "docs/monitoring.md#runbooks" in description
        assert "@" not in description


def test_paging_and_warning_lists_hold_every_alarm_by_its_severity_tag(built: Built) -> None:
    stack = Stack.of(built.monitoring)
    by_tag: dict[str, set[str]] = {"critical": set(), "warning": set()}
    for logical_id, alarm in _alarms(built.template).items():
        tags = {t["Key"]: t["Value"] for t in alarm.get("Tags", [])}
        by_tag[tags["cashtrace:severity"]].add(logical_id)

    def ids(alarms: list[cloudwatch.IAlarm]) -> set[str]:
        return {stack.get_logical_id(a.node.default_child) for a in alarms}  # type: ignore[arg-type]

    assert ids(built.monitoring.paging_alarms) == by_tag["critical"]
    assert ids(built.monitoring.warning_alarms) == by_tag["warning"]
    assert by_tag["critical"] and by_tag["warning"]
