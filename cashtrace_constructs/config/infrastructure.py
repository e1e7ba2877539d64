"""Where an environment runs: account, region (data residency), network and the sizes of its compute."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated

from cashtrace_constructs.config.validation import ACCOUNT_RE, NAME_RE, Between, check_bounds, require, require_match
from cashtrace_constructs.errors import DeploymentError, ErrorCode

# Cape Town. Nigeria has no AWS region yet; a Nigeria-only tier would be added here (README).
DEFAULT_ALLOWED_REGIONS: tuple[str, ...] = ("af-south-1",)
_CIDR_RE = re.compile(r"^10\.\d{1,3}\.0\.0/16$")


class ResourceType(StrEnum):
    COMPUTE = "compute"


@dataclass(frozen=True)
class SecurityConfig:
    """The residency allow-list: regions that may hold CashTrace data (Property 7)."""

    allowed_regions: tuple[str, ...] = DEFAULT_ALLOWED_REGIONS

    def validate(self, path: str) -> None:
        require(
            len(self.allowed_regions) > 0,
            ErrorCode.RESIDENCY_VIOLATION,
            f"{path}.allowed_regions",
            "the residency allow-list must name at least one region",
        )
        for index, region in enumerate(self.allowed_regions):
            require(
                region.startswith("af-"),
                ErrorCode.RESIDENCY_VIOLATION,
                f"{path}.allowed_regions[{index}]",
                f"user data must stay in Africa; {region!r} is not an African region",
            )


def require_placement(account: str, region: str, security: SecurityConfig, path: str) -> None:
    """An account id and a region inside the residency allow-list: any stack of this app, pipeline included."""
    require_match(ACCOUNT_RE, account, f"{path}.account", "a 12-digit AWS account id")
    security.validate(f"{path}.security")
    require(
        region in security.allowed_regions,
        ErrorCode.RESIDENCY_VIOLATION,
        f"{path}.region",
        f"{region!r} is outside the residency allow-list {list(security.allowed_regions)}",
    )


@dataclass(frozen=True)
class AutoScalingConfig:
    min_replicas: Annotated[int, Between(1, code=ErrorCode.RESOURCE_LIMIT)]
    # Fargate's default per-service task quota; raising it is a quota request, not a config change.
    max_replicas: Annotated[int, Between(1, 1000, ErrorCode.RESOURCE_LIMIT)]
    target_cpu: Annotated[int, Between(1, 100, ErrorCode.RESOURCE_LIMIT)]
    target_memory: Annotated[int, Between(1, 100, ErrorCode.RESOURCE_LIMIT)]
    scale_down_delay: Annotated[int, Between(0, 3600)]

    def validate(self, path: str) -> None:
        check_bounds(self, path)
        require(
            self.min_replicas <= self.max_replicas,
            ErrorCode.RESOURCE_LIMIT,
            f"{path}.min_replicas",
            f"must not exceed max_replicas ({self.min_replicas} > {self.max_replicas})",
        )


# Fargate's valid CPU units -> memory MiB choices (Fargate quota table).
_FARGATE_MEMORY: Mapping[int, range] = {
    256: range(512, 2049, 512),
    512: range(1024, 4097, 1024),
    1024: range(2048, 8193, 1024),
    2048: range(4096, 16385, 1024),
    4096: range(8192, 30721, 1024),
}


def fargate_size(size: str, *, field_path: str) -> tuple[int, int]:
    """`"1024/2048"` -> (cpu units, memory MiB), refusing combinations Fargate does not run."""
    try:
        cpu_text, memory_text = size.split("/")
        cpu, memory = int(cpu_text), int(memory_text)
    except ValueError:
        raise DeploymentError(
            ErrorCode.CONFIG_INVALID, f"must look like '<cpu>/<memory MiB>', got {size!r}", field=field_path
        ) from None
    if memory not in _FARGATE_MEMORY.get(cpu, range(0)):
        raise DeploymentError(
            ErrorCode.RESOURCE_LIMIT, f"Fargate cannot run {cpu} CPU units with {memory} MiB", field=field_path
        )
    return cpu, memory


@dataclass(frozen=True)
class ResourceConfig:
    type: ResourceType
    name: str
    # Fargate "<cpu units>/<memory MiB>", e.g. "512/1024".
    size: str
    auto_scaling: AutoScalingConfig | None = None

    def validate(self, path: str) -> None:
        require_match(NAME_RE, self.name, f"{path}.name", "lower-case letters, digits and dashes")
        fargate_size(self.size, field_path=f"{path}.size")
        if self.auto_scaling is not None:
            self.auto_scaling.validate(f"{path}.auto_scaling")


@dataclass(frozen=True)
class NetworkConfig:
    cidr: str
    nat_gateways: int
    max_azs: Annotated[int, Between(2, 3, ErrorCode.RESOURCE_LIMIT)] = 3
    # PCI DSS 10.7 asks for a year of audit trail.
    flow_log_retention_days: Annotated[int, Between(365, why="a year of flow logs")] = 365

    def validate(self, path: str) -> None:
        require_match(_CIDR_RE, self.cidr, f"{path}.cidr", "a 10.x.0.0/16 block")
        check_bounds(self, path)
        Between(1, self.max_azs, ErrorCode.RESOURCE_LIMIT).check(self.nat_gateways, f"{path}.nat_gateways")


@dataclass(frozen=True)
class InfrastructureConfig:
    account: str
    region: str
    networking: NetworkConfig
    resources: tuple[ResourceConfig, ...] = ()
    security: SecurityConfig = field(default_factory=SecurityConfig)

    def validate(self, path: str) -> None:
        require_placement(self.account, self.region, self.security, path)
        self.networking.validate(f"{path}.networking")
        names = [r.name for r in self.resources]
        require(len(names) == len(set(names)), ErrorCode.CONFIG_INVALID, f"{path}.resources", "names must be unique")
        for index, resource in enumerate(self.resources):
            resource.validate(f"{path}.resources[{index}]")

    @property
    def availability_zones(self) -> tuple[str, ...]:
        """Named AZs (a, b, c) so synth needs no lookup; every af-south-1 account has all three."""
        return tuple(f"{self.region}{suffix}" for suffix in "abc"[: self.networking.max_azs])
