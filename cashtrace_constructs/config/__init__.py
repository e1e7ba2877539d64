"""The typed environment model (frozen dataclasses) and its validation, one module per concept.

`EnvironmentConfig`, `PipelineConfig` and `GitHubOidcConfig` are the roots: constructing one
validates everything under it and refuses a bad value with a DEPLOY_* code and its full field path.
"""

from cashtrace_constructs.config.data import (
    MAX_BACKUP_RETENTION_DAYS,
    MIN_BACKUP_RETENTION_DAYS,
    MIN_CACHE_SNAPSHOT_RETENTION_DAYS,
    DataConfig,
)
from cashtrace_constructs.config.environment import (
    ENVIRONMENT_NAMES,
    PRODUCTION,
    EnvironmentConfig,
    EnvironmentSettings,
    EnvironmentVariable,
    Ownership,
)
from cashtrace_constructs.config.github import GITHUB_OIDC_ISSUER, GitHubOidcConfig
from cashtrace_constructs.config.infrastructure import (
    DEFAULT_ALLOWED_REGIONS,
    AutoScalingConfig,
    InfrastructureConfig,
    NetworkConfig,
    ResourceConfig,
    ResourceType,
    SecurityConfig,
)
from cashtrace_constructs.config.monitoring import MonitoringConfig
from cashtrace_constructs.config.pipeline import SEVERITIES, PipelineConfig
from cashtrace_constructs.config.secrets import (
    MAX_PRODUCTION_ROTATION_DAYS,
    MAX_ROTATION_DAYS,
    SecretKind,
    SecretReference,
    SecretRotation,
    SecretsConfig,
    require_secret_of,
    secret_environment,
)
from cashtrace_constructs.config.service import (
    DEFAULT_IMAGE_TAG,
    HOOK_REPORT_RESERVE_SECONDS,
    PLACEHOLDER_PIPELINE_ACCOUNT,
    DeploymentHookConfig,
    DeploymentStrategy,
    RollbackConfig,
    ServiceConfig,
    StrategyType,
)

__all__ = [
    "DEFAULT_ALLOWED_REGIONS",
    "DEFAULT_IMAGE_TAG",
    "ENVIRONMENT_NAMES",
    "GITHUB_OIDC_ISSUER",
    "HOOK_REPORT_RESERVE_SECONDS",
    "MAX_BACKUP_RETENTION_DAYS",
    "MAX_PRODUCTION_ROTATION_DAYS",
    "MAX_ROTATION_DAYS",
    "MIN_BACKUP_RETENTION_DAYS",
    "MIN_CACHE_SNAPSHOT_RETENTION_DAYS",
    "PLACEHOLDER_PIPELINE_ACCOUNT",
    "PRODUCTION",
    "SEVERITIES",
    "AutoScalingConfig",
    "DataConfig",
    "DeploymentHookConfig",
    "DeploymentStrategy",
    "EnvironmentConfig",
    "EnvironmentSettings",
    "EnvironmentVariable",
    "GitHubOidcConfig",
    "InfrastructureConfig",
    "MonitoringConfig",
    "NetworkConfig",
    "Ownership",
    "PipelineConfig",
    "ResourceConfig",
    "ResourceType",
    "RollbackConfig",
    "SecretKind",
    "SecretReference",
    "SecretRotation",
    "SecretsConfig",
    "SecurityConfig",
    "ServiceConfig",
    "StrategyType",
    "require_secret_of",
    "secret_environment",
]
