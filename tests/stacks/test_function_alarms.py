"""Every function and queue of every template has alarms that reach someone; the API reads only its own login."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from cashtrace_constructs.checks.template import of_type
from cashtrace_constructs.monitoring.functions import watch_functions
from tests.conftest import ENVIRONMENT_STACKS
from tests.synth import make_app, stack_in_region


def _alarms_on(template: dict[str, Any], metric: str, dimension: str, value: Any) -> list[dict[str, Any]]:
    return [
        alarm["Properties"]
        for _, alarm in of_type(template, "AWS::CloudWatch::Alarm")
        if alarm["Properties"].get("MetricName") == metric
        and {"Name": dimension, "Value": value} in alarm["Properties"].get("Dimensions", [])
    ]


def _routed(alarm: dict[str, Any]) -> bool:
    tags = {tag["Key"]: tag["Value"] for tag in alarm.get("Tags", [])}
    return bool(alarm.get("AlarmActions")) and tags.get("cashtrace:severity") in ("warning", "critical")


def test_every_function_and_queue_of_every_template_has_routed_alarms(templates: dict[str, dict[str, Any]]) -> None:
    assert len(templates) == 6
    for name, template in templates.items():
        functions = [logical_id for logical_id, _ in of_type(template, "AWS::Lambda::Function")]
        queues = [logical_id for logical_id, _ in of_type(template, "AWS::SQS::Queue")]
        assert functions and queues, name
        for function in functions:
            for metric in ("Errors", "Throttles"):
                alarms = _alarms_on(template, metric, "FunctionName", {"Ref": function})
                assert alarms and all(_routed(a) for a in alarms), f"{name}: {function} has no routed {metric} alarm"
        for queue in queues:
            alarms = _alarms_on(
                template, "ApproximateNumberOfMessagesVisible", "QueueName", {"Fn::GetAtt": [queue, "QueueName"]}
            )
            assert alarms and all(_routed(a) for a in alarms), f"{name}: {queue} has no routed depth alarm"


def test_the_api_task_reads_its_own_login_never_the_masters(templates: dict[str, dict[str, Any]]) -> None:
    for name in ENVIRONMENT_STACKS:
        template = templates[name]
        env = name.removeprefix("CashTrace-").lower()
        resources = template["Resources"]
        attachments = {
            logical_id: resources[r["Properties"]["SecretId"]["Ref"]]["Properties"]["Name"]
            for logical_id, r in of_type(template, "AWS::SecretsManager::SecretTargetAttachment")
        }
        (api,) = [
            container
            for _, task in of_type(template, "AWS::ECS::TaskDefinition")
            for container in task["Properties"]["ContainerDefinitions"]
            if any(s["Name"] == "DATABASE_PASSWORD" for s in container.get("Secrets", []))
        ]
        read = json.dumps({s["Name"]: s["ValueFrom"] for s in api["Secrets"] if s["Name"].startswith("DATABASE_")})
        assert [a for a, secret in attachments.items() if a in read] == [
            a for a, secret in attachments.items() if secret == f"cashtrace/{env}/database-api"
        ]
        master = next(a for a, secret in attachments.items() if secret == f"cashtrace/{env}/database")
        assert master not in json.dumps(api), f"{name}: the API task must not get the master login"


def test_the_user_exists_before_the_service_and_before_either_rotation(templates: dict[str, dict[str, Any]]) -> None:
    for name in ENVIRONMENT_STACKS:
        template = templates[name]
        (bootstrap,) = [logical_id for logical_id, _ in of_type(template, "Custom::DatabaseBootstrap")]
        (service,) = [
            r for _, r in of_type(template, "AWS::ECS::Service") if "CODE_DEPLOY" in json.dumps(r["Properties"])
        ]
        assert bootstrap in service.get("DependsOn", [])
        hosted = [
            r
            for _, r in of_type(template, "AWS::SecretsManager::RotationSchedule")
            if "HostedRotationLambda" in r["Properties"]
        ]
        assert len(hosted) == 2 and all(bootstrap in r.get("DependsOn", []) for r in hosted)


def test_watch_functions_alarms_on_functions_and_queues_no_handler_watches() -> None:
    app = make_app()
    stack = stack_in_region(app)
    queue = sqs.Queue(stack, "Queue")
    lambda_.Function(
        stack,
        "Provider",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
        timeout=Duration.seconds(5),
        dead_letter_queue=queue,
    )
    made = watch_functions(stack)
    assert len(made) == 3
    template = Template.from_stack(stack).to_json()
    (function,) = [logical_id for logical_id, _ in of_type(template, "AWS::Lambda::Function")]
    (queue_id,) = [logical_id for logical_id, _ in of_type(template, "AWS::SQS::Queue")]
    assert _alarms_on(template, "Errors", "FunctionName", {"Ref": function})
    assert _alarms_on(template, "Throttles", "FunctionName", {"Ref": function})
    assert _alarms_on(
        template, "ApproximateNumberOfMessagesVisible", "QueueName", {"Fn::GetAtt": [queue_id, "QueueName"]}
    )
    # What is watched stays watched once: a second call makes no second set.
    assert watch_functions(stack) == []
