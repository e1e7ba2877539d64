"""The service task's sidecars: never root, and within the memory the task keeps for them."""

from __future__ import annotations

import pytest
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms

from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.service.task import SIDECAR_MEMORY_BUDGET_MIB, ApplicationTask
from stacks.environments import prod
from tests.synth import make_app, stack_in_region

IMAGE = ecs.ContainerImage.from_registry("public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3")


def _task() -> ApplicationTask:
    stack = stack_in_region(make_app())
    return ApplicationTask(
        stack,
        environment_name="prod",
        config=prod().service,
        cpu=1024,
        memory=2048,
        encryption_key=kms.Key(stack, "Key"),
        environment={},
        secrets={},
    )


def test_the_app_container_gets_the_task_memory_less_the_sidecar_budget() -> None:
    task = _task()
    assert task.container.memory_limit_specified
    sidecar = task.add_sidecar("Collector", image=IMAGE, log_stream_prefix="c", user="10001")
    assert sidecar.memory_limit_specified


@pytest.mark.parametrize("user", ["0", "root", "0:0"])
def test_a_root_sidecar_is_refused(user: str) -> None:
    with pytest.raises(DeploymentError) as refused:
        _task().add_sidecar("Collector", image=IMAGE, log_stream_prefix="c", user=user)
    assert refused.value.code is ErrorCode.CONFIG_INVALID


def test_sidecars_beyond_the_budget_are_refused() -> None:
    task = _task()
    task.add_sidecar(
        "One", image=IMAGE, log_stream_prefix="a", user="10001", memory_limit_mib=SIDECAR_MEMORY_BUDGET_MIB
    )
    with pytest.raises(DeploymentError) as refused:
        task.add_sidecar("Two", image=IMAGE, log_stream_prefix="b", user="10001", memory_limit_mib=64)
    assert refused.value.code is ErrorCode.RESOURCE_LIMIT
