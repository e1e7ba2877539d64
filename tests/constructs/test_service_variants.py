"""`BlueGreenService` with settings no shipped environment uses: plain HTTP (dev may ask), a sidecar of its own."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Template

from cashtrace_constructs.checks import RollbackBudget, ScaleOutBudget, SynthesizedStack, ZeroDowntime, evaluate
from cashtrace_constructs.checks.template import of_type
from cashtrace_constructs.encryption import EnvironmentKey, EnvironmentKeyProps
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.network import Network, NetworkProps
from cashtrace_constructs.service import BlueGreenService, BlueGreenServiceProps
from stacks.environments import staging
from tests.synth import make_app, stack_in_region

pytestmark = pytest.mark.synth


def _props(**changes: Any) -> BlueGreenServiceProps:
    config = staging()
    api = config.infrastructure.resources[0]
    assert api.auto_scaling is not None
    app = make_app()
    stack = stack_in_region(app)
    key = EnvironmentKey(stack, "Key", props=EnvironmentKeyProps(environment_name="staging")).key
    network = Network(stack, "Network", props=NetworkProps(config=config.infrastructure.networking, encryption_key=key))
    props = BlueGreenServiceProps(
        environment_name="staging",
        service=config.service,
        size=api.size,
        scaling=api.auto_scaling,
        strategy=config.deployment_strategy,
        rollback=config.rollback,
        vpc=network.vpc,
        encryption_key=key,
        task_subnets=network.application_subnets,
        load_balancer_subnets=network.public_subnets,
        test_client_cidrs=["10.20.0.0/16"],
        tls=None,
    )
    return dataclasses.replace(props, **changes)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    props = _props()
    stack = props.vpc.stack
    service = BlueGreenService(stack, "Api", props=props)
    service.add_sidecar(
        "Collector",
        image=ecs.ContainerImage.from_registry("public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"),
        log_stream_prefix="collector",
        user="10001",
    )
    return Template.from_stack(stack).to_json()  # type: ignore[no-any-return]


def test_without_tls_both_listeners_serve_plain_http_and_nothing_redirects(template: dict[str, Any]) -> None:
    listeners = {
        r["Properties"]["Port"]: r["Properties"] for _, r in of_type(template, "AWS::ElasticLoadBalancingV2::Listener")
    }
    assert set(listeners) == {80, 9443}
    assert {listener["Protocol"] for listener in listeners.values()} == {"HTTP"}
    assert all("Certificates" not in listener and "SslPolicy" not in listener for listener in listeners.values())
    [(_, group)] = [
        (logical_id, r)
        for logical_id, r in of_type(template, "AWS::EC2::SecurityGroup")
        if "LoadBalancer" in logical_id
    ]
    assert [rule["FromPort"] for rule in group["Properties"]["SecurityGroupIngress"]] == [80]


def test_without_tls_the_deploy_hook_calls_the_load_balancer_itself(template: dict[str, Any]) -> None:
    [variables] = [
        r["Properties"]["Environment"]["Variables"]
        for _, r in of_type(template, "AWS::Lambda::Function")
        if "TEST_URL" in r["Properties"].get("Environment", {}).get("Variables", {})
    ]
    assert "TEST_CONNECT_HOST" not in variables
    url = json.dumps(variables["TEST_URL"])
    assert url.startswith('{"Fn::Join"') and '"http://"' in url and "DNSName" in url and ":9443/health" in url


def test_sidecar_is_not_essential_and_keeps_the_rules_green(template: dict[str, Any]) -> None:
    [(_, task)] = list(of_type(template, "AWS::ECS::TaskDefinition"))
    containers = task["Properties"]["ContainerDefinitions"]
    assert [c["Name"] for c in containers] == ["api", "Collector"]
    assert containers[0]["Essential"] is True and containers[1]["Essential"] is False
    assert containers[1]["LogConfiguration"] == containers[0]["LogConfiguration"] | {
        "Options": containers[0]["LogConfiguration"]["Options"] | {"awslogs-stream-prefix": "collector"}
    }
    stack = SynthesizedStack(name="Test", construct_path="Test", template=template, region="af-south-1")
    assert [str(f) for f in evaluate([RollbackBudget(), ScaleOutBudget(), ZeroDowntime()], [stack])] == []
    assert "LoadBalancers" in json.dumps(template)


def test_a_size_fargate_cannot_run_is_refused_before_any_resource_exists() -> None:
    props = _props(size="256/4096")
    stack = props.vpc.stack
    before = len(stack.node.find_all())
    with pytest.raises(DeploymentError) as refused:
        BlueGreenService(stack, "Api", props=props)
    assert refused.value.code is ErrorCode.RESOURCE_LIMIT and refused.value.field == "BlueGreenServiceProps.size"
    assert len(stack.node.find_all()) == before
