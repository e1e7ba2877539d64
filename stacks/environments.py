"""dev, staging and prod: the one place where environments differ.

Account ids are not committed. Each comes from CDK context (`-c account.prod=...`), else from
the environment (`CASHTRACE_PROD_ACCOUNT`), else a documented placeholder so that `cdk synth`
works on a laptop with no AWS credentials. Deploying with a placeholder fails at bootstrap
lookup, never silently in the wrong account. The hosted zone (or an imported certificate) of
staging and prod and the pipeline's notification addresses are read the same way
(`CONTEXT_KEYS`); `is_placeholder` tells which values are still placeholders.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from cashtrace_constructs.config import (
    ENVIRONMENT_NAMES,
    PLACEHOLDER_ACCOUNTS,
    PLACEHOLDER_HOSTED_ZONE_IDS,
    PLACEHOLDER_NOTIFICATION_EMAIL,
    AutoScalingConfig,
    DataConfig,
    DeploymentStrategy,
    EndpointConfig,
    EnvironmentConfig,
    EnvironmentSettings,
    EnvironmentVariable,
    GitHubOidcConfig,
    HostedZone,
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
from cashtrace_constructs.release_manifest import PLACEHOLDER_RELEASE, ReleaseManifest
from stacks.release import require_repository

REGION = "af-south-1"
# The public zone every environment's name lives in.
ZONE_NAME = "cashtrace.ng"

# Context keys `build_app` reads for the configs (`-c key=value`); each has an environment variable too.
CONTEXT_KEYS: tuple[str, ...] = (
    *(f"account.{name}" for name in (*ENVIRONMENT_NAMES, "pipeline")),
    *(f"hosted-zone-id.{name}" for name in ENVIRONMENT_NAMES),
    *(f"certificate-arn.{name}" for name in ENVIRONMENT_NAMES),
    "notification-emails",
)


def _setting(context: Mapping[str, Any] | None, key: str, variable: str) -> str | None:
    value = (context or {}).get(key) or os.environ.get(variable)
    return str(value) if value else None


def account_for(name: str, context: Mapping[str, Any] | None = None) -> str:
    """Account id of one environment: context, then environment variable, then placeholder."""
    return _setting(context, f"account.{name}", f"CASHTRACE_{name.upper()}_ACCOUNT") or PLACEHOLDER_ACCOUNTS[name]


def endpoint_for(name: str, domain_name: str, context: Mapping[str, Any] | None = None) -> EndpointConfig:
    """TLS for one environment: an imported certificate (`-c certificate-arn.<env>=...`), else the
    hosted zone (`-c hosted-zone-id.<env>=Z...`), else the placeholder zone (synthesizes, cannot deploy)."""
    upper = name.upper()
    certificate = _setting(context, f"certificate-arn.{name}", f"CASHTRACE_{upper}_CERTIFICATE_ARN")
    if certificate:
        return EndpointConfig(domain_name=domain_name, certificate_arn=certificate)
    zone_id = _setting(context, f"hosted-zone-id.{name}", f"CASHTRACE_{upper}_HOSTED_ZONE_ID")
    return EndpointConfig(
        domain_name=domain_name,
        hosted_zone=HostedZone(zone_id=zone_id or PLACEHOLDER_HOSTED_ZONE_IDS[name], zone_name=ZONE_NAME),
    )


def _service(
    context: Mapping[str, Any] | None, release: ReleaseManifest, *, alarm_evaluation_periods: int
) -> ServiceConfig:
    """The API service, pinned to the release's digest (stacks/release.py: manifest, digest or placeholder)."""
    service = ServiceConfig(
        repository_account=account_for("pipeline", context),
        image_digest=release.digest,
        commit_sha="" if release.is_placeholder else release.commit_sha,
        alarm_evaluation_periods=alarm_evaluation_periods,
    )
    require_repository(release, service.repository_name)
    return service


def _api(size: str, scaling: AutoScalingConfig) -> ResourceConfig:
    return ResourceConfig(type=ResourceType.COMPUTE, name="api", size=size, auto_scaling=scaling)


def dev(context: Mapping[str, Any] | None = None, release: ReleaseManifest = PLACEHOLDER_RELEASE) -> EnvironmentConfig:
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
        # TLS like the others. Dev alone may run plain HTTP, but only by saying so:
        # EndpointConfig(domain_name="dev.cashtrace.ng", plain_http=True).
        endpoint=endpoint_for("dev", "dev.cashtrace.ng", context),
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
        service=_service(context, release, alarm_evaluation_periods=2),
        # Dev holds no customer data: rotating quarterly keeps the Lambda exercised without churn.
        secrets=SecretsConfig(default_rotation_days=90, database_rotation_days=90),
        # Dev is noisy by nature: wait longer before warning, and run the smallest Grafana.
        monitoring=MonitoringConfig(evaluation_periods=5, grafana_cpu=256, grafana_memory_mib=512),
    )


def staging(
    context: Mapping[str, Any] | None = None, release: ReleaseManifest = PLACEHOLDER_RELEASE
) -> EnvironmentConfig:
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
        endpoint=endpoint_for("staging", "staging.cashtrace.ng", context),
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
        service=_service(context, release, alarm_evaluation_periods=2),
        secrets=SecretsConfig(default_rotation_days=30, database_rotation_days=30),
    )


def prod(context: Mapping[str, Any] | None = None, release: ReleaseManifest = PLACEHOLDER_RELEASE) -> EnvironmentConfig:
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
        endpoint=endpoint_for("prod", "app.cashtrace.ng", context),
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
        service=_service(context, release, alarm_evaluation_periods=1),
        # PCI DSS 8.3.9 and the 30-day ceiling in SecretsConfig.validate.
        secrets=SecretsConfig(default_rotation_days=30, database_rotation_days=30),
        # Prod's larger volume and pool: page earlier on storage, allow more connections.
        monitoring=MonitoringConfig(database_min_free_storage_gib=50, database_max_connections=400),
    )


def all_environments(
    context: Mapping[str, Any] | None = None, release: ReleaseManifest = PLACEHOLDER_RELEASE
) -> tuple[EnvironmentConfig, ...]:
    """dev, staging, prod, in promotion order, all pinned to `release`."""
    return (dev(context, release), staging(context, release), prod(context, release))


def pipeline(context: Mapping[str, Any] | None = None) -> PipelineConfig:
    """The CD pipeline in the tooling account; it promotes staging, then prod.

    Its notifications go to `-c notification-emails=a@x,b@y` (or CASHTRACE_NOTIFICATION_EMAILS),
    else to the placeholder address, which reaches nobody.
    """
    emails = _setting(context, "notification-emails", "CASHTRACE_NOTIFICATION_EMAILS")
    return PipelineConfig(
        account=account_for("pipeline", context),
        region=REGION,
        notification_emails=(
            tuple(address.strip() for address in emails.split(",") if address.strip())
            if emails
            else (PLACEHOLDER_NOTIFICATION_EMAIL,)
        ),
    )


def github_oidc() -> GitHubOidcConfig:
    """The repository whose `main` may push release images and hand the source to the CD pipeline."""
    return GitHubOidcConfig(owner="cashtrace", repository="cashtrace-infrastructure", branch="main")
