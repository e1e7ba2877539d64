"""SecretsConfig: rotation periods (<= 30 days in prod), per-secret overrides, audit retention."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cashtrace_constructs.config import EnvironmentConfig, SecretKind, SecretReference, SecretRotation, SecretsConfig
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from stacks.environments import dev, prod, staging


def _with(config: EnvironmentConfig, secrets: SecretsConfig) -> EnvironmentConfig:
    """`config` with `secrets`, and a generated secret beside its third-party api-keys: only generated ones rotate."""
    name = config.settings.name
    generated = SecretReference(f"cashtrace/{name}/signing-key", "SIGNING_KEY", SecretKind.GENERATED)
    settings = dataclasses.replace(config.settings, secrets=(*config.settings.secrets, generated))
    return dataclasses.replace(config, settings=settings, secrets=secrets)


def test_production_secrets_rotate_within_thirty_days_and_dev_less_often() -> None:
    for reference in prod().settings.secrets:
        assert prod().secrets.rotation_days_for(reference.name) <= 30
    assert prod().secrets.database_rotation_days <= 30
    assert dev().secrets.default_rotation_days > prod().secrets.default_rotation_days


@given(st.integers(min_value=31, max_value=1000), st.sampled_from(["default", "database", "per_secret"]))
def test_prod_refuses_any_rotation_period_over_thirty_days(days: int, which: str) -> None:
    secrets = {
        "default": SecretsConfig(default_rotation_days=days),
        "database": SecretsConfig(database_rotation_days=days),
        "per_secret": SecretsConfig(rotations=(SecretRotation("cashtrace/prod/signing-key", days),)),
    }[which]
    with pytest.raises(DeploymentError) as refused:
        _with(prod(), secrets)
    assert refused.value.code is ErrorCode.CONFIG_INVALID
    assert refused.value.field is not None and refused.value.field.startswith("prod.secrets.")
    assert "rotation_days" in refused.value.field


@given(st.integers(min_value=1, max_value=1000))
def test_other_environments_accept_any_period_secrets_manager_accepts(days: int) -> None:
    config = _with(staging(), SecretsConfig(rotations=(SecretRotation("cashtrace/staging/signing-key", days),)))
    assert config.secrets.rotation_days_for("cashtrace/staging/signing-key") == days
    assert config.secrets.rotation_days_for("cashtrace/staging/other") == config.secrets.default_rotation_days


@pytest.mark.parametrize(
    ("secrets", "code", "field"),
    [
        (
            SecretsConfig(rotations=(SecretRotation("cashtrace/prod/signing-key", 7),)),
            ErrorCode.SECRET_ACCESS_DENIED,
            "staging.secrets.rotations[0].name",
        ),
        (
            SecretsConfig(rotations=(SecretRotation("cashtrace/staging/unknown", 7),)),
            ErrorCode.CONFIG_INVALID,
            "staging.secrets.rotations[0].name",
        ),
        (
            SecretsConfig(rotations=(SecretRotation("cashtrace/staging/signing-key", 0),)),
            ErrorCode.CONFIG_INVALID,
            "staging.secrets.rotations[0].rotation_days",
        ),
        (SecretsConfig(default_rotation_days=1001), ErrorCode.CONFIG_INVALID, "staging.secrets.default_rotation_days"),
        # A third-party key is never rotated by us: a rotation period for it is a mistake.
        (
            SecretsConfig(rotations=(SecretRotation("cashtrace/staging/api-keys", 7),)),
            ErrorCode.CONFIG_INVALID,
            "staging.secrets.rotations[0].name",
        ),
        (
            SecretsConfig(third_party_max_age_days=0),
            ErrorCode.CONFIG_INVALID,
            "staging.secrets.third_party_max_age_days",
        ),
        (
            SecretsConfig(audit_log_retention_days=90),
            ErrorCode.CONFIG_INVALID,
            "staging.secrets.audit_log_retention_days",
        ),
        (
            SecretsConfig(
                rotations=(
                    SecretRotation("cashtrace/staging/signing-key", 7),
                    SecretRotation("cashtrace/staging/signing-key", 9),
                )
            ),
            ErrorCode.CONFIG_INVALID,
            "staging.secrets.rotations",
        ),
    ],
)
def test_bad_secrets_config_is_refused_with_code_and_field(secrets: SecretsConfig, code: ErrorCode, field: str) -> None:
    with pytest.raises(DeploymentError) as refused:
        _with(staging(), secrets)
    assert (refused.value.code, refused.value.field) == (code, field)
