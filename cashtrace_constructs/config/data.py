"""Sizes and safety settings of the data layer: database, backups, cache, application bucket."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from cashtrace_constructs.config.validation import Between, check_bounds, require, require_match
from cashtrace_constructs.errors import ErrorCode

# RDS keeps automated backups for at most 35 days; Property 8 asks for at least a week.
MIN_BACKUP_RETENTION_DAYS = 7
MAX_BACKUP_RETENTION_DAYS = 35
# NIST 800-53 CP-9 as cdk-nag reads it: cache snapshots kept at least 15 days.
MIN_CACHE_SNAPSHOT_RETENTION_DAYS = 15
_INSTANCE_CLASS_RE = re.compile(r"^[a-z][a-z0-9]*\.[a-z0-9]+$")
_CACHE_NODE_RE = re.compile(r"^cache\.[a-z][a-z0-9]*\.[a-z0-9]+$")
_SCHEDULE_RE = re.compile(r"^(cron|rate)\(.+\)$")
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")

# The restore test's timing (DatabaseBackups builds it): the first daily recovery point exists at
# most a day plus its start (1 h) and completion (4 h) windows after the deploy; AWS Backup may
# start a scheduled test this long after its time; the validation window of a restored copy.
FIRST_RECOVERY_POINT_HOURS = 24 + 1 + 4
RESTORE_TEST_START_WINDOW_HOURS = 4
RESTORE_VALIDATION_WINDOW_HOURS = 2
# The overdue-restore alarm pages only once the database has reported metrics on 7 consecutive
# days (CloudWatch evaluates at most 7 daily periods); with a deploy just before midnight UTC that
# is 6 days after it. The first restore test must be verified by then, whatever the schedule.
RESTORE_ALARM_EARLIEST_HOURS = 6 * 24
_TABLE_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}\.[a-z_][a-z0-9_]{0,62}$")

_LIMIT = ErrorCode.RESOURCE_LIMIT


@dataclass(frozen=True)
class DataConfig:
    """Sizes and safety settings of the database, its backups, the cache and the buckets."""

    # PostgreSQL (RDS instance class without the "db." prefix, as ec2.InstanceType takes it).
    database_instance_class: str = "t4g.micro"
    # gp3 takes 20 GiB to 64 TiB.
    database_allocated_storage_gib: Annotated[int, Between(20, 65536, _LIMIT)] = 20
    database_max_allocated_storage_gib: int = 100
    backup_retention_days: Annotated[
        int,
        Between(
            MIN_BACKUP_RETENTION_DAYS,
            MAX_BACKUP_RETENTION_DAYS,
            _LIMIT,
            f"Property 8 needs a week, RDS keeps at most {MAX_BACKUP_RETENTION_DAYS}",
        ),
    ] = MIN_BACKUP_RETENTION_DAYS
    multi_az: bool = False
    deletion_protection: bool = False
    # False only where losing the data is acceptable (dev): the stack then deletes it outright.
    snapshot_on_delete: bool = True
    # Stateful resources (secrets, queues, tables, buckets, keys, log groups) outlive their stack
    # and log groups refuse deletion (cashtrace_constructs/retention.py); False only for dev.
    retain_on_delete: bool = True
    # Restore verification logs in and checks these tables exist (schema-qualified, e.g.
    # "public.accounts"); empty: the restored copy must hold at least one user table.
    restore_check_tables: tuple[str, ...] = ()
    # AWS Backup: weekly recovery points outlive the daily ones.
    weekly_backup_retention_days: Annotated[int, Between(7, 3650, _LIMIT)] = 35
    vault_lock: bool = False
    # Twice a week so one late or failed run cannot leave a week without a verified restore.
    restore_test_schedule: str = "cron(0 6 ? * SUN,WED *)"
    # ElastiCache (Redis OSS); it allows up to five replicas per shard.
    cache_node_type: str = "cache.t4g.micro"
    cache_replicas: Annotated[int, Between(0, 5, _LIMIT)] = 0
    cache_snapshot_retention_days: Annotated[int, Between(MIN_CACHE_SNAPSHOT_RETENTION_DAYS, 35, _LIMIT)] = (
        MIN_CACHE_SNAPSHOT_RETENTION_DAYS
    )
    # S3 application bucket: objects move to Intelligent-Tiering after this many days.
    storage_tiering_after_days: Annotated[int, Between(0, 3650)] = 30
    storage_noncurrent_expiry_days: Annotated[int, Between(1, 3650)] = 90

    def validate(self, path: str, *, is_production: bool) -> None:
        require_match(
            _INSTANCE_CLASS_RE,
            self.database_instance_class,
            f"{path}.database_instance_class",
            "an RDS class without the db. prefix (t4g.micro)",
        )
        require_match(
            _CACHE_NODE_RE,
            self.cache_node_type,
            f"{path}.cache_node_type",
            "an ElastiCache node type (cache.t4g.micro)",
        )
        require_match(
            _SCHEDULE_RE,
            self.restore_test_schedule,
            f"{path}.restore_test_schedule",
            "a cron(...) or rate(...) expression",
        )
        check_bounds(self, path)
        self._validate_restore_timing(path)
        for index, table in enumerate(self.restore_check_tables):
            require_match(
                _TABLE_RE, table, f"{path}.restore_check_tables[{index}]", "a schema-qualified table (public.accounts)"
            )
        require(
            self.database_max_allocated_storage_gib >= self.database_allocated_storage_gib,
            _LIMIT,
            f"{path}.database_max_allocated_storage_gib",
            "must not be below database_allocated_storage_gib "
            f"({self.database_max_allocated_storage_gib} < {self.database_allocated_storage_gib})",
        )
        require(
            self.weekly_backup_retention_days >= self.backup_retention_days,
            _LIMIT,
            f"{path}.weekly_backup_retention_days",
            "weekly recovery points must be kept at least as long as daily ones "
            f"({self.weekly_backup_retention_days} < {self.backup_retention_days})",
        )
        require(
            not self.multi_az or self.cache_replicas >= 1,
            _LIMIT,
            f"{path}.cache_replicas",
            "Multi-AZ with automatic failover needs at least one cache replica",
        )
        if is_production:
            self._validate_production(path)

    def _validate_restore_timing(self, path: str) -> None:
        gap = restore_test_gap_hours(self.restore_test_schedule)
        require(
            gap is not None,
            ErrorCode.CONFIG_INVALID,
            f"{path}.restore_test_schedule",
            "must be cron(M H ? * DAY[,DAY...] *), cron(M H * * ? *) or rate(N days), "
            f"got {self.restore_test_schedule!r}",
        )
        worst = (
            FIRST_RECOVERY_POINT_HOURS + (gap or 0) + RESTORE_TEST_START_WINDOW_HOURS + RESTORE_VALIDATION_WINDOW_HOURS
        )
        require(
            worst <= RESTORE_ALARM_EARLIEST_HOURS,
            ErrorCode.CONFIG_INVALID,
            f"{path}.restore_test_schedule",
            f"the first restore test could be verified {worst} h after a first deploy, later than the "
            f"{RESTORE_ALARM_EARLIEST_HOURS} h after which a missing one pages on-call; test more often",
        )

    def _validate_production(self, path: str) -> None:
        """What production data needs beyond any environment's: no single AZ, no easy deletion."""
        require(self.multi_az, _LIMIT, f"{path}.multi_az", "production data must survive an AZ failure")
        require(
            self.deletion_protection,
            ErrorCode.CONFIG_INVALID,
            f"{path}.deletion_protection",
            "the production database must have deletion protection",
        )
        require(
            self.snapshot_on_delete,
            ErrorCode.CONFIG_INVALID,
            f"{path}.snapshot_on_delete",
            "deleting the production database must leave a final snapshot",
        )
        require(
            self.vault_lock,
            ErrorCode.CONFIG_INVALID,
            f"{path}.vault_lock",
            "production recovery points must sit in a locked vault",
        )
        require(
            self.retain_on_delete,
            ErrorCode.CONFIG_INVALID,
            f"{path}.retain_on_delete",
            "deleting the production stack must not delete its secrets, queues, keys or logs",
        )


def restore_test_gap_hours(schedule: str) -> int | None:
    """The longest time between two scheduled restore tests, in hours (None: a shape this does not read)."""
    rate = re.fullmatch(r"rate\((\d+) (day|days|hour|hours)\)", schedule)
    if rate:
        return int(rate.group(1)) * (24 if rate.group(2).startswith("day") else 1)
    cron = re.fullmatch(r"cron\(\S+ \S+ (\S+) \* (\S+) \*\)", schedule)
    if cron is None:
        return None
    day_of_month, weekdays = cron.groups()
    if day_of_month == "*" and weekdays == "?":
        return 24
    names = weekdays.split(",")
    if day_of_month != "?" or not all(name in _WEEKDAYS for name in names):
        return None
    days = sorted({_WEEKDAYS.index(name) for name in names})
    # From each scheduled day to the next one, wrapping around the week.
    return 24 * max((days[(index + 1) % len(days)] - day) % 7 or 7 for index, day in enumerate(days))
