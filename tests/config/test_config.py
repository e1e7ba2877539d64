"""The environment model refuses invalid configs with the field path and the right DEPLOY_* code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cashtrace_constructs.config import (
    EnvironmentConfig,
    InfrastructureConfig,
    ResourceType,
    SecurityConfig,
    StrategyType,
)
from cashtrace_constructs.errors import DESIGN_ERROR_CODES, DeploymentError, ErrorCode
from stacks import environments
from tests.config.strategies import environment_configs


def _rebuild(config: EnvironmentConfig, **parts: object) -> EnvironmentConfig:
    return replace(config, **parts)  # type: ignore[arg-type]


def _with_size(config: EnvironmentConfig, size: str) -> EnvironmentConfig:
    resource = replace(config.infrastructure.resources[0], size=size)
    return _rebuild(config, infrastructure=replace(config.infrastructure, resources=(resource,)))


def _with_scaling(config: EnvironmentConfig, **changes: int) -> EnvironmentConfig:
    api = config.infrastructure.resources[0]
    assert api.auto_scaling is not None
    resource = replace(api, auto_scaling=replace(api.auto_scaling, **changes))
    return _rebuild(config, infrastructure=replace(config.infrastructure, resources=(resource,)))


Mutation = Callable[[EnvironmentConfig], EnvironmentConfig]

# (what breaks, how, expected code, expected field path after the environment name)
INVALID: list[tuple[str, Mutation, ErrorCode, str]] = [
    (
        "a CPU/memory pair Fargate cannot run",
        lambda c: _with_size(c, "256/4096"),
        ErrorCode.RESOURCE_LIMIT,
        "infrastructure.resources[0].size",
    ),
    (
        "a size that is not cpu/memory",
        lambda c: _with_size(c, "big"),
        ErrorCode.CONFIG_INVALID,
        "infrastructure.resources[0].size",
    ),
    (
        "min above max replicas",
        lambda c: _with_scaling(c, min_replicas=c.infrastructure.resources[0].auto_scaling.max_replicas + 1),  # type: ignore[union-attr]
        ErrorCode.RESOURCE_LIMIT,
        "infrastructure.resources[0].auto_scaling.min_replicas",
    ),
    (
        "target CPU above 100",
        lambda c: _with_scaling(c, target_cpu=101),
        ErrorCode.RESOURCE_LIMIT,
        "infrastructure.resources[0].auto_scaling.target_cpu",
    ),
    (
        "target CPU of 0",
        lambda c: _with_scaling(c, target_cpu=0),
        ErrorCode.RESOURCE_LIMIT,
        "infrastructure.resources[0].auto_scaling.target_cpu",
    ),
    (
        "rollback timeout over five minutes",
        lambda c: _rebuild(c, rollback=replace(c.rollback, rollback_timeout=301)),
        ErrorCode.ROLLBACK_FAILED,
        "rollback.rollback_timeout",
    ),
    (
        "rollback budget shorter than the rollback alarms can detect",
        lambda c: _rebuild(c, rollback=replace(c.rollback, rollback_timeout=60)),
        ErrorCode.ROLLBACK_FAILED,
        "rollback.rollback_timeout",
    ),
    (
        "region outside the allow-list",
        lambda c: _rebuild(c, infrastructure=replace(c.infrastructure, region="eu-west-1")),
        ErrorCode.RESIDENCY_VIOLATION,
        "infrastructure.region",
    ),
    (
        "a non-African region allowed",
        lambda c: _rebuild(
            c,
            infrastructure=replace(
                c.infrastructure, security=SecurityConfig(allowed_regions=("af-south-1", "eu-west-1"))
            ),
        ),
        ErrorCode.RESIDENCY_VIOLATION,
        "infrastructure.security.allowed_regions[1]",
    ),
    (
        "health check path not absolute",
        lambda c: _rebuild(c, deployment_strategy=replace(c.deployment_strategy, health_check_path="health")),
        ErrorCode.HEALTH_CHECK_FAILED,
        "deployment_strategy.health_check_path",
    ),
    (
        "account id not 12 digits",
        lambda c: _rebuild(c, infrastructure=replace(c.infrastructure, account="1234")),
        ErrorCode.CONFIG_INVALID,
        "infrastructure.account",
    ),
    (
        "secret of another environment",
        lambda c: _rebuild(
            c,
            settings=replace(
                c.settings,
                secrets=(replace(c.settings.secrets[0], name=f"cashtrace/{_other(c.name)}/api-keys"),),
            ),
        ),
        ErrorCode.SECRET_ACCESS_DENIED,
        "settings.secrets[0].name",
    ),
]


def _other(name: str) -> str:
    return "prod" if name != "prod" else "dev"


@pytest.mark.parametrize(("label", "mutate", "code", "field"), INVALID, ids=[case[0] for case in INVALID])
@given(config=environment_configs())
def test_invalid_configs_are_refused_with_field_path_and_code(
    label: str, mutate: Mutation, code: ErrorCode, field: str, config: EnvironmentConfig
) -> None:
    with pytest.raises(DeploymentError) as refused:
        mutate(config)
    assert refused.value.code is code, f"{label}: {refused.value}"
    assert refused.value.field == f"{config.name}.{field}"
    assert str(refused.value).startswith(code.value)
    assert field in str(refused.value)


@given(config=environment_configs(name="prod"))
def test_prod_without_approval_is_refused(config: EnvironmentConfig) -> None:
    with pytest.raises(DeploymentError) as refused:
        _rebuild(config, settings=replace(config.settings, requires_approval=False))
    assert refused.value.code is ErrorCode.APPROVAL_REQUIRED
    assert refused.value.field == "prod.settings.requires_approval"


@given(config=environment_configs(), percentage=st.integers(1, 99))
def test_canary_percentage_only_with_canary_strategy(config: EnvironmentConfig, percentage: int) -> None:
    strategy = replace(config.deployment_strategy, canary_percentage=percentage)
    if strategy.type is StrategyType.CANARY:
        assert _rebuild(config, deployment_strategy=strategy).deployment_strategy.canary_percentage == percentage
    else:
        with pytest.raises(DeploymentError) as refused:
            _rebuild(config, deployment_strategy=strategy)
        assert refused.value.code is ErrorCode.CONFIG_INVALID
        assert refused.value.field == f"{config.name}.deployment_strategy.canary_percentage"


@given(config=environment_configs(name="prod"))
def test_prod_needs_a_nat_gateway_per_az(config: EnvironmentConfig) -> None:
    networking = replace(config.infrastructure.networking, nat_gateways=1)
    with pytest.raises(DeploymentError) as refused:
        _rebuild(config, infrastructure=replace(config.infrastructure, networking=networking))
    assert refused.value.code is ErrorCode.RESOURCE_LIMIT


@given(config=environment_configs())
def test_every_environment_must_roll_back_automatically(config: EnvironmentConfig) -> None:
    # Found by the generated-configs synth: a dev config with manual rollback passed the model but
    # failed the CT-P5 rule, which holds every deployment group to automatic rollback.
    with pytest.raises(DeploymentError) as refused:
        _rebuild(config, rollback=replace(config.rollback, automatic=False))
    assert refused.value.code is ErrorCode.ROLLBACK_FAILED
    assert refused.value.field == f"{config.name}.rollback.automatic"


def test_design_defines_six_codes_and_all_are_present() -> None:
    assert {code.value for code in DESIGN_ERROR_CODES} == {
        "DEPLOY_CI_FAILED",
        "DEPLOY_APPROVAL_REQUIRED",
        "DEPLOY_HEALTH_CHECK_FAILED",
        "DEPLOY_ROLLBACK_FAILED",
        "DEPLOY_SECRET_ACCESS_DENIED",
        "DEPLOY_RESOURCE_LIMIT",
    }


def test_shipped_environments_are_valid_and_distinct() -> None:
    configs = environments.all_environments()
    assert [c.name for c in configs] == ["dev", "staging", "prod"]
    assert len({c.infrastructure.account for c in configs}) == 3
    assert len({c.infrastructure.networking.cidr for c in configs}) == 3
    assert all(c.infrastructure.region == "af-south-1" for c in configs)
    prod = configs[-1]
    assert prod.settings.requires_approval


def test_accounts_come_from_context_then_environment_then_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CASHTRACE_PROD_ACCOUNT", raising=False)
    assert environments.account_for("prod") == environments.PLACEHOLDER_ACCOUNTS["prod"]
    monkeypatch.setenv("CASHTRACE_PROD_ACCOUNT", "999999999999")
    assert environments.account_for("prod") == "999999999999"
    assert environments.account_for("prod", {"account.prod": "888888888888"}) == "888888888888"


def test_infrastructure_names_its_availability_zones() -> None:
    infrastructure: InfrastructureConfig = environments.prod().infrastructure
    assert infrastructure.availability_zones == ("af-south-1a", "af-south-1b", "af-south-1c")


def test_a_missing_resource_is_refused_with_the_environments_path() -> None:
    config = environments.staging()
    assert config.resource(ResourceType.COMPUTE, "api").name == "api"
    with pytest.raises(DeploymentError) as refused:
        config.resource(ResourceType.COMPUTE, "worker")
    assert refused.value.field == "staging.infrastructure.resources"
    assert refused.value.code is ErrorCode.CONFIG_INVALID
