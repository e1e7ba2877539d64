"""One environment (dev, staging, prod): its settings and `EnvironmentConfig`, the root that validates it all.

Constructing an `EnvironmentConfig` validates the whole tree, so an invalid config is refused
before any construct exists, with the full field path an operator can find
(`prod.infrastructure.resources[0].auto_scaling.min_replicas`) and a DEPLOY_* code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cashtrace_constructs.config.data import DataConfig
from cashtrace_constructs.config.endpoint import EndpointConfig
from cashtrace_constructs.config.infrastructure import InfrastructureConfig, ResourceConfig, ResourceType
from cashtrace_constructs.config.monitoring import MonitoringConfig
from cashtrace_constructs.config.placeholders import is_placeholder
from cashtrace_constructs.config.secrets import SecretReference, SecretsConfig
from cashtrace_constructs.config.service import (
    DeploymentStrategy,
    RollbackConfig,
    ServiceConfig,
    require_release_timing,
)
from cashtrace_constructs.config.validation import ENV_VAR_RE, fail, require, require_match
from cashtrace_constructs.errors import ErrorCode

ENVIRONMENT_NAMES: tuple[str, ...] = ("dev", "staging", "prod")
PRODUCTION = "prod"


@dataclass(frozen=True)
class EnvironmentVariable:
    name: str
    value: str


@dataclass(frozen=True)
class EnvironmentSettings:
    """The design's Environment: its name, where it is served, who must approve a release, what the app reads."""

    name: str
    url: str
    requires_approval: bool
    variables: tuple[EnvironmentVariable, ...] = ()
    secrets: tuple[SecretReference, ...] = ()

    def validate(self, path: str) -> None:
        require(
            self.name in ENVIRONMENT_NAMES,
            ErrorCode.CONFIG_INVALID,
            f"{path}.name",
            f"must be one of {', '.join(ENVIRONMENT_NAMES)}, got {self.name!r}",
        )
        require(
            self.url.startswith("https://"),
            ErrorCode.CONFIG_INVALID,
            f"{path}.url",
            f"must be an https:// URL, got {self.url!r}",
        )
        require(
            self.name != PRODUCTION or self.requires_approval,
            ErrorCode.APPROVAL_REQUIRED,
            f"{path}.requires_approval",
            "production deployments must require a manual approval",
        )
        for index, variable in enumerate(self.variables):
            require_match(
                ENV_VAR_RE,
                variable.name,
                f"{path}.variables[{index}].name",
                "an upper-case environment variable name",
            )
        names = [v.name for v in self.variables]
        require(
            len(names) == len(set(names)),
            ErrorCode.CONFIG_INVALID,
            f"{path}.variables",
            "variable names must be unique",
        )
        for index, secret in enumerate(self.secrets):
            secret.validate(f"{path}.secrets[{index}]", environment_name=self.name)


@dataclass(frozen=True)
class Ownership:
    """Cost-allocation tags every stack carries (rule: cost-allocation-tags)."""

    service: str = "cashtrace"
    owner: str = "platform-team"
    cost_center: str = "cashtrace-platform"


@dataclass(frozen=True)
class EnvironmentConfig:
    """Everything one environment stack is built from. Constructing it validates all of it."""

    settings: EnvironmentSettings
    infrastructure: InfrastructureConfig
    deployment_strategy: DeploymentStrategy
    rollback: RollbackConfig
    # Where it is served and how TLS is set up (staging and prod refuse plain HTTP).
    endpoint: EndpointConfig
    ownership: Ownership = field(default_factory=Ownership)
    service: ServiceConfig = field(default_factory=ServiceConfig)
    data: DataConfig = field(default_factory=DataConfig)
    secrets: SecretsConfig = field(default_factory=SecretsConfig)
    monitoring: MonitoringConfig = field(default_factory=MonitoringConfig)

    def __post_init__(self) -> None:
        self.validate()

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def is_production(self) -> bool:
        return self.settings.name == PRODUCTION

    @property
    def stack_name(self) -> str:
        return f"CashTrace-{self.settings.name.capitalize()}"

    def placeholder_fields(self) -> tuple[str, ...]:
        """Field paths still holding a documented placeholder: they synthesize, they cannot deploy."""
        values = {
            f"{self.name}.infrastructure.account": self.infrastructure.account,
            f"{self.name}.service.repository_account": self.service.repository_account,
            f"{self.name}.endpoint.hosted_zone.zone_id": (
                self.endpoint.hosted_zone.zone_id if self.endpoint.hosted_zone else None
            ),
            f"{self.name}.endpoint.certificate_arn": self.endpoint.certificate_arn,
        }
        return tuple(path for path, value in values.items() if value is not None and is_placeholder(value))

    def resource(self, resource_type: ResourceType, name: str | None = None) -> ResourceConfig:
        """The configured resource of `resource_type` (and `name`), refused with this environment's path."""
        for resource in self.infrastructure.resources:
            if resource.type is resource_type and (name is None or resource.name == name):
                return resource
        raise fail(
            ErrorCode.CONFIG_INVALID,
            f"{self.name}.infrastructure.resources",
            f"no {resource_type.value} resource{f' named {name!r}' if name else ''} is configured",
        )

    def validate(self) -> None:
        path = self.settings.name
        self.settings.validate(f"{path}.settings")
        self.infrastructure.validate(f"{path}.infrastructure")
        self.deployment_strategy.validate(f"{path}.deployment_strategy")
        self.rollback.validate(f"{path}.rollback")
        self.service.validate(f"{path}.service")
        self.endpoint.validate(
            f"{path}.endpoint",
            environment_name=self.name,
            account=self.infrastructure.account,
            region=self.infrastructure.region,
        )
        if self.endpoint.tls:
            require(
                self.settings.url.rstrip("/") == self.endpoint.service_url,
                ErrorCode.CONFIG_INVALID,
                f"{path}.settings.url",
                f"must be the endpoint's {self.endpoint.service_url}, got {self.settings.url!r}",
            )
        require(
            any(
                r.type is ResourceType.COMPUTE and r.name == self.service.name and r.auto_scaling is not None
                for r in self.infrastructure.resources
            ),
            ErrorCode.RESOURCE_LIMIT,
            f"{path}.service.name",
            f"needs a compute resource named {self.service.name!r} with auto_scaling in infrastructure.resources",
        )
        require_release_timing(self.service, self.deployment_strategy, self.rollback, path)
        self.data.validate(f"{path}.data", is_production=self.is_production)
        self.secrets.validate(
            f"{path}.secrets",
            environment_name=self.name,
            secrets=self.settings.secrets,
            is_production=self.is_production,
        )
        self.monitoring.validate(f"{path}.monitoring")
        if self.is_production:
            networking = self.infrastructure.networking
            require(
                networking.nat_gateways == networking.max_azs,
                ErrorCode.RESOURCE_LIMIT,
                f"{path}.infrastructure.networking.nat_gateways",
                "production needs one NAT gateway per AZ so one AZ failing cannot cut egress",
            )
