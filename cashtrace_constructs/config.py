"""The typed environment model of the design (frozen dataclasses) and its validation.

Every model validates itself when constructed, so an invalid config is refused before any
construct exists. `EnvironmentConfig` re-validates its parts with full field paths
(`prod.auto_scaling.min_replicas`), which is what an operator sees in the error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from cashtrace_constructs.errors import DeploymentError, ErrorCode

# Cape Town. Nigeria has no AWS region yet; a Nigeria-only tier would be added here (README).
DEFAULT_ALLOWED_REGIONS: tuple[str, ...] = ("af-south-1",)
# CodeDeploy/ECS cannot promise a rollback faster than their own reaction; the design's
# Property 5 caps it at five minutes.
MAX_ROLLBACK_TIMEOUT_SECONDS = 300
ENVIRONMENT_NAMES: tuple[str, ...] = ("dev", "staging", "prod")
PRODUCTION = "prod"

_ACCOUNT_RE = re.compile(r"^\d{12}$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,30}$")
_ENV_VAR_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_SECRET_NAME_RE = re.compile(r"^cashtrace/(?P<env>[a-z0-9-]+)/(?P<purpose>[a-z0-9][a-z0-9-_/]*)$")
_SEVERITIES = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")


def _fail(code: ErrorCode, path: str, message: str) -> DeploymentError:
    return DeploymentError(code, message, field=path)


def _require(condition: bool, code: ErrorCode, path: str, message: str) -> None:
    if not condition:
        raise _fail(code, path, message)


def _require_range(value: float, low: float, high: float, code: ErrorCode, path: str) -> None:
    _require(low <= value <= high, code, path, f"must be between {low} and {high}, got {value}")


class StrategyType(StrEnum):
    ROLLING = "rolling"
    BLUE_GREEN = "blue_green"
    CANARY = "canary"


class CloudProvider(StrEnum):
    AWS = "aws"
    GCP = "gcp"
    AZURE = "azure"


class ResourceType(StrEnum):
    COMPUTE = "compute"
    DATABASE = "database"
    CACHE = "cache"
    STORAGE = "storage"
    CDN = "cdn"


@dataclass(frozen=True)
class EnvironmentVariable:
    name: str
    value: str

    def validate(self, path: str) -> None:
        _require(
            bool(_ENV_VAR_RE.match(self.name)),
            ErrorCode.CONFIG_INVALID,
            f"{path}.name",
            f"must be an upper-case environment variable name, got {self.name!r}",
        )


@dataclass(frozen=True)
class SecretReference:
    """A secret the workload reads, named `cashtrace/<env>/<purpose>` (Property 6)."""

    name: str
    env_var: str

    def validate(self, path: str) -> None:
        _require(
            bool(_SECRET_NAME_RE.match(self.name)),
            ErrorCode.CONFIG_INVALID,
            f"{path}.name",
            f"must look like cashtrace/<env>/<purpose>, got {self.name!r}",
        )
        _require(
            bool(_ENV_VAR_RE.match(self.env_var)),
            ErrorCode.CONFIG_INVALID,
            f"{path}.env_var",
            f"must be an upper-case environment variable name, got {self.env_var!r}",
        )

    @property
    def environment(self) -> str:
        match = _SECRET_NAME_RE.match(self.name)
        return match.group("env") if match else ""


@dataclass(frozen=True)
class Environment:
    """The design's Environment: where a release runs and who must approve it."""

    name: str
    url: str
    requires_approval: bool
    variables: tuple[EnvironmentVariable, ...] = ()
    secrets: tuple[SecretReference, ...] = ()
    auto_deploy_branch: str | None = None

    def __post_init__(self) -> None:
        self.validate("environment")

    def validate(self, path: str) -> None:
        _require(
            self.name in ENVIRONMENT_NAMES,
            ErrorCode.CONFIG_INVALID,
            f"{path}.name",
            f"must be one of {', '.join(ENVIRONMENT_NAMES)}, got {self.name!r}",
        )
        _require(
            self.url.startswith("https://"),
            ErrorCode.CONFIG_INVALID,
            f"{path}.url",
            f"must be an https:// URL, got {self.url!r}",
        )
        _require(
            self.name != PRODUCTION or self.requires_approval,
            ErrorCode.APPROVAL_REQUIRED,
            f"{path}.requires_approval",
            "production deployments must require a manual approval",
        )
        _require(
            self.name != PRODUCTION or self.auto_deploy_branch is None,
            ErrorCode.APPROVAL_REQUIRED,
            f"{path}.auto_deploy_branch",
            "production is never deployed automatically from a branch",
        )
        names = [v.name for v in self.variables]
        for index, variable in enumerate(self.variables):
            variable.validate(f"{path}.variables[{index}]")
        _require(
            len(names) == len(set(names)),
            ErrorCode.CONFIG_INVALID,
            f"{path}.variables",
            "variable names must be unique",
        )
        for index, secret in enumerate(self.secrets):
            secret.validate(f"{path}.secrets[{index}]")
            _require(
                secret.environment == self.name,
                ErrorCode.SECRET_ACCESS_DENIED,
                f"{path}.secrets[{index}].name",
                f"{secret.name!r} belongs to environment {secret.environment!r}, not {self.name!r}",
            )


@dataclass(frozen=True)
class DeploymentStrategy:
    type: StrategyType
    health_check_path: str
    health_check_timeout: int
    max_unavailable: int | None = None
    canary_percentage: int | None = None

    def __post_init__(self) -> None:
        self.validate("deployment_strategy")

    def validate(self, path: str) -> None:
        _require(
            isinstance(self.type, StrategyType),
            ErrorCode.CONFIG_INVALID,
            f"{path}.type",
            f"must be one of {[s.value for s in StrategyType]}, got {self.type!r}",
        )
        _require(
            self.health_check_path.startswith("/"),
            ErrorCode.HEALTH_CHECK_FAILED,
            f"{path}.health_check_path",
            f"must be an absolute path, got {self.health_check_path!r}",
        )
        # The ALB health check timeout must be 2..120 s and shorter than its interval.
        _require_range(self.health_check_timeout, 2, 120, ErrorCode.HEALTH_CHECK_FAILED, f"{path}.health_check_timeout")
        if self.type is StrategyType.CANARY:
            _require(
                self.canary_percentage is not None,
                ErrorCode.CONFIG_INVALID,
                f"{path}.canary_percentage",
                "a canary strategy needs a canary percentage",
            )
        else:
            _require(
                self.canary_percentage is None,
                ErrorCode.CONFIG_INVALID,
                f"{path}.canary_percentage",
                f"only a canary strategy takes a canary percentage, this one is {self.type.value}",
            )
        if self.canary_percentage is not None:
            _require_range(self.canary_percentage, 1, 99, ErrorCode.CONFIG_INVALID, f"{path}.canary_percentage")
        if self.type is StrategyType.ROLLING:
            _require(
                self.max_unavailable is not None,
                ErrorCode.CONFIG_INVALID,
                f"{path}.max_unavailable",
                "a rolling strategy needs max_unavailable (0 keeps full capacity during a deploy)",
            )
        if self.max_unavailable is not None:
            _require(
                self.type is StrategyType.ROLLING,
                ErrorCode.CONFIG_INVALID,
                f"{path}.max_unavailable",
                f"only a rolling strategy takes max_unavailable, this one is {self.type.value}",
            )
            _require_range(self.max_unavailable, 0, 100, ErrorCode.CONFIG_INVALID, f"{path}.max_unavailable")


@dataclass(frozen=True)
class RollbackConfig:
    automatic: bool
    health_check_failures: int
    rollback_timeout: int

    def __post_init__(self) -> None:
        self.validate("rollback")

    def validate(self, path: str) -> None:
        _require_range(self.health_check_failures, 1, 10, ErrorCode.CONFIG_INVALID, f"{path}.health_check_failures")
        _require(
            0 < self.rollback_timeout <= MAX_ROLLBACK_TIMEOUT_SECONDS,
            ErrorCode.ROLLBACK_FAILED,
            f"{path}.rollback_timeout",
            f"must be 1..{MAX_ROLLBACK_TIMEOUT_SECONDS} seconds (Property 5), got {self.rollback_timeout}",
        )


@dataclass(frozen=True)
class AutoScalingConfig:
    min_replicas: int
    max_replicas: int
    target_cpu: int
    target_memory: int
    scale_down_delay: int

    def __post_init__(self) -> None:
        self.validate("auto_scaling")

    def validate(self, path: str) -> None:
        _require(
            self.min_replicas >= 1,
            ErrorCode.RESOURCE_LIMIT,
            f"{path}.min_replicas",
            f"must be at least 1, got {self.min_replicas}",
        )
        _require(
            self.min_replicas <= self.max_replicas,
            ErrorCode.RESOURCE_LIMIT,
            f"{path}.min_replicas",
            f"must not exceed max_replicas ({self.min_replicas} > {self.max_replicas})",
        )
        # Fargate's default per-service task quota; raising it is a quota request, not a config change.
        _require_range(self.max_replicas, 1, 1000, ErrorCode.RESOURCE_LIMIT, f"{path}.max_replicas")
        _require_range(self.target_cpu, 1, 100, ErrorCode.RESOURCE_LIMIT, f"{path}.target_cpu")
        _require_range(self.target_memory, 1, 100, ErrorCode.RESOURCE_LIMIT, f"{path}.target_memory")
        _require_range(self.scale_down_delay, 0, 3600, ErrorCode.CONFIG_INVALID, f"{path}.scale_down_delay")


@dataclass(frozen=True)
class ResourceConfig:
    type: ResourceType
    name: str
    size: str
    replicas: int | None = None
    auto_scaling: AutoScalingConfig | None = None

    def validate(self, path: str) -> None:
        _require(
            bool(_NAME_RE.match(self.name)),
            ErrorCode.CONFIG_INVALID,
            f"{path}.name",
            f"must be lower-case letters, digits and dashes, got {self.name!r}",
        )
        _require(bool(self.size), ErrorCode.CONFIG_INVALID, f"{path}.size", "must not be empty")
        if self.replicas is not None:
            _require_range(self.replicas, 1, 1000, ErrorCode.RESOURCE_LIMIT, f"{path}.replicas")
        if self.auto_scaling is not None:
            self.auto_scaling.validate(f"{path}.auto_scaling")


@dataclass(frozen=True)
class NetworkConfig:
    cidr: str
    nat_gateways: int
    max_azs: int = 3
    flow_log_retention_days: int = 365

    def validate(self, path: str) -> None:
        _require(
            bool(re.match(r"^10\.\d{1,3}\.0\.0/16$", self.cidr)),
            ErrorCode.CONFIG_INVALID,
            f"{path}.cidr",
            f"must be a 10.x.0.0/16 block, got {self.cidr!r}",
        )
        _require_range(self.max_azs, 2, 3, ErrorCode.RESOURCE_LIMIT, f"{path}.max_azs")
        _require_range(self.nat_gateways, 1, self.max_azs, ErrorCode.RESOURCE_LIMIT, f"{path}.nat_gateways")
        # PCI DSS 10.7 asks for a year of audit trail.
        _require(
            self.flow_log_retention_days >= 365,
            ErrorCode.CONFIG_INVALID,
            f"{path}.flow_log_retention_days",
            f"must keep at least 365 days of flow logs, got {self.flow_log_retention_days}",
        )


@dataclass(frozen=True)
class SecurityConfig:
    allowed_regions: tuple[str, ...] = DEFAULT_ALLOWED_REGIONS
    # Property 3: an image finding at or above this severity blocks a release.
    vulnerability_severity_threshold: str = "HIGH"

    def validate(self, path: str) -> None:
        _require(
            len(self.allowed_regions) > 0,
            ErrorCode.RESIDENCY_VIOLATION,
            f"{path}.allowed_regions",
            "the residency allow-list must name at least one region",
        )
        for index, region in enumerate(self.allowed_regions):
            _require(
                region.startswith("af-"),
                ErrorCode.RESIDENCY_VIOLATION,
                f"{path}.allowed_regions[{index}]",
                f"user data must stay in Africa; {region!r} is not an African region",
            )
        _require(
            self.vulnerability_severity_threshold in _SEVERITIES,
            ErrorCode.CONFIG_INVALID,
            f"{path}.vulnerability_severity_threshold",
            f"must be one of {', '.join(_SEVERITIES)}, got {self.vulnerability_severity_threshold!r}",
        )


@dataclass(frozen=True)
class InfrastructureConfig:
    account: str
    region: str
    networking: NetworkConfig
    resources: tuple[ResourceConfig, ...] = ()
    security: SecurityConfig = field(default_factory=SecurityConfig)
    provider: CloudProvider = CloudProvider.AWS

    def __post_init__(self) -> None:
        self.validate("infrastructure")

    def validate(self, path: str) -> None:
        _require(
            self.provider is CloudProvider.AWS,
            ErrorCode.CONFIG_INVALID,
            f"{path}.provider",
            f"only aws is built by this CDK app, got {self.provider!r}",
        )
        _require(
            bool(_ACCOUNT_RE.match(self.account)),
            ErrorCode.CONFIG_INVALID,
            f"{path}.account",
            f"must be a 12-digit AWS account id, got {self.account!r}",
        )
        self.security.validate(f"{path}.security")
        _require(
            self.region in self.security.allowed_regions,
            ErrorCode.RESIDENCY_VIOLATION,
            f"{path}.region",
            f"{self.region!r} is outside the residency allow-list {list(self.security.allowed_regions)}",
        )
        self.networking.validate(f"{path}.networking")
        names = [r.name for r in self.resources]
        _require(
            len(names) == len(set(names)),
            ErrorCode.CONFIG_INVALID,
            f"{path}.resources",
            "resource names must be unique",
        )
        for index, resource in enumerate(self.resources):
            resource.validate(f"{path}.resources[{index}]")

    @property
    def availability_zones(self) -> tuple[str, ...]:
        """Named AZs (a, b, c) so synth needs no lookup; every af-south-1 account has all three."""
        return tuple(f"{self.region}{suffix}" for suffix in "abc"[: self.networking.max_azs])

    def resource(self, resource_type: ResourceType, name: str | None = None) -> ResourceConfig:
        for resource in self.resources:
            if resource.type is resource_type and (name is None or resource.name == name):
                return resource
        raise _fail(
            ErrorCode.CONFIG_INVALID,
            "infrastructure.resources",
            f"no {resource_type.value} resource{f' named {name!r}' if name else ''} is configured",
        )


# ---- Service (issue 3: blue-green service) ----


# ---- Data layer (issue 4: database, backups, cache, storage, CDN) ----


# ---- Secrets (issue 5: per-environment secrets) ----


# ---- CD pipeline (issue 6) ----


# ---- Monitoring (issue 8) ----

# Names prefixed for this section: other sections of this module define their own patterns.
_PINNED_RELEASE_TAG_RE = re.compile(r"^v?\d+\.\d+\.\d+$")
_GRAFANA_CERTIFICATE_ARN_RE = re.compile(r"^arn:aws:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}$")


@dataclass(frozen=True)
class MonitoringConfig:
    """Alarm thresholds, the Prometheus scrape, and the in-region Grafana of one environment.

    Percentages are of the resource's capacity; every alarm evaluates `evaluation_periods`
    one-minute datapoints (CloudWatch's standard resolution) before it changes state.
    """

    evaluation_periods: int = 3
    service_cpu_percent: int = 80
    service_memory_percent: int = 80
    database_cpu_percent: int = 80
    database_min_free_storage_gib: int = 10
    database_max_connections: int = 200
    database_max_replica_lag_seconds: int = 60
    cache_cpu_percent: int = 75
    cache_memory_percent: int = 80
    cache_max_evictions: int = 100
    # The app's Prometheus endpoint inside its task (the ADOT sidecar scrapes localhost).
    metrics_port: int = 9464
    metrics_path: str = "/metrics"
    scrape_interval_seconds: int = 30
    # Images are pinned by release tag so a deploy never pulls an unreviewed "latest".
    collector_image_tag: str = "v0.43.3"
    grafana_image_tag: str = "12.2.1"
    # Installed by Grafana at start (AMP needs its SigV4 data source plugin); `name@version` pins one.
    grafana_plugins: tuple[str, ...] = ("grafana-amazonprometheus-datasource",)
    grafana_cpu: int = 512
    grafana_memory_mib: int = 1024
    # An ACM certificate in the environment's region turns the Grafana listener into HTTPS.
    grafana_certificate_arn: str | None = None
    log_retention_days: int = 365
    # Fargate needs up to ~2 minutes to start a task; a shortfall this long means tasks cannot start.
    service_task_shortfall_minutes: int = 5

    def __post_init__(self) -> None:
        self.validate("monitoring")

    def validate(self, path: str) -> None:
        _require_range(self.evaluation_periods, 1, 5, ErrorCode.CONFIG_INVALID, f"{path}.evaluation_periods")
        for name in (
            "service_cpu_percent",
            "service_memory_percent",
            "database_cpu_percent",
            "cache_cpu_percent",
            "cache_memory_percent",
        ):
            _require_range(getattr(self, name), 1, 100, ErrorCode.CONFIG_INVALID, f"{path}.{name}")
        for name in (
            "database_min_free_storage_gib",
            "database_max_connections",
            "database_max_replica_lag_seconds",
            "cache_max_evictions",
            "service_task_shortfall_minutes",
        ):
            _require(
                getattr(self, name) >= 1,
                ErrorCode.CONFIG_INVALID,
                f"{path}.{name}",
                f"must be at least 1, got {getattr(self, name)}",
            )
        _require_range(self.metrics_port, 1024, 65535, ErrorCode.CONFIG_INVALID, f"{path}.metrics_port")
        _require(
            self.metrics_path.startswith("/"),
            ErrorCode.CONFIG_INVALID,
            f"{path}.metrics_path",
            f"must be an absolute path, got {self.metrics_path!r}",
        )
        _require_range(
            self.scrape_interval_seconds, 5, 300, ErrorCode.CONFIG_INVALID, f"{path}.scrape_interval_seconds"
        )
        for name in ("collector_image_tag", "grafana_image_tag"):
            _require(
                bool(_PINNED_RELEASE_TAG_RE.match(getattr(self, name))),
                ErrorCode.CONFIG_INVALID,
                f"{path}.{name}",
                f"must be a pinned release tag like 1.2.3, got {getattr(self, name)!r}",
            )
        for index, plugin in enumerate(self.grafana_plugins):
            _require(
                bool(re.match(r"^[a-z0-9-]+(@\d+\.\d+\.\d+)?$", plugin)),
                ErrorCode.CONFIG_INVALID,
                f"{path}.grafana_plugins[{index}]",
                f"must be a Grafana plugin id, optionally @version, got {plugin!r}",
            )
        # Fargate's valid CPU units; memory must also fit the CPU size (checked by ECS at deploy).
        _require(
            self.grafana_cpu in (256, 512, 1024, 2048, 4096),
            ErrorCode.RESOURCE_LIMIT,
            f"{path}.grafana_cpu",
            f"must be a Fargate CPU size (256, 512, 1024, 2048, 4096), got {self.grafana_cpu}",
        )
        _require_range(self.grafana_memory_mib, 512, 30720, ErrorCode.RESOURCE_LIMIT, f"{path}.grafana_memory_mib")
        _require(
            self.log_retention_days >= 30,
            ErrorCode.CONFIG_INVALID,
            f"{path}.log_retention_days",
            f"must keep at least 30 days of monitoring logs, got {self.log_retention_days}",
        )
        if self.grafana_certificate_arn is not None:
            match = _GRAFANA_CERTIFICATE_ARN_RE.match(self.grafana_certificate_arn)
            _require(
                match is not None,
                ErrorCode.CONFIG_INVALID,
                f"{path}.grafana_certificate_arn",
                f"must be an ACM certificate ARN, got {self.grafana_certificate_arn!r}",
            )
            _require(
                match is not None and match.group("region").startswith("af-"),
                ErrorCode.RESIDENCY_VIOLATION,
                f"{path}.grafana_certificate_arn",
                "the Grafana certificate must live in the environment's African region",
            )


@dataclass(frozen=True)
class Ownership:
    """Cost-allocation tags every stack carries (rule: cost-allocation-tags)."""

    service: str = "cashtrace"
    owner: str = "platform-team"
    cost_center: str = "cashtrace-platform"


@dataclass(frozen=True)
class EnvironmentConfig:
    """Everything one environment stack is built from. Constructing it validates all of it."""

    environment: Environment
    infrastructure: InfrastructureConfig
    deployment_strategy: DeploymentStrategy
    rollback: RollbackConfig
    ownership: Ownership = field(default_factory=Ownership)
    # service (issue 3)

    # data layer (issue 4)

    # secrets (issue 5)

    # monitoring (issue 8)
    monitoring: MonitoringConfig = field(default_factory=MonitoringConfig)

    def __post_init__(self) -> None:
        self.validate()

    @property
    def name(self) -> str:
        return self.environment.name

    @property
    def is_production(self) -> bool:
        return self.environment.name == PRODUCTION

    @property
    def stack_name(self) -> str:
        return f"CashTrace-{self.environment.name.capitalize()}"

    def validate(self) -> None:
        path = self.environment.name
        self.environment.validate(f"{path}.environment")
        self.infrastructure.validate(f"{path}.infrastructure")
        self.deployment_strategy.validate(f"{path}.deployment_strategy")
        self.rollback.validate(f"{path}.rollback")
        # service (issue 3)

        # data layer (issue 4)

        # secrets (issue 5)

        # monitoring (issue 8)
        self.monitoring.validate(f"{path}.monitoring")

        if self.is_production:
            _require(
                self.rollback.automatic,
                ErrorCode.ROLLBACK_FAILED,
                f"{path}.rollback.automatic",
                "production must roll back automatically (Property 5)",
            )
            _require(
                self.infrastructure.networking.nat_gateways == self.infrastructure.networking.max_azs,
                ErrorCode.RESOURCE_LIMIT,
                f"{path}.infrastructure.networking.nat_gateways",
                "production needs one NAT gateway per AZ so one AZ failing cannot cut egress",
            )
