"""The secrets an environment's workload reads, their rotation, and the rule that keeps them apart (Property 6)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Annotated

from cashtrace_constructs.config.validation import (
    ENV_VAR_RE,
    SECRET_NAME_RE,
    Between,
    check_bounds,
    require,
    require_match,
)
from cashtrace_constructs.errors import ErrorCode

# Property 6 and PCI DSS 8.3.9: a leaked production credential is worthless within a month.
MAX_PRODUCTION_ROTATION_DAYS = 30
# Secrets Manager accepts 1..1000 days (RotationRules.AutomaticallyAfterDays).
MAX_ROTATION_DAYS = 1000

_NAME_SHAPE = "named cashtrace/<env>/<purpose>"


def secret_environment(secret_name: str) -> str:
    """The environment a `cashtrace/<env>/<purpose>` name belongs to ('' for any other name)."""
    match = SECRET_NAME_RE.match(secret_name)
    return match.group("env") if match else ""


def require_secret_of(environment_name: str, secret_name: str, path: str) -> None:
    """Refuse a secret named for another environment (Property 6): the one check every layer calls."""
    owner = secret_environment(secret_name)
    require(
        owner == environment_name,
        ErrorCode.SECRET_ACCESS_DENIED,
        path,
        f"{secret_name!r} belongs to environment {owner!r}, not {environment_name!r}",
    )


class SecretKind(Enum):
    """Who makes a secret's value, which decides how it is kept fresh."""

    # CashTrace generates the value (a signing key it issues): Secrets Manager rotates it.
    GENERATED = "generated"
    # A third party issued it (a payment provider's API key): a rotation would overwrite a key
    # nobody else knows, so it is never rotated; an alarm says when it is older than allowed.
    THIRD_PARTY = "third_party"


@dataclass(frozen=True)
class SecretReference:
    """A secret the workload reads, named `cashtrace/<env>/<purpose>`, the variable it arrives in, its kind."""

    name: str
    env_var: str
    # Third party unless said otherwise: rotating a key we did not issue destroys it.
    kind: SecretKind = SecretKind.THIRD_PARTY

    def validate(self, path: str, *, environment_name: str) -> None:
        require_match(SECRET_NAME_RE, self.name, f"{path}.name", _NAME_SHAPE)
        require_match(ENV_VAR_RE, self.env_var, f"{path}.env_var", "an upper-case environment variable name")
        require_secret_of(environment_name, self.name, f"{path}.name")


@dataclass(frozen=True)
class SecretRotation:
    """How often one secret of `EnvironmentSettings.secrets` (by its full name) rotates."""

    name: str
    rotation_days: Annotated[int, Between(1, MAX_ROTATION_DAYS)]


@dataclass(frozen=True)
class SecretsConfig:
    """Rotation periods (per secret, with a default) and how long the secret audit trail is kept."""

    default_rotation_days: Annotated[int, Between(1, MAX_ROTATION_DAYS)] = 30
    database_rotation_days: Annotated[int, Between(1, MAX_ROTATION_DAYS)] = 30
    rotations: tuple[SecretRotation, ...] = ()
    # A third-party key older than this raises the age alarm: ask the issuer for a new one.
    third_party_max_age_days: Annotated[int, Between(1, 3650)] = 90
    # PCI DSS 10.5.1: a year of audit trail.
    audit_log_retention_days: Annotated[int, Between(365, why="a year of secret access logs")] = 365

    def rotation_days_for(self, secret_name: str) -> int:
        for rotation in self.rotations:
            if rotation.name == secret_name:
                return rotation.rotation_days
        return self.default_rotation_days

    def validate(
        self, path: str, *, environment_name: str, secrets: Sequence[SecretReference], is_production: bool
    ) -> None:
        """Every rotation names one of the environment's `secrets`; production rotates within 30 days."""
        check_bounds(self, path)
        names = [rotation.name for rotation in self.rotations]
        require(len(names) == len(set(names)), ErrorCode.CONFIG_INVALID, f"{path}.rotations", "names must be unique")
        known = {secret.name for secret in secrets}
        third_party = {secret.name for secret in secrets if secret.kind is SecretKind.THIRD_PARTY}
        for index, rotation in enumerate(self.rotations):
            rotation_path = f"{path}.rotations[{index}]"
            require_match(SECRET_NAME_RE, rotation.name, f"{rotation_path}.name", _NAME_SHAPE)
            check_bounds(rotation, rotation_path)
            require_secret_of(environment_name, rotation.name, f"{rotation_path}.name")
            require(
                rotation.name in known,
                ErrorCode.CONFIG_INVALID,
                f"{rotation_path}.name",
                f"{rotation.name!r} is not one of this environment's secrets {sorted(known)}",
            )
            require(
                rotation.name not in third_party,
                ErrorCode.CONFIG_INVALID,
                f"{rotation_path}.name",
                f"{rotation.name!r} is a third-party key: it is never rotated (its age is alarmed instead)",
            )
        if not is_production:
            return
        periods = {
            f"{path}.default_rotation_days": self.default_rotation_days,
            f"{path}.database_rotation_days": self.database_rotation_days,
            **{f"{path}.rotations[{i}].rotation_days": r.rotation_days for i, r in enumerate(self.rotations)},
        }
        for field_path, days in periods.items():
            require(
                days <= MAX_PRODUCTION_ROTATION_DAYS,
                ErrorCode.CONFIG_INVALID,
                field_path,
                f"production secrets rotate at least every {MAX_PRODUCTION_ROTATION_DAYS} days, got {days}",
            )
