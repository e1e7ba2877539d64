"""`DeploymentHookConfig`: the deploy hook's timing lives in config, is bounded, and reaches the hook Lambda."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cashtrace_constructs.checks.template import of_type
from cashtrace_constructs.config import DeploymentHookConfig, EnvironmentConfig
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from lambdas.deployment_health_check import handler as hook
from stacks.environments import all_environments, prod
from tests.conftest import ENVIRONMENT_STACKS

HOOK_PATH = "prod.service.deployment_hook"


def _with_hook(hook_config: DeploymentHookConfig, *, health_check_timeout: int | None = None) -> EnvironmentConfig:
    config = prod()
    strategy = config.deployment_strategy
    return dataclasses.replace(
        config,
        service=dataclasses.replace(config.service, deployment_hook=hook_config),
        deployment_strategy=dataclasses.replace(
            strategy, health_check_timeout=health_check_timeout or strategy.health_check_timeout
        ),
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timeout_seconds": 901}, "timeout_seconds"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"required_successes": 0}, "required_successes"),
        ({"required_successes": 11}, "required_successes"),
        ({"check_spacing_seconds": 0}, "check_spacing_seconds"),
        ({"check_spacing_seconds": 61}, "check_spacing_seconds"),
    ],
)
def test_values_out_of_bounds_are_refused_with_the_rooted_path(changes: dict[str, int], field: str) -> None:
    with pytest.raises(DeploymentError) as refused:
        _with_hook(DeploymentHookConfig(**changes))
    assert refused.value.code is ErrorCode.HEALTH_CHECK_FAILED
    assert refused.value.field == f"{HOOK_PATH}.{field}"


def _simulate(settings: DeploymentHookConfig, check_timeout: int) -> tuple[bool, float]:
    """The real hook loop against a release answering healthy, each check taking the whole check timeout.

    Returns (healthy verdict, seconds of the Lambda timeout left to report it).
    """
    clock = [0.0]

    def slow_healthy_check(url: str, timeout_seconds: float, connect_host: str | None = None) -> hook.HealthCheckResult:
        clock[0] += timeout_seconds
        return hook.HealthCheckResult("t", url, 200, timeout_seconds * 1000, True)

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    def seconds_left() -> float:
        return settings.timeout_seconds - clock[0]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hook, "check_once", slow_healthy_check)
        verdict = hook.run_checks(
            hook.HookSettings(
                url="http://127.0.0.1/health",
                timeout_seconds=check_timeout,
                failures_allowed=2,
                required_successes=settings.required_successes,
                spacing_seconds=settings.check_spacing_seconds,
            ),
            seconds_left=seconds_left,
            sleep=sleep,
        )
    return verdict.healthy, seconds_left()


@given(
    timeout=st.integers(1, 900),
    successes=st.integers(1, 10),
    spacing=st.integers(1, 60),
    check_timeout=st.integers(2, 120),
)
def test_a_hook_is_accepted_exactly_when_it_can_pass_a_slow_healthy_release_and_report(
    timeout: int, successes: int, spacing: int, check_timeout: int
) -> None:
    settings = DeploymentHookConfig(
        timeout_seconds=timeout, required_successes=successes, check_spacing_seconds=spacing
    )
    healthy, left = _simulate(settings, check_timeout)
    passes_in_time = healthy and left >= hook._REPORT_RESERVE_SECONDS
    try:
        _with_hook(settings, health_check_timeout=check_timeout)
    except DeploymentError as refused:
        assert (refused.code, refused.field) == (ErrorCode.HEALTH_CHECK_FAILED, f"{HOOK_PATH}.timeout_seconds")
        assert not passes_in_time
    else:
        assert passes_in_time


@pytest.mark.parametrize("name", ENVIRONMENT_STACKS)
def test_the_hook_lambda_reads_its_timing_from_config(templates: dict[str, dict[str, Any]], name: str) -> None:
    config = {c.stack_name: c for c in all_environments()}[name]
    [hook_function] = [
        fn["Properties"]
        for _, fn in of_type(templates[name], "AWS::Lambda::Function")
        if "TEST_URL" in json.dumps(fn["Properties"].get("Environment", {}))
    ]
    variables = hook_function["Environment"]["Variables"]
    settings = config.service.deployment_hook
    assert hook_function["Timeout"] == settings.timeout_seconds
    assert variables["REQUIRED_SUCCESSES"] == str(settings.required_successes)
    assert variables["CHECK_SPACING_SECONDS"] == str(settings.check_spacing_seconds)
    assert variables["HEALTH_CHECK_TIMEOUT_SECONDS"] == str(config.deployment_strategy.health_check_timeout)
    assert variables["HEALTH_CHECK_FAILURES"] == str(config.rollback.health_check_failures)
