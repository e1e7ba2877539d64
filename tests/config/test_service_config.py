"""`ServiceConfig` settings that would break zero downtime, rollback or scale-out are refused by the environment."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cashtrace_constructs.config import EnvironmentConfig, ServiceConfig
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.release_manifest import ReleaseManifest, is_placeholder
from stacks.environments import account_for, prod

DIGEST = "sha256:" + "b" * 64
COMMIT = "0123456789abcdef0123456789abcdef01234567"  # pragma: allowlist secret


def _with_service(**changes: Any) -> EnvironmentConfig:
    """prod with its service changed: only the environment, the root, validates."""
    config = prod()
    return dataclasses.replace(config, service=dataclasses.replace(config.service, **changes))


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"deregistration_delay_seconds": 10}, "prod.service.deregistration_delay_seconds", ErrorCode.CONFIG_INVALID),
        ({"stop_timeout_seconds": 10}, "prod.service.stop_timeout_seconds", ErrorCode.CONFIG_INVALID),
        (
            {"stop_timeout_seconds": 121, "longest_request_seconds": 30},
            "prod.service.stop_timeout_seconds",
            ErrorCode.CONFIG_INVALID,
        ),
        ({"image_digest": "v1.2.3"}, "prod.service.image_digest", ErrorCode.CI_FAILED),
        ({"image_digest": "sha256:" + "A" * 64}, "prod.service.image_digest", ErrorCode.CI_FAILED),
        ({"commit_sha": "abc123"}, "prod.service.commit_sha", ErrorCode.CI_FAILED),
        ({"container_port": 80}, "prod.service.container_port", ErrorCode.CONFIG_INVALID),
        ({"repository_name": "Not/A Repo"}, "prod.service.repository_name", ErrorCode.CONFIG_INVALID),
        ({"repository_account": "pipeline"}, "prod.service.repository_account", ErrorCode.CONFIG_INVALID),
        ({"alarm_period_seconds": 90}, "prod.service.alarm_period_seconds", ErrorCode.CONFIG_INVALID),
        (
            {"health_check_grace_period_seconds": 5},
            "prod.service.health_check_grace_period_seconds",
            ErrorCode.HEALTH_CHECK_FAILED,
        ),
        ({"blue_termination_wait_minutes": 0}, "prod.service.blue_termination_wait_minutes", ErrorCode.ROLLBACK_FAILED),
    ],
)
def test_bad_values_are_refused_with_field_and_code(change: dict, field: str, code: ErrorCode) -> None:  # type: ignore[type-arg]
    with pytest.raises(DeploymentError) as failure:
        _with_service(**change)
    assert failure.value.field == field and failure.value.code is code


def test_a_part_of_the_config_does_not_validate_on_its_own() -> None:
    # Only the environment knows the full path, so a nested config waits to be checked by it.
    unchecked = ServiceConfig(container_port=80)
    with pytest.raises(DeploymentError) as failure:
        dataclasses.replace(prod(), service=unchecked)
    assert failure.value.field == "prod.service.container_port"


def test_the_image_is_a_digest_and_defaults_to_the_placeholder() -> None:
    assert is_placeholder(prod().service.image_digest) and prod().service.commit_sha == ""
    assert _with_service(image_digest=DIGEST).service.image_digest == DIGEST


def test_environment_needs_a_compute_resource_for_its_service() -> None:
    with pytest.raises(DeploymentError) as failure:
        dataclasses.replace(prod(), service=ServiceConfig(name="worker"))
    assert failure.value.field == "prod.service.name"


def test_the_release_pins_the_image_and_the_pipeline_account_comes_from_context() -> None:
    release = ReleaseManifest("cashtrace/api", DIGEST, COMMIT, "2026-11-28T03:00:00Z")
    config = prod({"account.pipeline": "555555555555"}, release)
    assert (config.service.image_digest, config.service.commit_sha) == (DIGEST, COMMIT)
    assert (
        config.service.repository_account
        == "555555555555"
        == account_for("pipeline", {"account.pipeline": "555555555555"})
    )


def test_a_release_from_another_repository_is_refused() -> None:
    with pytest.raises(DeploymentError) as failure:
        prod(release=ReleaseManifest("cashtrace/other", DIGEST, COMMIT, "2026-11-28T03:00:00Z"))
    assert (failure.value.code, failure.value.field) == (ErrorCode.CI_FAILED, "release.image.repository")


@given(longest=st.integers(1, 120), extra=st.integers(0, 60))
def test_drain_times_at_least_the_longest_request_are_valid(longest: int, extra: int) -> None:
    config = _with_service(
        longest_request_seconds=longest,
        deregistration_delay_seconds=longest + extra,
        stop_timeout_seconds=min(max(longest + extra, 2), 120),
    ).service
    assert config.deregistration_delay_seconds >= config.longest_request_seconds


@given(longest=st.integers(2, 120), short=st.integers(1, 119))
def test_draining_shorter_than_the_longest_request_is_always_refused(longest: int, short: int) -> None:
    if short >= longest:
        return
    with pytest.raises(DeploymentError) as refused:
        _with_service(longest_request_seconds=longest, deregistration_delay_seconds=short, stop_timeout_seconds=120)
    assert refused.value.field == "prod.service.deregistration_delay_seconds"
