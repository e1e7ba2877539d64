"""DataConfig: sizes and safety settings of the data layer, refused by the environment with a code and field path."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cashtrace_constructs.config import DataConfig, EnvironmentConfig
from cashtrace_constructs.config.data import restore_test_gap_hours
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from stacks.environments import all_environments, prod, staging


def _with_data(**changes: Any) -> EnvironmentConfig:
    """staging (no production-only rules) with a data config of its defaults plus `changes`."""
    return dataclasses.replace(staging(), data=DataConfig(**changes))


def refused(**changes: Any) -> DeploymentError:
    with pytest.raises(DeploymentError) as caught:
        _with_data(**changes)
    return caught.value


@given(st.integers(min_value=-10, max_value=6) | st.integers(min_value=36, max_value=1000))
def test_backup_retention_outside_a_week_to_35_days_is_refused(days: int) -> None:
    error = refused(backup_retention_days=days, weekly_backup_retention_days=max(days, 35))
    assert error.code is ErrorCode.RESOURCE_LIMIT
    assert error.field == "staging.data.backup_retention_days"
    assert "Property 8" in str(error)


@given(st.integers(min_value=7, max_value=35))
def test_every_retention_from_a_week_to_35_days_is_accepted(days: int) -> None:
    config = _with_data(backup_retention_days=days, weekly_backup_retention_days=35)
    assert config.data.backup_retention_days == days


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"database_instance_class": "db.t4g.micro"}, ErrorCode.CONFIG_INVALID, "database_instance_class"),
        ({"database_allocated_storage_gib": 10}, ErrorCode.RESOURCE_LIMIT, "database_allocated_storage_gib"),
        ({"database_max_allocated_storage_gib": 19}, ErrorCode.RESOURCE_LIMIT, "database_max_allocated_storage_gib"),
        (
            {"backup_retention_days": 14, "weekly_backup_retention_days": 10},
            ErrorCode.RESOURCE_LIMIT,
            "weekly_backup_retention_days",
        ),
        ({"restore_test_schedule": "every sunday"}, ErrorCode.CONFIG_INVALID, "restore_test_schedule"),
        ({"cache_node_type": "t4g.micro"}, ErrorCode.CONFIG_INVALID, "cache_node_type"),
        ({"cache_replicas": 6}, ErrorCode.RESOURCE_LIMIT, "cache_replicas"),
        ({"multi_az": True, "cache_replicas": 0}, ErrorCode.RESOURCE_LIMIT, "cache_replicas"),
        ({"cache_snapshot_retention_days": 7}, ErrorCode.RESOURCE_LIMIT, "cache_snapshot_retention_days"),
        ({"storage_noncurrent_expiry_days": 0}, ErrorCode.CONFIG_INVALID, "storage_noncurrent_expiry_days"),
    ],
)
def test_bad_values_are_refused_with_code_and_field(changes: dict[str, Any], code: ErrorCode, field: str) -> None:
    error = refused(**changes)
    assert error.code is code
    assert error.field == f"staging.data.{field}"


@pytest.mark.parametrize(
    ("field", "value"),
    [("multi_az", False), ("deletion_protection", False), ("snapshot_on_delete", False), ("vault_lock", False)],
)
def test_production_refuses_weaker_data_safety(field: str, value: bool) -> None:
    production = prod()
    data = dataclasses.replace(
        production.data, **{field: value}, **({"cache_replicas": 2} if field == "multi_az" else {})
    )
    with pytest.raises(DeploymentError) as caught:
        dataclasses.replace(production, data=data)
    assert caught.value.field == f"prod.data.{field}"
    assert caught.value.code in (ErrorCode.RESOURCE_LIMIT, ErrorCode.CONFIG_INVALID)


def test_environments_keep_at_least_a_week_of_backups_and_prod_35_days() -> None:
    retention = {config.name: config.data.backup_retention_days for config in all_environments()}
    assert all(days >= 7 for days in retention.values())
    assert retention["prod"] == 35
    production = prod().data
    assert production.multi_az and production.deletion_protection and production.vault_lock


@pytest.mark.parametrize(
    ("schedule", "gap_hours"),
    [
        ("cron(0 6 ? * SUN,WED *)", 96),
        ("cron(0 6 ? * MON,TUE,WED,THU,FRI *)", 72),
        ("cron(30 4 * * ? *)", 24),
        ("rate(2 days)", 48),
        ("cron(0 6 ? * SUN *)", 168),
        ("cron(0 6 ? * MON-FRI *)", None),
    ],
)
def test_the_longest_gap_between_restore_tests_is_read_from_the_schedule(schedule: str, gap_hours: int | None) -> None:
    assert restore_test_gap_hours(schedule) == gap_hours


def test_a_schedule_whose_first_verified_restore_could_come_after_the_alarm_may_page_is_refused() -> None:
    # Weekly: a deploy just after the test day waits up to a week for its first test, but the
    # overdue-restore alarm may page 6 days after the deploy.
    error = refused(restore_test_schedule="cron(0 6 ? * SUN *)")
    assert error.field == "staging.data.restore_test_schedule" and error.code is ErrorCode.CONFIG_INVALID
    assert "pages on-call" in str(error)
    assert refused(restore_test_schedule="cron(0 6 ? * MON-FRI *)").field == "staging.data.restore_test_schedule"
    assert _with_data(restore_test_schedule="cron(0 6 ? * MON,THU *)").data.restore_test_schedule.endswith("THU *)")
