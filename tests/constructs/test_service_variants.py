"""`BlueGreenService` with settings no environment uses yet: a TLS certificate, a sidecar."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Template

from cashtrace_constructs.checks import RollbackBudget, ScaleOutBudget, SynthesizedStack, ZeroDowntime, evaluate
from cashtrace_constructs.checks.template import of_type
from cashtrace_constructs.encryption import EnvironmentKey
from cashtrace_constructs.network import Network
from cashtrace_constructs.service import BlueGreenService, BlueGreenServiceProps
from stacks.environments import staging
from tests.synth import make_app, stack_in_region

pytestmark = pytest.mark.synth
CERTIFICATE = "arn:aws:acm:af-south-1:123456789012:certificate/0f6a3c1e-1111-2222-3333-444455556666"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    config = staging()
    api = config.infrastructure.resources[0]
    assert api.auto_scaling is not None
    app = make_app()
    stack = stack_in_region(app)
    key = EnvironmentKey(stack, "Key", environment_name="staging").key
    network = Network(stack, "Network", config=config.infrastructure.networking, encryption_key=key)
    service = BlueGreenService(
        stack,
        "Api",
        props=BlueGreenServiceProps(
            environment_name="staging",
            service=dataclasses.replace(config.service, certificate_arn=CERTIFICATE),
            size=api.size,
            scaling=api.auto_scaling,
            strategy=config.deployment_strategy,
            rollback=config.rollback,
            public_host="staging.cashtrace.ng",
            secrets={},
        ),
        vpc=network.vpc,
        encryption_key=key,
        task_subnets=network.application_subnets,
        load_balancer_subnets=network.public_subnets,
        test_client_cidrs=["10.20.0.0/16"],
    )
    # What the monitoring capability does later: a non-essential collector sidecar.
    service.task_definition.add_container(
        "Collector",
        image=ecs.ContainerImage.from_registry("public.ecr.aws/aws-observability/aws-otel-collector:latest"),
        essential=False,
        memory_reservation_mib=128,
    )
    return Template.from_stack(stack).to_json()  # type: ignore[no-any-return]


def test_certificate_turns_on_https_with_a_redirect(template: dict[str, Any]) -> None:
    listeners = {
        r["Properties"]["Port"]: r["Properties"] for _, r in of_type(template, "AWS::ElasticLoadBalancingV2::Listener")
    }
    assert listeners[443]["Protocol"] == "HTTPS" and listeners[443]["Certificates"] == [{"CertificateArn": CERTIFICATE}]
    assert listeners[80]["DefaultActions"][0]["Type"] == "redirect"
    assert listeners[80]["DefaultActions"][0]["RedirectConfig"]["Port"] == "443"
    assert listeners[9443]["Protocol"] == "HTTPS"


def test_sidecar_keeps_the_app_container_served_and_the_rules_green(template: dict[str, Any]) -> None:
    [(_, task)] = list(of_type(template, "AWS::ECS::TaskDefinition"))
    names = [c["Name"] for c in task["Properties"]["ContainerDefinitions"]]
    assert names == ["api", "Collector"]
    stack = SynthesizedStack(name="Test", construct_path="Test", template=template, region="af-south-1")
    assert [str(f) for f in evaluate([RollbackBudget(), ScaleOutBudget(), ZeroDowntime()], [stack])] == []
    assert "LoadBalancers" in json.dumps(template)
