"""Property 8 (backup verification): every database keeps a week of backups, is in a backup plan,
and has a restore test scheduled at least weekly."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from itertools import pairwise
from typing import Any

from cashtrace_constructs.checks.rule import Finding, StackRule, SynthesizedStack
from cashtrace_constructs.checks.template import of_type, references
from cashtrace_constructs.config import MIN_BACKUP_RETENTION_DAYS

MAX_RESTORE_TEST_INTERVAL_DAYS = 7.0
DATABASE_TYPES = ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster")
# RDS keeps one day of automated backups when the property is absent.
RDS_DEFAULT_RETENTION_DAYS = 1

_RATE_RE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON_RE = re.compile(r"^cron\((.+)\)$")
_UNIT_DAYS = {"minute": 1 / 1440, "hour": 1 / 24, "day": 1.0}
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


def _weekday_numbers(field: str) -> set[int] | None:
    """Days (0 = Sunday) an AWS cron day-of-week field fires on; None for "nth"/"last" forms."""
    if "#" in field or "L" in field.upper():
        return None
    if field in ("*", "?"):
        return set(range(7))
    days: set[int] = set()
    for part in field.upper().split(","):
        bounds = part.split("-")
        numbers = [(_WEEKDAYS.index(b) if b in _WEEKDAYS else int(b) - 1) for b in bounds]
        days.update(range(numbers[0], numbers[-1] + 1))
    return days


def schedule_interval_days(expression: str) -> float | None:
    """The longest gap between two runs of an AWS `rate(...)` / `cron(...)` schedule, in days.

    None when the expression cannot be read or runs less often than a month can guarantee
    (fixed days of the month, "last", "nth weekday", restricted months or years).
    """
    text = expression.strip()
    rate = _RATE_RE.match(text)
    if rate:
        return int(rate.group(1)) * _UNIT_DAYS[rate.group(2).rstrip("s")]
    cron = _CRON_RE.match(text)
    if not cron:
        return None
    fields = cron.group(1).split()
    if len(fields) != 6:
        return None
    _minute, _hour, day_of_month, month, day_of_week, year = fields
    if month != "*" or year != "*":
        return None
    try:
        if day_of_week == "?":
            if day_of_month == "*":
                return 1.0
            step = re.match(r"^(?:\*|1)/(\d+)$", day_of_month)
            # "*/n" restarts on the 1st, which only shortens the gap across a month's end.
            return float(step.group(1)) if step else None
        if day_of_month not in ("?", "*"):
            return None
        days = _weekday_numbers(day_of_week)
    except (ValueError, IndexError):
        return None
    if not days:
        return None
    ordered = sorted(days)
    gaps = [(b - a) for a, b in pairwise(ordered)] + [ordered[0] + 7 - ordered[-1]]
    return float(max(gaps))


class BackupVerification(StackRule):
    rule_id = "CT-P8-BackupVerification"
    property_name = "Property 8 (backup verification)"
    description = (
        "Every database keeps at least 7 days of backups, is selected by an AWS Backup plan and has "
        "an AWS Backup restore test scheduled at least weekly."
    )
    fix = "Compose the database with DatabaseBackups (cashtrace_constructs/backup.py) and keep retention >= 7 days."

    def check_stack(self, stack: SynthesizedStack) -> Iterable[Finding]:
        databases = list(of_type(stack.template, *DATABASE_TYPES))
        if not databases:
            return
        backed_up = self._backed_up_ids(stack)
        restore_tested = self._restore_tested(stack)
        for logical_id, resource in databases:
            properties = resource.get("Properties") or {}
            kind = resource["Type"]
            member = kind == "AWS::RDS::DBInstance" and properties.get("DBClusterIdentifier")
            if properties.get("SourceDBInstanceIdentifier") or member:
                # Read replicas and cluster members are backed up through their source/cluster.
                continue
            yield from self._retention(stack, logical_id, kind, properties)
            if logical_id not in backed_up:
                yield self.finding(
                    stack,
                    f"{kind} {logical_id} is not selected by any AWS::Backup::BackupSelection of a backup plan",
                    logical_id=logical_id,
                )
            schedules = restore_tested.get(logical_id, [])
            intervals = [schedule_interval_days(s) for s in schedules]
            weekly = [i for i in intervals if i is not None and i <= MAX_RESTORE_TEST_INTERVAL_DAYS]
            if not schedules:
                yield self.finding(
                    stack,
                    f"{kind} {logical_id} has no restore test: no AWS::Backup::RestoreTestingSelection of a "
                    "RestoreTestingPlan names it",
                    logical_id=logical_id,
                )
            elif not weekly:
                yield self.finding(
                    stack,
                    f"{kind} {logical_id} is restore-tested less often than weekly (schedules {schedules})",
                    logical_id=logical_id,
                )

    def _retention(
        self, stack: SynthesizedStack, logical_id: str, kind: str, properties: Mapping[str, Any]
    ) -> Iterator[Finding]:
        raw = properties.get("BackupRetentionPeriod", RDS_DEFAULT_RETENTION_DAYS)
        try:
            days = int(raw)
        except (TypeError, ValueError):
            yield self.finding(
                stack,
                f"{kind} {logical_id} BackupRetentionPeriod {raw!r} is not a literal day count",
                logical_id=logical_id,
                location="Properties.BackupRetentionPeriod",
            )
            return
        if days < MIN_BACKUP_RETENTION_DAYS:
            yield self.finding(
                stack,
                f"{kind} {logical_id} keeps automated backups {days} day(s); at least "
                f"{MIN_BACKUP_RETENTION_DAYS} are required",
                logical_id=logical_id,
                location="Properties.BackupRetentionPeriod",
            )

    @staticmethod
    def _backed_up_ids(stack: SynthesizedStack) -> set[str]:
        plans = {lid for lid, _ in of_type(stack.template, "AWS::Backup::BackupPlan")}
        selected: set[str] = set()
        for _, selection in of_type(stack.template, "AWS::Backup::BackupSelection"):
            properties = selection.get("Properties") or {}
            if not references(properties.get("BackupPlanId")) & plans:
                continue
            selected |= references((properties.get("BackupSelection") or {}).get("Resources"))
        return selected

    @staticmethod
    def _restore_tested(stack: SynthesizedStack) -> dict[str, list[str]]:
        """Database logical id -> schedule expressions of the restore testing plans that select it."""
        plans: dict[str, str] = {}
        plan_by_id: dict[str, str] = {}
        for logical_id, plan in of_type(stack.template, "AWS::Backup::RestoreTestingPlan"):
            properties = plan.get("Properties") or {}
            schedule = str(properties.get("ScheduleExpression", ""))
            name = properties.get("RestoreTestingPlanName")
            if isinstance(name, str):
                plans[name] = schedule
            plan_by_id[logical_id] = schedule
        tested: dict[str, list[str]] = {}
        for _, selection in of_type(stack.template, "AWS::Backup::RestoreTestingSelection"):
            properties = selection.get("Properties") or {}
            plan_name = properties.get("RestoreTestingPlanName")
            if isinstance(plan_name, str) and plan_name in plans:
                schedule = plans[plan_name]
            else:
                matches = [plan_by_id[i] for i in references(plan_name) if i in plan_by_id]
                if not matches:
                    continue
                schedule = matches[0]
            for database_id in references(properties.get("ProtectedResourceArns")):
                tested.setdefault(database_id, []).append(schedule)
        return tested
