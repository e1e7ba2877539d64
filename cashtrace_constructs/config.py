"""The typed environment model of the design (frozen dataclasses) and its validation.

Constructing an `EnvironmentConfig` validates the whole tree, so an invalid config is refused
before any construct exists, with the full field path an operator can find
(`prod.infrastructure.resources[0].auto_scaling.min_replicas`) and a DEPLOY_* code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.timing import rollback_seconds

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


def _require_secret_name(name: str, path: str) -> None:
    _require(
        bool(_SECRET_NAME_RE.match(name)),
        ErrorCode.CONFIG_INVALID,
        path,
        f"must look like cashtrace/<env>/<purpose>, got {name!r}",
    )


def _require_env_var_name(name: str, path: str) -> None:
    _require(
        bool(_ENV_VAR_RE.match(name)),
        ErrorCode.CONFIG_INVALID,
        path,
        f"must be an upper-case environment variable name, got {name!r}",
    )


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
        _require_env_var_name(self.name, f"{path}.name")


@dataclass(frozen=True)
class SecretReference:
    """A secret the workload reads, named `cashtrace/<env>/<purpose>` (Property 6)."""

    name: str
    env_var: str

    def validate(self, path: str) -> None:
        _require_secret_name(self.name, f"{path}.name")
        _require_env_var_name(self.env_var, f"{path}.env_var")

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

    def validate(self, path: str) -> None:
        # Every environment, not only prod: the CT-P5 rule holds every deployment group to it, and
        # staging rehearses the rollback prod relies on.
        _require(
            self.automatic,
            ErrorCode.ROLLBACK_FAILED,
            f"{path}.automatic",
            "every environment must roll back automatically on failure and on its rollback alarms (Property 5)",
        )
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

# ECR accepts tags of up to 128 of these characters; a digest pins the exact image bytes.
_IMAGE_TAG_RE = re.compile(r"^(?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|sha256:[0-9a-f]{64})$")
_REPOSITORY_NAME_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
_CERTIFICATE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+$")
# Placeholder tag for a laptop synth; real deploys pass `-c image-tag=<tag or sha256 digest>`.
DEFAULT_IMAGE_TAG = "bootstrap"
# The tooling account that owns the image repositories ("build once, promote by digest").
PLACEHOLDER_PIPELINE_ACCOUNT = "444444444444"


@dataclass(frozen=True)
class ServiceConfig:
    """How the API service runs: image, ports, health checks, drain times, rollback alarms.

    The defaults are the timing model's inputs (docs/service.md); the correctness rules
    recompute the budgets from the synthesized template, so changing a number here is safe
    only if Property 5, 9 and 10 still hold.
    """

    name: str = "api"
    repository_account: str = PLACEHOLDER_PIPELINE_ACCOUNT
    repository_name: str = "cashtrace/api"
    image_tag: str = DEFAULT_IMAGE_TAG
    container_port: int = 8080
    # None: plain HTTP production listener (no domain yet); an ACM ARN turns on 443 + redirect.
    certificate_arn: str | None = None
    test_listener_port: int = 9443
    # The longest request the API serves; every drain time is derived from it (Property 10).
    longest_request_seconds: int = 30
    deregistration_delay_seconds: int = 35
    stop_timeout_seconds: int = 45
    health_check_interval_seconds: int = 10
    healthy_threshold: int = 2
    unhealthy_threshold: int = 2
    health_check_grace_period_seconds: int = 60
    log_retention_days: int = 365
    # Rollback alarms (Property 5): 1-minute periods, few evaluation periods.
    alarm_period_seconds: int = 60
    alarm_evaluation_periods: int = 2
    target_5xx_threshold: int = 5
    p99_latency_threshold_ms: int = 2000
    canary_interval_minutes: int = 5
    # Blue tasks stay this long after the switch so that a rollback is a traffic switch.
    blue_termination_wait_minutes: int = 15
    # Step scale-out (Property 9): a 1-minute alarm, 1 datapoint.
    scale_out_cooldown_seconds: int = 15
    scale_out_evaluation_periods: int = 1

    def __post_init__(self) -> None:
        self.validate("service")

    def validate(self, path: str) -> None:
        _require(
            bool(_NAME_RE.match(self.name)),
            ErrorCode.CONFIG_INVALID,
            f"{path}.name",
            f"must be lower-case letters, digits and dashes, got {self.name!r}",
        )
        _require(
            bool(_ACCOUNT_RE.match(self.repository_account)),
            ErrorCode.CONFIG_INVALID,
            f"{path}.repository_account",
            f"must be a 12-digit AWS account id, got {self.repository_account!r}",
        )
        _require(
            bool(_REPOSITORY_NAME_RE.match(self.repository_name)) and len(self.repository_name) <= 256,
            ErrorCode.CONFIG_INVALID,
            f"{path}.repository_name",
            f"must be a valid ECR repository name, got {self.repository_name!r}",
        )
        _require(
            bool(_IMAGE_TAG_RE.match(self.image_tag)),
            ErrorCode.CONFIG_INVALID,
            f"{path}.image_tag",
            f"must be an ECR tag or a sha256: digest, got {self.image_tag!r}",
        )
        if self.certificate_arn is not None:
            _require(
                bool(_CERTIFICATE_ARN_RE.match(self.certificate_arn)),
                ErrorCode.CONFIG_INVALID,
                f"{path}.certificate_arn",
                f"must be an ACM certificate ARN, got {self.certificate_arn!r}",
            )
        _require_range(self.container_port, 1024, 65535, ErrorCode.CONFIG_INVALID, f"{path}.container_port")
        _require_range(self.test_listener_port, 1024, 65535, ErrorCode.CONFIG_INVALID, f"{path}.test_listener_port")
        _require(
            self.test_listener_port not in (80, 443),
            ErrorCode.CONFIG_INVALID,
            f"{path}.test_listener_port",
            "the test listener must not share a port with production traffic",
        )
        _require_range(
            self.longest_request_seconds, 1, 3600, ErrorCode.CONFIG_INVALID, f"{path}.longest_request_seconds"
        )
        _require_range(
            self.deregistration_delay_seconds, 0, 3600, ErrorCode.CONFIG_INVALID, f"{path}.deregistration_delay_seconds"
        )
        # In-flight requests finish on the old task only if the load balancer waits for them.
        _require(
            self.deregistration_delay_seconds >= self.longest_request_seconds,
            ErrorCode.CONFIG_INVALID,
            f"{path}.deregistration_delay_seconds",
            f"must be at least longest_request_seconds ({self.longest_request_seconds}) (Property 10)",
        )
        # Fargate caps stopTimeout at 120 s.
        _require_range(self.stop_timeout_seconds, 2, 120, ErrorCode.CONFIG_INVALID, f"{path}.stop_timeout_seconds")
        _require(
            self.stop_timeout_seconds >= self.longest_request_seconds,
            ErrorCode.CONFIG_INVALID,
            f"{path}.stop_timeout_seconds",
            f"must be at least longest_request_seconds ({self.longest_request_seconds}) to drain (Property 10)",
        )
        _require_range(
            self.health_check_interval_seconds,
            5,
            300,
            ErrorCode.HEALTH_CHECK_FAILED,
            f"{path}.health_check_interval_seconds",
        )
        _require_range(self.healthy_threshold, 2, 10, ErrorCode.HEALTH_CHECK_FAILED, f"{path}.healthy_threshold")
        _require_range(self.unhealthy_threshold, 2, 10, ErrorCode.HEALTH_CHECK_FAILED, f"{path}.unhealthy_threshold")
        _require(
            self.health_check_grace_period_seconds >= self.healthy_threshold * self.health_check_interval_seconds,
            ErrorCode.HEALTH_CHECK_FAILED,
            f"{path}.health_check_grace_period_seconds",
            "must cover healthy_threshold x health_check_interval_seconds, or ECS replaces tasks still starting",
        )
        _require_range(
            self.health_check_grace_period_seconds,
            0,
            7200,
            ErrorCode.HEALTH_CHECK_FAILED,
            f"{path}.health_check_grace_period_seconds",
        )
        # CloudWatch alarms on standard metrics: 60 s or a multiple of it.
        _require(
            self.alarm_period_seconds >= 60 and self.alarm_period_seconds % 60 == 0,
            ErrorCode.CONFIG_INVALID,
            f"{path}.alarm_period_seconds",
            f"must be a multiple of 60, got {self.alarm_period_seconds}",
        )
        _require_range(
            self.alarm_evaluation_periods, 1, 10, ErrorCode.CONFIG_INVALID, f"{path}.alarm_evaluation_periods"
        )
        _require_range(self.target_5xx_threshold, 1, 100000, ErrorCode.CONFIG_INVALID, f"{path}.target_5xx_threshold")
        _require_range(
            self.p99_latency_threshold_ms, 10, 60000, ErrorCode.CONFIG_INVALID, f"{path}.p99_latency_threshold_ms"
        )
        _require_range(self.canary_interval_minutes, 1, 60, ErrorCode.CONFIG_INVALID, f"{path}.canary_interval_minutes")
        # CodeDeploy accepts 0..2880 minutes for keeping the original task set.
        _require_range(
            self.blue_termination_wait_minutes,
            1,
            2880,
            ErrorCode.ROLLBACK_FAILED,
            f"{path}.blue_termination_wait_minutes",
        )
        _require_range(
            self.scale_out_cooldown_seconds, 0, 3600, ErrorCode.RESOURCE_LIMIT, f"{path}.scale_out_cooldown_seconds"
        )
        _require_range(
            self.scale_out_evaluation_periods, 1, 10, ErrorCode.RESOURCE_LIMIT, f"{path}.scale_out_evaluation_periods"
        )


# ---- Data layer (issue 4: database, backups, cache, storage, CDN) ----

# RDS keeps automated backups for at most 35 days; Property 8 asks for at least a week.
MIN_BACKUP_RETENTION_DAYS = 7
MAX_BACKUP_RETENTION_DAYS = 35
# NIST 800-53 CP-9 as cdk-nag reads it: cache snapshots kept at least 15 days.
MIN_CACHE_SNAPSHOT_RETENTION_DAYS = 15
_INSTANCE_CLASS_RE = re.compile(r"^[a-z][a-z0-9]*\.[a-z0-9]+$")
_CACHE_NODE_RE = re.compile(r"^cache\.[a-z][a-z0-9]*\.[a-z0-9]+$")
_SCHEDULE_RE = re.compile(r"^(cron|rate)\(.+\)$")


@dataclass(frozen=True)
class DataConfig:
    """Sizes and safety settings of the database, its backups, the cache and the buckets."""

    # PostgreSQL (RDS instance class without the "db." prefix, as ec2.InstanceType takes it).
    database_instance_class: str = "t4g.micro"
    database_allocated_storage_gib: int = 20
    database_max_allocated_storage_gib: int = 100
    backup_retention_days: int = MIN_BACKUP_RETENTION_DAYS
    multi_az: bool = False
    deletion_protection: bool = False
    # False only where losing the data is acceptable (dev): the stack then deletes it outright.
    snapshot_on_delete: bool = True
    # AWS Backup: weekly recovery points outlive the daily ones.
    weekly_backup_retention_days: int = 35
    vault_lock: bool = False
    # Twice a week so one late or failed run cannot leave a week without a verified restore.
    restore_test_schedule: str = "cron(0 6 ? * SUN,WED *)"
    # ElastiCache (Redis OSS).
    cache_node_type: str = "cache.t4g.micro"
    cache_replicas: int = 0
    cache_snapshot_retention_days: int = MIN_CACHE_SNAPSHOT_RETENTION_DAYS
    # S3 application bucket: objects move to Intelligent-Tiering after this many days.
    storage_tiering_after_days: int = 30
    storage_noncurrent_expiry_days: int = 90

    def __post_init__(self) -> None:
        self.validate("data")

    def validate(self, path: str) -> None:
        _require(
            bool(_INSTANCE_CLASS_RE.match(self.database_instance_class)),
            ErrorCode.CONFIG_INVALID,
            f"{path}.database_instance_class",
            f"must be an RDS class without the db. prefix (t4g.micro), got {self.database_instance_class!r}",
        )
        # gp3 takes 20 GiB to 64 TiB.
        _require_range(
            self.database_allocated_storage_gib,
            20,
            65536,
            ErrorCode.RESOURCE_LIMIT,
            f"{path}.database_allocated_storage_gib",
        )
        _require(
            self.database_max_allocated_storage_gib >= self.database_allocated_storage_gib,
            ErrorCode.RESOURCE_LIMIT,
            f"{path}.database_max_allocated_storage_gib",
            "must not be below database_allocated_storage_gib "
            f"({self.database_max_allocated_storage_gib} < {self.database_allocated_storage_gib})",
        )
        _require(
            MIN_BACKUP_RETENTION_DAYS <= self.backup_retention_days <= MAX_BACKUP_RETENTION_DAYS,
            ErrorCode.RESOURCE_LIMIT,
            f"{path}.backup_retention_days",
            f"must be {MIN_BACKUP_RETENTION_DAYS}..{MAX_BACKUP_RETENTION_DAYS} days (Property 8 needs a week, "
            f"RDS keeps at most {MAX_BACKUP_RETENTION_DAYS}), got {self.backup_retention_days}",
        )
        _require(
            self.weekly_backup_retention_days >= self.backup_retention_days,
            ErrorCode.RESOURCE_LIMIT,
            f"{path}.weekly_backup_retention_days",
            "weekly recovery points must be kept at least as long as daily ones "
            f"({self.weekly_backup_retention_days} < {self.backup_retention_days})",
        )
        _require_range(
            self.weekly_backup_retention_days, 7, 3650, ErrorCode.RESOURCE_LIMIT, f"{path}.weekly_backup_retention_days"
        )
        _require(
            bool(_SCHEDULE_RE.match(self.restore_test_schedule)),
            ErrorCode.CONFIG_INVALID,
            f"{path}.restore_test_schedule",
            f"must be a cron(...) or rate(...) expression, got {self.restore_test_schedule!r}",
        )
        _require(
            bool(_CACHE_NODE_RE.match(self.cache_node_type)),
            ErrorCode.CONFIG_INVALID,
            f"{path}.cache_node_type",
            f"must be an ElastiCache node type (cache.t4g.micro), got {self.cache_node_type!r}",
        )
        # ElastiCache allows up to five replicas per shard.
        _require_range(self.cache_replicas, 0, 5, ErrorCode.RESOURCE_LIMIT, f"{path}.cache_replicas")
        _require(
            not self.multi_az or self.cache_replicas >= 1,
            ErrorCode.RESOURCE_LIMIT,
            f"{path}.cache_replicas",
            "Multi-AZ with automatic failover needs at least one cache replica",
        )
        _require_range(
            self.cache_snapshot_retention_days,
            MIN_CACHE_SNAPSHOT_RETENTION_DAYS,
            35,
            ErrorCode.RESOURCE_LIMIT,
            f"{path}.cache_snapshot_retention_days",
        )
        _require_range(
            self.storage_tiering_after_days, 0, 3650, ErrorCode.CONFIG_INVALID, f"{path}.storage_tiering_after_days"
        )
        _require_range(
            self.storage_noncurrent_expiry_days,
            1,
            3650,
            ErrorCode.CONFIG_INVALID,
            f"{path}.storage_noncurrent_expiry_days",
        )

    def validate_production(self, path: str) -> None:
        """What production data needs beyond any environment's: no single AZ, no easy deletion."""
        _require(
            self.multi_az, ErrorCode.RESOURCE_LIMIT, f"{path}.multi_az", "production data must survive an AZ failure"
        )
        _require(
            self.deletion_protection,
            ErrorCode.CONFIG_INVALID,
            f"{path}.deletion_protection",
            "the production database must have deletion protection",
        )
        _require(
            self.snapshot_on_delete,
            ErrorCode.CONFIG_INVALID,
            f"{path}.snapshot_on_delete",
            "deleting the production database must leave a final snapshot",
        )
        _require(
            self.vault_lock,
            ErrorCode.CONFIG_INVALID,
            f"{path}.vault_lock",
            "production recovery points must sit in a locked vault",
        )


# ---- Secrets (issue 5: per-environment secrets) ----

# Property 6 and PCI DSS 8.3.9: a leaked production credential is worthless within a month.
MAX_PRODUCTION_ROTATION_DAYS = 30
# Secrets Manager accepts 1..1000 days (RotationRules.AutomaticallyAfterDays).
MAX_ROTATION_DAYS = 1000


@dataclass(frozen=True)
class SecretRotation:
    """How often one secret of `Environment.secrets` (by its full name) rotates."""

    name: str
    rotation_days: int

    def validate(self, path: str) -> None:
        _require_secret_name(self.name, f"{path}.name")
        _require_range(self.rotation_days, 1, MAX_ROTATION_DAYS, ErrorCode.CONFIG_INVALID, f"{path}.rotation_days")


@dataclass(frozen=True)
class SecretsConfig:
    """Rotation periods (per secret, with a default) and how long the secret audit trail is kept."""

    default_rotation_days: int = 30
    database_rotation_days: int = 30
    rotations: tuple[SecretRotation, ...] = ()
    audit_log_retention_days: int = 365

    def validate(self, path: str) -> None:
        _require_range(
            self.default_rotation_days, 1, MAX_ROTATION_DAYS, ErrorCode.CONFIG_INVALID, f"{path}.default_rotation_days"
        )
        _require_range(
            self.database_rotation_days,
            1,
            MAX_ROTATION_DAYS,
            ErrorCode.CONFIG_INVALID,
            f"{path}.database_rotation_days",
        )
        names = [rotation.name for rotation in self.rotations]
        _require(len(names) == len(set(names)), ErrorCode.CONFIG_INVALID, f"{path}.rotations", "names must be unique")
        for index, rotation in enumerate(self.rotations):
            rotation.validate(f"{path}.rotations[{index}]")
        # PCI DSS 10.5.1: a year of audit trail.
        _require(
            self.audit_log_retention_days >= 365,
            ErrorCode.CONFIG_INVALID,
            f"{path}.audit_log_retention_days",
            f"must keep at least 365 days of secret access logs, got {self.audit_log_retention_days}",
        )

    def rotation_days_for(self, secret_name: str) -> int:
        for rotation in self.rotations:
            if rotation.name == secret_name:
                return rotation.rotation_days
        return self.default_rotation_days

    def validate_for(self, environment: Environment, *, is_production: bool, path: str) -> None:
        """Checks that need the environment: every rotation names one of its secrets; prod <= 30 days."""
        self.validate(path)
        known = {secret.name for secret in environment.secrets}
        for index, rotation in enumerate(self.rotations):
            owner = SecretReference(rotation.name, "UNUSED").environment
            _require(
                owner == environment.name,
                ErrorCode.SECRET_ACCESS_DENIED,
                f"{path}.rotations[{index}].name",
                f"{rotation.name!r} belongs to environment {owner!r}, not {environment.name!r}",
            )
            _require(
                rotation.name in known,
                ErrorCode.CONFIG_INVALID,
                f"{path}.rotations[{index}].name",
                f"{rotation.name!r} is not one of this environment's secrets {sorted(known)}",
            )
        if not is_production:
            return
        periods = {
            f"{path}.default_rotation_days": self.default_rotation_days,
            f"{path}.database_rotation_days": self.database_rotation_days,
            **{f"{path}.rotations[{i}].rotation_days": r.rotation_days for i, r in enumerate(self.rotations)},
        }
        for field_path, days in periods.items():
            _require(
                days <= MAX_PRODUCTION_ROTATION_DAYS,
                ErrorCode.CONFIG_INVALID,
                field_path,
                f"production secrets rotate at least every {MAX_PRODUCTION_ROTATION_DAYS} days, got {days}",
            )


# ---- CD pipeline (issue 6) ----

_REPOSITORY_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
_SOURCE_KEY_RE = re.compile(r"^[A-Za-z0-9!_.*'()/-]+\.zip$")


@dataclass(frozen=True)
class PipelineConfig:
    """The CD pipeline (CashTrace-Pipeline): where its source comes from and what it ships.

    Lives in the tooling account; it deploys the environments named in `promotion` in order.
    """

    account: str
    region: str
    # ECR repository of the release image; the security gate reads its scan findings (Property 3).
    release_repository: str = "cashtrace/api"
    # The zip CI uploads after `main` goes green (issue 7); its object version is the release.
    source_object_key: str = "source/cashtrace.zip"
    # The file CI puts at the root of that zip naming the image tag/digest and commit.
    release_manifest: str = "release.json"
    # How long the gate waits for an image scan still in progress before failing.
    scan_wait_seconds: int = 600
    security: SecurityConfig = field(default_factory=SecurityConfig)
    # Environments the pipeline deploys, in promotion order.
    promotion: tuple[str, ...] = ("staging", "prod")

    def __post_init__(self) -> None:
        self.validate("pipeline")

    def validate(self, path: str) -> None:
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
        _require(
            bool(_REPOSITORY_RE.match(self.release_repository)),
            ErrorCode.CONFIG_INVALID,
            f"{path}.release_repository",
            f"must be an ECR repository name, got {self.release_repository!r}",
        )
        _require(
            bool(_SOURCE_KEY_RE.match(self.source_object_key)),
            ErrorCode.CONFIG_INVALID,
            f"{path}.source_object_key",
            f"must be an S3 key ending in .zip, got {self.source_object_key!r}",
        )
        _require(
            bool(self.release_manifest) and not self.release_manifest.startswith("/"),
            ErrorCode.CONFIG_INVALID,
            f"{path}.release_manifest",
            f"must be a path relative to the source root, got {self.release_manifest!r}",
        )
        # CodeBuild's own ceiling is 8 hours; a scan that takes longer than an hour is stuck.
        _require_range(self.scan_wait_seconds, 0, 3600, ErrorCode.CI_FAILED, f"{path}.scan_wait_seconds")
        _require(
            len(self.promotion) > 0 and all(name in ENVIRONMENT_NAMES for name in self.promotion),
            ErrorCode.CONFIG_INVALID,
            f"{path}.promotion",
            f"must name environments among {', '.join(ENVIRONMENT_NAMES)}, got {list(self.promotion)}",
        )
        _require(
            len(self.promotion) == len(set(self.promotion)),
            ErrorCode.CONFIG_INVALID,
            f"{path}.promotion",
            "an environment appears twice in the promotion order",
        )

    @property
    def stack_name(self) -> str:
        return "CashTrace-Pipeline"


# ---- CI (issue 7: GitHub Actions OIDC access) ----

_GITHUB_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,99})$")
_BRANCH_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$")
GITHUB_OIDC_ISSUER = "token.actions.githubusercontent.com"


@dataclass(frozen=True)
class GitHubOidcConfig:
    """Which GitHub repository and branch may assume the release role (no long-lived AWS keys)."""

    owner: str = "cashtrace"
    repository: str = "cashtrace-infrastructure"
    branch: str = "main"
    # IAM allows one provider per issuer URL and account: import it when another stack owns it.
    create_provider: bool = True
    max_session_minutes: int = 60

    def __post_init__(self) -> None:
        self.validate("github")

    def validate(self, path: str) -> None:
        for name in ("owner", "repository"):
            value = getattr(self, name)
            _require(
                bool(_GITHUB_NAME_RE.match(value)),
                ErrorCode.CONFIG_INVALID,
                f"{path}.{name}",
                f"must be a GitHub {name} name (letters, digits, '.', '_', '-'), got {value!r}",
            )
        # A wildcard here would let any branch (or any pull request) release to production.
        _require(
            bool(_BRANCH_RE.match(self.branch)) and "*" not in self.branch and ".." not in self.branch,
            ErrorCode.CONFIG_INVALID,
            f"{path}.branch",
            f"must be one exact branch name, got {self.branch!r}",
        )
        # STS accepts 1..12 hours; a release job finishes well inside one.
        _require_range(self.max_session_minutes, 15, 720, ErrorCode.CONFIG_INVALID, f"{path}.max_session_minutes")

    @property
    def subject(self) -> str:
        """The `sub` claim GitHub puts in tokens of a push-triggered job on the branch."""
        return f"repo:{self.owner}/{self.repository}:ref:refs/heads/{self.branch}"


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
    service: ServiceConfig = field(default_factory=ServiceConfig)

    # data layer (issue 4)
    data: DataConfig = field(default_factory=DataConfig)

    # secrets (issue 5)
    secrets: SecretsConfig = field(default_factory=SecretsConfig)

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
        self.service.validate(f"{path}.service")
        compute = [r for r in self.infrastructure.resources if r.type is ResourceType.COMPUTE]
        _require(
            any(r.name == self.service.name and r.auto_scaling is not None for r in compute),
            ErrorCode.RESOURCE_LIMIT,
            f"{path}.service.name",
            f"needs a compute resource named {self.service.name!r} with auto_scaling in infrastructure.resources",
        )
        # Refuse here what the Property 5 rule would refuse at synth: alarms too slow for the budget.
        worst_rollback = rollback_seconds(self.service.alarm_period_seconds, self.service.alarm_evaluation_periods)
        _require(
            worst_rollback <= self.rollback.rollback_timeout,
            ErrorCode.ROLLBACK_FAILED,
            f"{path}.rollback.rollback_timeout",
            f"the rollback alarms ({self.service.alarm_evaluation_periods} x {self.service.alarm_period_seconds} s) "
            f"give a worst-case rollback of {worst_rollback} s, over this {self.rollback.rollback_timeout} s budget",
        )

        # data layer (issue 4)
        self.data.validate(f"{path}.data")
        if self.is_production:
            self.data.validate_production(f"{path}.data")

        # secrets (issue 5)
        self.secrets.validate_for(self.environment, is_production=self.is_production, path=f"{path}.secrets")

        # monitoring (issue 8)
        self.monitoring.validate(f"{path}.monitoring")

        if self.is_production:
            _require(
                self.infrastructure.networking.nat_gateways == self.infrastructure.networking.max_azs,
                ErrorCode.RESOURCE_LIMIT,
                f"{path}.infrastructure.networking.nat_gateways",
                "production needs one NAT gateway per AZ so one AZ failing cannot cut egress",
            )
