"""Hypothesis strategies over the environment model: valid configs of every environment."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st

from cashtrace_constructs.config import (
    AutoScalingConfig,
    DeploymentStrategy,
    EnvironmentConfig,
    EnvironmentSettings,
    InfrastructureConfig,
    NetworkConfig,
    ResourceConfig,
    ResourceType,
    RollbackConfig,
    SecretReference,
    StrategyType,
)
from cashtrace_constructs.timing import rollback_seconds
from stacks import environments

names = st.sampled_from(["dev", "staging", "prod"])


@st.composite
def auto_scaling(draw: st.DrawFn) -> AutoScalingConfig:
    low = draw(st.integers(1, 10))
    return AutoScalingConfig(
        min_replicas=low,
        max_replicas=draw(st.integers(low, 50)),
        target_cpu=draw(st.integers(1, 100)),
        target_memory=draw(st.integers(1, 100)),
        scale_down_delay=draw(st.integers(0, 3600)),
    )


@st.composite
def deployment_strategies(draw: st.DrawFn) -> DeploymentStrategy:
    # What BlueGreenService deploys: CodeDeploy blue-green or canary (ROLLING leaves the config).
    kind = draw(st.sampled_from([StrategyType.BLUE_GREEN, StrategyType.CANARY]))
    return DeploymentStrategy(
        type=kind,
        health_check_path=draw(st.sampled_from(["/health", "/healthz", "/api/v1/health"])),
        health_check_timeout=draw(st.integers(2, 10)),
        canary_percentage=draw(st.integers(1, 99)) if kind is StrategyType.CANARY else None,
    )


@st.composite
def environment_configs(draw: st.DrawFn, name: str | None = None) -> EnvironmentConfig:
    env_name = name or draw(names)
    production = env_name == "prod"
    max_azs = 3 if production else draw(st.integers(2, 3))
    # Parts this strategy does not vary (data, secrets, service...) come from the shipped environment.
    shipped = {"dev": environments.dev, "staging": environments.staging, "prod": environments.prod}[env_name]()
    return replace(
        shipped,
        settings=EnvironmentSettings(
            name=env_name,
            url=shipped.settings.url,
            requires_approval=production or draw(st.booleans()),
            secrets=(SecretReference(f"cashtrace/{env_name}/api-keys", "API_KEYS"),),
        ),
        infrastructure=InfrastructureConfig(
            account=draw(st.from_regex(r"\A[1-9][0-9]{11}\Z")),
            region="af-south-1",
            networking=NetworkConfig(
                cidr=f"10.{draw(st.integers(0, 255))}.0.0/16",
                max_azs=max_azs,
                nat_gateways=max_azs if production else draw(st.integers(1, max_azs)),
            ),
            resources=(
                ResourceConfig(
                    type=ResourceType.COMPUTE, name="api", size="512/1024", auto_scaling=draw(auto_scaling())
                ),
            ),
        ),
        deployment_strategy=draw(deployment_strategies()),
        rollback=RollbackConfig(
            automatic=True,
            health_check_failures=draw(st.integers(1, 10)),
            # No faster than the shipped rollback alarms can make it (the model refuses that: test_config).
            rollback_timeout=draw(
                st.integers(
                    rollback_seconds(shipped.service.alarm_period_seconds, shipped.service.alarm_evaluation_periods),
                    300,
                )
            ),
        ),
    )
