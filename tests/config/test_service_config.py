"""`ServiceConfig` refuses settings that would break zero downtime, rollback or scale-out."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cashtrace_constructs.config import ServiceConfig
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from stacks.environments import account_for, prod


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"deregistration_delay_seconds": 10}, "service.deregistration_delay_seconds", ErrorCode.CONFIG_INVALID),
        ({"stop_timeout_seconds": 10}, "service.stop_timeout_seconds", ErrorCode.CONFIG_INVALID),
        (
            {"stop_timeout_seconds": 121, "longest_request_seconds": 30},
            "service.stop_timeout_seconds",
            ErrorCode.CONFIG_INVALID,
        ),
        ({"image_tag": "has space"}, "service.image_tag", ErrorCode.CONFIG_INVALID),
        ({"repository_account": "pipeline"}, "service.repository_account", ErrorCode.CONFIG_INVALID),
        ({"certificate_arn": "arn:aws:iam::1:role/x"}, "service.certificate_arn", ErrorCode.CONFIG_INVALID),
        ({"alarm_period_seconds": 90}, "service.alarm_period_seconds", ErrorCode.CONFIG_INVALID),
        (
            {"health_check_grace_period_seconds": 5},
            "service.health_check_grace_period_seconds",
            ErrorCode.HEALTH_CHECK_FAILED,
        ),
        ({"blue_termination_wait_minutes": 0}, "service.blue_termination_wait_minutes", ErrorCode.ROLLBACK_FAILED),
    ],
)
def test_bad_values_are_refused_with_field_and_code(change: dict, field: str, code: ErrorCode) -> None:  # type: ignore[type-arg]
    with pytest.raises(DeploymentError) as failure:
        ServiceConfig(**change)
    assert failure.value.field == field and failure.value.code is code


def test_digest_and_tag_are_both_accepted() -> None:
    assert ServiceConfig(image_tag="sha256:" + "a" * 64).image_tag.startswith("sha256:")
    assert ServiceConfig(image_tag="v1.2.3-rc1").image_tag == "v1.2.3-rc1"


def test_environment_needs_a_compute_resource_for_its_service() -> None:
    with pytest.raises(DeploymentError) as failure:
        dataclasses.replace(prod(), service=ServiceConfig(name="worker"))
    assert failure.value.field == "prod.service.name"


def test_image_tag_and_pipeline_account_come_from_context() -> None:
    config = prod({"image-tag": "sha256:" + "b" * 64, "account.pipeline": "555555555555"})
    assert config.service.image_tag == "sha256:" + "b" * 64
    assert (
        config.service.repository_account
        == "555555555555"
        == account_for("pipeline", {"account.pipeline": "555555555555"})
    )


@given(longest=st.integers(1, 120), extra=st.integers(0, 60))
def test_drain_times_at_least_the_longest_request_are_valid(longest: int, extra: int) -> None:
    config = ServiceConfig(
        longest_request_seconds=longest,
        deregistration_delay_seconds=longest + extra,
        stop_timeout_seconds=min(max(longest + extra, 2), 120),
    )
    assert config.deregistration_delay_seconds >= config.longest_request_seconds


@given(longest=st.integers(2, 120), short=st.integers(1, 119))
def test_draining_shorter_than_the_longest_request_is_always_refused(longest: int, short: int) -> None:
    if short >= longest:
        return
    with pytest.raises(DeploymentError):
        ServiceConfig(longest_request_seconds=longest, deregistration_delay_seconds=short, stop_timeout_seconds=120)
