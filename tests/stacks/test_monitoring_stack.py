"""Monitoring in the real environment stacks: paging path, alarms, AMP and Grafana in af-south-1."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from aws_cdk.cx_api import CloudAssembly

from cashtrace_constructs.checks.every_alarm_has_action import composite_conditions, paging_topics
from cashtrace_constructs.checks.rule import SynthesizedStack
from cashtrace_constructs.checks.template import of_type, references
from cashtrace_constructs.residency import template_leaks
from stacks.environments import all_environments
from tests.conftest import ENVIRONMENT_STACKS

ENVIRONMENTS = {config.stack_name: config for config in all_environments()}


def _literals(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _literals(item)
    elif isinstance(value, list):
        for item in value:
            yield from _literals(item)


def foreign_references(stack_name: str, template: dict[str, Any]) -> list[str]:
    """Alarm metric references that point outside this template or name another environment."""
    own = ENVIRONMENTS[stack_name]
    others = [c for name, c in ENVIRONMENTS.items() if name != stack_name]
    foreign_words = [re.compile(rf"(?<![a-z]){c.name}(?![a-z])", re.IGNORECASE) for c in others]
    foreign_accounts = [
        c.infrastructure.account for c in others if c.infrastructure.account != own.infrastructure.account
    ]
    problems: list[str] = []
    parameters = set(template.get("Parameters", {})) | {
        "AWS::Region",
        "AWS::AccountId",
        "AWS::Partition",
        "AWS::URLSuffix",
    }
    for logical_id, alarm in of_type(template, "AWS::CloudWatch::Alarm"):
        properties = alarm["Properties"]
        signals = {key: properties.get(key) for key in ("Dimensions", "Metrics", "Namespace", "MetricName")}
        for target in sorted(references(signals)):
            if target not in template["Resources"] and target not in parameters:
                problems.append(f"{logical_id} references {target}, not a resource of {stack_name}")
        for text in _literals(signals):
            if any(word.search(text) for word in foreign_words) or any(a in text for a in foreign_accounts):
                problems.append(f"{logical_id} names another environment: {text}")
    return problems


def test_every_alarm_has_an_enabled_action(templates: dict[str, dict[str, Any]]) -> None:
    for name in ENVIRONMENT_STACKS:
        # Conditions of a composite alarm notify through it (the overdue-restore alarm's two).
        conditions = composite_conditions(SynthesizedStack(name=name, construct_path=name, template=templates[name]))
        alarms = list(of_type(templates[name], "AWS::CloudWatch::Alarm"))
        assert alarms and len(conditions) == 2, name
        for logical_id, alarm in alarms:
            if logical_id in conditions:
                continue
            assert alarm["Properties"].get("AlarmActions"), f"{name}/{logical_id} has no action"
            assert alarm["Properties"].get("ActionsEnabled", True) is not False


def test_every_critical_alarm_pages_through_this_environments_pagerduty_secret(
    templates: dict[str, dict[str, Any]],
) -> None:
    for name in ENVIRONMENT_STACKS:
        template = templates[name]
        stack = SynthesizedStack(name=name, construct_path=name, template=template)
        paging = paging_topics(stack)
        assert len(paging) == 1, f"{name} has exactly one paging topic"
        endpoints = [r["Properties"]["Endpoint"] for _, r in of_type(template, "AWS::SNS::Subscription")]
        secret = f"cashtrace/{ENVIRONMENTS[name].name}/pagerduty-integration-url"
        assert endpoints == [f"{{{{resolve:secretsmanager:{secret}:SecretString:::}}}}"]
        for logical_id, alarm in of_type(template, "AWS::CloudWatch::Alarm"):
            tags = {t["Key"]: t["Value"] for t in alarm["Properties"].get("Tags", [])}
            if tags.get("cashtrace:severity") == "critical":
                assert {"Ref": next(iter(paging))} in alarm["Properties"]["AlarmActions"], logical_id


def test_no_pagerduty_url_or_key_in_any_template(templates: dict[str, dict[str, Any]]) -> None:
    for name in ENVIRONMENT_STACKS:
        assert "pagerduty.com" not in json.dumps(templates[name])


def test_no_alarm_references_another_environment(templates: dict[str, dict[str, Any]]) -> None:
    for name in ENVIRONMENT_STACKS:
        assert foreign_references(name, templates[name]) == []


def test_a_foreign_alarm_reference_is_detected(templates: dict[str, dict[str, Any]]) -> None:
    template = json.loads(json.dumps(templates["CashTrace-Staging"]))
    alarm = next(a for _, a in of_type(template, "AWS::CloudWatch::Alarm"))
    alarm["Properties"]["Dimensions"] = [{"Name": "ServiceName", "Value": "cashtrace-prod-api"}]
    alarm["Properties"]["Metrics"] = [{"Id": "m1", "Expression": "x", "Label": {"Ref": "NotInThisStack"}}]
    problems = foreign_references("CashTrace-Staging", template)
    assert any("another environment" in p for p in problems)
    assert any("NotInThisStack" in p for p in problems)


def test_dashboard_and_topics_per_environment(templates: dict[str, dict[str, Any]]) -> None:
    for name in ENVIRONMENT_STACKS:
        template = templates[name]
        dashboards = [r["Properties"]["DashboardName"] for _, r in of_type(template, "AWS::CloudWatch::Dashboard")]
        assert dashboards == [f"CashTrace-{ENVIRONMENTS[name].name}"]
        topics = [r["Properties"] for _, r in of_type(template, "AWS::SNS::Topic")]
        assert len(topics) == 2 and all("KmsMasterKeyId" in t for t in topics)


def test_prometheus_and_grafana_live_in_cape_town(
    templates: dict[str, dict[str, Any]], cloud_assembly: CloudAssembly
) -> None:
    regions = {stack.stack_name: stack.environment.region for stack in cloud_assembly.stacks}
    for name in ENVIRONMENT_STACKS:
        template = templates[name]
        assert regions[name] == "af-south-1"
        workspaces = [r["Properties"] for _, r in of_type(template, "AWS::APS::Workspace")]
        assert len(workspaces) == 1
        assert workspaces[0]["Alias"] == f"cashtrace-{ENVIRONMENTS[name].name}"
        assert "KmsKeyArn" in workspaces[0] and "LoggingConfiguration" in workspaces[0]
        assert len(list(of_type(template, "AWS::ECS::Service"))) >= 1
        assert template_leaks(template, ["af-south-1"]) == []


def test_grafana_runs_pinned_images_with_provisioned_datasources(templates: dict[str, dict[str, Any]]) -> None:
    for name in ENVIRONMENT_STACKS:
        template = templates[name]
        config = ENVIRONMENTS[name].monitoring
        task = next(
            r["Properties"]
            for _, r in of_type(template, "AWS::ECS::TaskDefinition")
            if any(c["Name"] == "Grafana" for c in r["Properties"]["ContainerDefinitions"])
        )
        containers = {c["Name"]: c for c in task["ContainerDefinitions"]}
        assert containers["Grafana"]["Image"] == f"grafana/grafana-oss:{config.grafana_image_tag}"
        assert [s["Name"] for s in containers["Grafana"]["Secrets"]] == ["GF_SECURITY_ADMIN_PASSWORD"]
        environment = {e["Name"]: e["Value"] for e in containers["Grafana"]["Environment"]}
        assert "PrometheusEndpoint" in json.dumps(environment["AMP_QUERY_URL"])
        assert environment["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
        provisioned = json.dumps(containers["Provisioning"]["Environment"])
        assert "grafana-amazonprometheus-datasource" in provisioned and "cloudwatch" in provisioned
        assert containers["Grafana"]["DependsOn"] == [{"Condition": "SUCCESS", "ContainerName": "Provisioning"}]
        volumes = {v["Name"]: v for v in task["Volumes"]}
        assert volumes["State"]["EFSVolumeConfiguration"]["TransitEncryption"] == "ENABLED"
        file_systems = [r["Properties"] for _, r in of_type(template, "AWS::EFS::FileSystem")]
        assert file_systems and all(fs["Encrypted"] and "KmsKeyId" in fs for fs in file_systems)
        balancers = [r["Properties"] for _, r in of_type(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")]
        assert any(b["Scheme"] == "internal" for b in balancers)
        secrets = [r["Properties"]["Name"] for _, r in of_type(template, "AWS::SecretsManager::Secret")]
        assert f"cashtrace/{ENVIRONMENTS[name].name}/grafana-admin" in secrets
