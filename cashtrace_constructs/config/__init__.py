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
from cashtrace_constructs.config.endpoint import (
    GRAFANA_HOST_PREFIX,
    PLAIN_HTTP_ENVIRONMENTS,
    EndpointConfig,
    HostedZone,
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
    fargate_size,
)
from cashtrace_constructs.config.monitoring import MonitoringConfig, pagerduty_secret_name
from cashtrace_constructs.config.pipeline import (
    DEPLOYMENT_RECORD_READER_ROLE,
    DEPLOYMENT_RECORD_TABLE_PARAMETER,
    SEVERITIES,
    PipelineConfig,
)
from cashtrace_constructs.config.placeholders import (
    PLACEHOLDER_ACCOUNTS,
    PLACEHOLDER_HOSTED_ZONE_IDS,
    PLACEHOLDER_NOTIFICATION_EMAIL,
    PLACEHOLDER_PIPELINE_ACCOUNT,
    is_placeholder,
)
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
    HOOK_REPORT_RESERVE_SECONDS,
    DeploymentHookConfig,
    DeploymentStrategy,
    RollbackConfig,
    ServiceConfig,
    StrategyType,
)

__all__ = [
    "DEFAULT_ALLOWED_REGIONS",
    "DEPLOYMENT_RECORD_READER_ROLE",
    "DEPLOYMENT_RECORD_TABLE_PARAMETER",
    "ENVIRONMENT_NAMES",
    "GITHUB_OIDC_ISSUER",
    "GRAFANA_HOST_PREFIX",
    "HOOK_REPORT_RESERVE_SECONDS",
    "MAX_BACKUP_RETENTION_DAYS",
    "MAX_PRODUCTION_ROTATION_DAYS",
    "MAX_ROTATION_DAYS",
    "MIN_BACKUP_RETENTION_DAYS",
    "MIN_CACHE_SNAPSHOT_RETENTION_DAYS",
    "PLACEHOLDER_ACCOUNTS",
    "PLACEHOLDER_HOSTED_ZONE_IDS",
    "PLACEHOLDER_NOTIFICATION_EMAIL",
    "PLACEHOLDER_PIPELINE_ACCOUNT",
    "PLAIN_HTTP_ENVIRONMENTS",
    "PRODUCTION",
    "SEVERITIES",
    "AutoScalingConfig",
    "DataConfig",
    "DeploymentHookConfig",
    "DeploymentStrategy",
    "EndpointConfig",
    "EnvironmentConfig",
    "EnvironmentSettings",
    "EnvironmentVariable",
    "GitHubOidcConfig",
    "HostedZone",
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
    "fargate_size",
    "is_placeholder",
    "pagerduty_secret_name",
    "require_secret_of",
    "secret_environment",
]
