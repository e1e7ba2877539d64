"""Real mis-configurations of `BlueGreenService` make in-process synthesis fail, naming the property and resource."""

from __future__ import annotations

import dataclasses

import pytest
from aws_cdk import Validations

from cashtrace_constructs.checks import CashTraceChecks, RollbackBudget, ScaleOutBudget, ZeroDowntime
from cashtrace_constructs.config import ServiceConfig
from cashtrace_constructs.encryption import EnvironmentKey, EnvironmentKeyProps
from cashtrace_constructs.network import Network, NetworkProps
from cashtrace_constructs.service import BlueGreenService, BlueGreenServiceProps
from stacks.environments import prod
from tests.synth import make_app, stack_in_region

pytestmark = pytest.mark.synth


def _synth(service: ServiceConfig, *, remove_step_policies: bool = False) -> None:
    config = prod()
    api = config.infrastructure.resources[0]
    assert api.auto_scaling is not None
    # Path metadata on, as under `cdk synth`: findings then carry construct paths, not only logical ids.
    app = make_app(**{"aws:cdk:enable-path-metadata": True})
    stack = stack_in_region(app)
    key = EnvironmentKey(stack, "Key", props=EnvironmentKeyProps(environment_name="prod")).key
    network = Network(stack, "Network", props=NetworkProps(config=config.infrastructure.networking, encryption_key=key))
    built = BlueGreenService(
        stack,
        "Api",
        props=BlueGreenServiceProps(
            environment_name="prod",
            service=service,
            size=api.size,
            scaling=api.auto_scaling,
            strategy=config.deployment_strategy,
            rollback=config.rollback,
            vpc=network.vpc,
            encryption_key=key,
            task_subnets=network.application_subnets,
            load_balancer_subnets=network.public_subnets,
            test_client_cidrs=["10.30.0.0/16"],
        ),
    )
    if remove_step_policies:
        for name in ("CpuStepScaleOut", "MemoryStepScaleOut"):
            assert built.scaling.node.try_remove_child(name)
    Validations.of(app).add_plugins(CashTraceChecks([RollbackBudget(), ScaleOutBudget(), ZeroDowntime()]))
    app.synth()


def test_rollback_alarm_of_five_five_minute_periods_fails_property_5() -> None:
    slow = dataclasses.replace(prod().service, alarm_period_seconds=300, alarm_evaluation_periods=5)
    with pytest.raises(RuntimeError) as failure:
        _synth(slow)
    message = str(failure.value)
    assert "Property 5" in message and "CT-P5-RollbackBudget" in message
    assert "Test/Api/Target5xxAlarm/Resource" in message


def test_removing_the_step_scale_out_policy_fails_property_9() -> None:
    with pytest.raises(RuntimeError) as failure:
        _synth(prod().service, remove_step_policies=True)
    message = str(failure.value)
    assert "Property 9" in message and "Test/Api/Scaling/Resource" in message
    assert "Property 5" not in message
