"""dev, staging and prod: the one place where environments differ.

Account ids are not committed. Each comes from CDK context (`-c account.prod=...`), else from
the environment (`CASHTRACE_PROD_ACCOUNT`), else a documented placeholder so that `cdk synth`
works on a laptop with no AWS credentials. Deploying with a placeholder fails at bootstrap
lookup, never silently in the wrong account.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from cashtrace_constructs.config import (
    DEFAULT_IMAGE_TAG,
    PLACEHOLDER_PIPELINE_ACCOUNT,
    AutoScalingConfig,
    DataConfig,
    DeploymentStrategy,
    EnvironmentConfig,
    EnvironmentSettings,
    EnvironmentVariable,
    GitHubOidcConfig,
    InfrastructureConfig,
    MonitoringConfig,
    NetworkConfig,
    PipelineConfig,
    ResourceConfig,
    ResourceType,
    RollbackConfig,
    SecretKind,
    SecretReference,
    SecretsConfig,
    ServiceConfig,
    StrategyType,
)

REGION = "af-south-1"

PLACEHOLDER_ACCOUNTS: Mapping[str, str] = {
    "dev": "111111111111",
    "staging": "222222222222",
    "prod": "333333333333",
    # The tooling account of the CD pipeline: it owns the image repository and deploys into the three above.
    "pipeline": PLACEHOLDER_PIPELINE_ACCOUNT,
}


def account_for(name: str, context: Mapping[str, Any] | None = None) -> str:
    """Account id of one environment: context, then environment variable, then placeholder."""
    from_context = (context or {}).get(f"account.{name}")
    if from_context:
        return str(from_context)
    return os.environ.get(f"CASHTRACE_{name.upper()}_ACCOUNT", PLACEHOLDER_ACCOUNTS[name])


def _service(context: Mapping[str, Any] | None, *, alarm_evaluation_periods: int) -> ServiceConfig:
    """The API service; the image tag (or sha256 digest) comes from `-c image-tag=...`."""
    image_tag = (context or {}).get("image-tag") or DEFAULT_IMAGE_TAG
    return ServiceConfig(
        repository_account=account_for("pipeline", context),
        image_tag=str(image_tag),
        alarm_evaluation_periods=alarm_evaluation_periods,
    )


def _api(size: str, scaling: AutoScalingConfig) -> ResourceConfig:
    return ResourceConfig(type=ResourceType.COMPUTE, name="api", size=size, auto_scaling=scaling)


def dev(context: Mapping[str, Any] | None = None) -> EnvironmentConfig:
    return EnvironmentConfig(
        settings=EnvironmentSettings(
            name="dev",
            url="https://dev.cashtrace.ng",
            requires_approval=False,
            variables=(EnvironmentVariable("LOG_LEVEL", "DEBUG"),),
            # Issued by a third party: never rotated by us, its age is alarmed instead.
            secrets=(SecretReference("cashtrace/dev/api-keys", "API_KEYS", SecretKind.THIRD_PARTY),),
        ),
        infrastructure=InfrastructureConfig(
            account=account_for("dev", context),
            region=REGION,
            networking=NetworkConfig(cidr="10.10.0.0/16", nat_gateways=1),
            resources=(
                _api(
                    "256/512",
                    AutoScalingConfig(
                        min_replicas=1, max_replicas=2, target_cpu=70, target_memory=80, scale_down_delay=300
                    ),
                ),
            ),
        ),
        deployment_strategy=DeploymentStrategy(
            type=StrategyType.BLUE_GREEN, health_check_path="/health", health_check_timeout=5
        ),
        rollback=RollbackConfig(automatic=True, health_check_failures=3, rollback_timeout=300),
        data=DataConfig(
            database_instance_class="t4g.micro",
            backup_retention_days=7,
            # Dev data is synthetic: deleting the stack may delete it, secrets and queues included.
            snapshot_on_delete=False,
            retain_on_delete=False,
            weekly_backup_retention_days=14,
            cache_node_type="cache.t4g.micro",
            cache_replicas=0,
        ),
        service=_service(context, alarm_evaluation_periods=2),
        # Dev holds no customer data: rotating quarterly keeps the Lambda exercised without churn.
        secrets=SecretsConfig(default_rotation_days=90, database_rotation_days=90),
        # Dev is noisy by nature: wait longer before warning, and run the smallest Grafana.
        monitoring=MonitoringConfig(evaluation_periods=5, grafana_cpu=256, grafana_memory_mib=512),
    )


def staging(context: Mapping[str, Any] | None = None) -> EnvironmentConfig:
    return EnvironmentConfig(
        settings=EnvironmentSettings(
            name="staging",
            url="https://staging.cashtrace.ng",
            requires_approval=False,
            variables=(EnvironmentVariable("LOG_LEVEL", "INFO"),),
            # Issued by a third party: never rotated by us, its age is alarmed instead.
            secrets=(SecretReference("cashtrace/staging/api-keys", "API_KEYS", SecretKind.THIRD_PARTY),),
        ),
        infrastructure=InfrastructureConfig(
            account=account_for("staging", context),
            region=REGION,
            networking=NetworkConfig(cidr="10.20.0.0/16", nat_gateways=1),
            resources=(
                _api(
                    "512/1024",
                    AutoScalingConfig(
                        min_replicas=2, max_replicas=4, target_cpu=60, target_memory=75, scale_down_delay=300
                    ),
                ),
            ),
        ),
        deployment_strategy=DeploymentStrategy(
            type=StrategyType.CANARY, health_check_path="/health", health_check_timeout=5, canary_percentage=10
        ),
        rollback=RollbackConfig(automatic=True, health_check_failures=3, rollback_timeout=240),
        data=DataConfig(
            database_instance_class="t4g.medium",
            database_allocated_storage_gib=50,
            database_max_allocated_storage_gib=200,
            backup_retention_days=14,
            deletion_protection=True,
            weekly_backup_retention_days=35,
            cache_node_type="cache.t4g.small",
            cache_replicas=1,
        ),
        service=_service(context, alarm_evaluation_periods=2),
        secrets=SecretsConfig(default_rotation_days=30, database_rotation_days=30),
    )


def prod(context: Mapping[str, Any] | None = None) -> EnvironmentConfig:
    return EnvironmentConfig(
        settings=EnvironmentSettings(
            name="prod",
            url="https://app.cashtrace.ng",
            requires_approval=True,
            variables=(EnvironmentVariable("LOG_LEVEL", "INFO"),),
            # Issued by a third party: never rotated by us, its age is alarmed instead.
            secrets=(SecretReference("cashtrace/prod/api-keys", "API_KEYS", SecretKind.THIRD_PARTY),),
        ),
        infrastructure=InfrastructureConfig(
            account=account_for("prod", context),
            region=REGION,
            networking=NetworkConfig(cidr="10.30.0.0/16", nat_gateways=3),
            resources=(
                _api(
                    "1024/2048",
                    AutoScalingConfig(
                        min_replicas=3, max_replicas=12, target_cpu=60, target_memory=75, scale_down_delay=600
                    ),
                ),
            ),
        ),
        deployment_strategy=DeploymentStrategy(
            type=StrategyType.CANARY, health_check_path="/health", health_check_timeout=5, canary_percentage=10
        ),
        rollback=RollbackConfig(automatic=True, health_check_failures=2, rollback_timeout=180),
        data=DataConfig(
            database_instance_class="m6g.large",
            database_allocated_storage_gib=100,
            database_max_allocated_storage_gib=1000,
            backup_retention_days=35,
            multi_az=True,
            deletion_protection=True,
            weekly_backup_retention_days=365,
            vault_lock=True,
            cache_node_type="cache.m7g.large",
            cache_replicas=2,
            cache_snapshot_retention_days=35,
        ),
        # One breaching minute rolls prod back: its budget is 180 s, not 300 (docs/service.md).
        service=_service(context, alarm_evaluation_periods=1),
        # PCI DSS 8.3.9 and the 30-day ceiling in SecretsConfig.validate.
        secrets=SecretsConfig(default_rotation_days=30, database_rotation_days=30),
        # Prod's larger volume and pool: page earlier on storage, allow more connections.
        monitoring=MonitoringConfig(database_min_free_storage_gib=50, database_max_connections=400),
    )


def all_environments(context: Mapping[str, Any] | None = None) -> tuple[EnvironmentConfig, ...]:
    """dev, staging, prod, in promotion order."""
    return (dev(context), staging(context), prod(context))


def pipeline(context: Mapping[str, Any] | None = None) -> PipelineConfig:
    """The CD pipeline in the tooling account; it promotes staging, then prod."""
    return PipelineConfig(account=account_for("pipeline", context), region=REGION)


def github_oidc() -> GitHubOidcConfig:
    """The repository whose `main` may push release images and hand the source to the CD pipeline."""
    return GitHubOidcConfig(owner="cashtrace", repository="cashtrace-infrastructure", branch="main")
