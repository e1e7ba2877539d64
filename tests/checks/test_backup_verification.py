"""Property 8 rule: retention, backup-plan selection and a weekly restore test, from hand-written templates."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cashtrace_constructs.checks import BackupVerification, SynthesizedStack, default_rules, evaluate
from cashtrace_constructs.checks.backup_verification import schedule_interval_days
from cashtrace_constructs.checks.template import of_type, references
from tests.conftest import ENVIRONMENT_STACKS

DB_ARN = {"Fn::Join": ["", ["arn:aws:rds:af-south-1:123456789012:db:", {"Ref": "Db"}]]}


def template(
    *,
    retention: Any = 7,
    selected: bool = True,
    schedule: str | None = "cron(0 6 ? * SUN *)",
    plan_by_reference: bool = False,
) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"Engine": "postgres", "StorageEncrypted": True}},
        "Plan": {"Type": "AWS::Backup::BackupPlan", "Properties": {"BackupPlan": {"BackupPlanName": "p"}}},
    }
    if retention is not None:
        resources["Db"]["Properties"]["BackupRetentionPeriod"] = retention
    if selected:
        resources["Selection"] = {
            "Type": "AWS::Backup::BackupSelection",
            "Properties": {
                "BackupPlanId": {"Fn::GetAtt": ["Plan", "BackupPlanId"]},
                "BackupSelection": {"SelectionName": "db", "IamRoleArn": "arn:role", "Resources": [DB_ARN]},
            },
        }
    if schedule is not None:
        resources["RestorePlan"] = {
            "Type": "AWS::Backup::RestoreTestingPlan",
            "Properties": {"RestoreTestingPlanName": "weekly", "ScheduleExpression": schedule},
        }
        resources["RestoreSelection"] = {
            "Type": "AWS::Backup::RestoreTestingSelection",
            "Properties": {
                "RestoreTestingPlanName": {"Ref": "RestorePlan"} if plan_by_reference else "weekly",
                "ProtectedResourceType": "RDS",
                "ProtectedResourceArns": [DB_ARN],
            },
        }
    return {"Resources": resources}


def findings(tpl: dict[str, Any]) -> list[str]:
    stack = SynthesizedStack(name="S", construct_path="S", template=tpl, region="af-south-1")
    return [f.message for f in evaluate([BackupVerification()], [stack])]


def test_a_database_with_retention_plan_and_weekly_restore_test_is_compliant() -> None:
    assert findings(template()) == []
    assert findings(template(plan_by_reference=True)) == []


@pytest.mark.parametrize("retention", [0, 1, 6, "3", None])
def test_retention_under_a_week_is_a_finding(retention: Any) -> None:
    messages = findings(template(retention=retention))
    assert len(messages) == 1
    assert messages[0].startswith("Property 8 (backup verification)") and "Db" in messages[0]
    assert "at least 7" in messages[0]


def test_retention_that_is_not_a_literal_is_a_finding() -> None:
    assert any("not a literal" in m for m in findings(template(retention={"Ref": "Days"})))


def test_a_database_outside_every_backup_plan_is_a_finding() -> None:
    assert any("not selected by any AWS::Backup::BackupSelection" in m for m in findings(template(selected=False)))


def test_a_selection_of_a_plan_not_in_the_template_does_not_count() -> None:
    tpl = template()
    tpl["Resources"]["Selection"]["Properties"]["BackupPlanId"] = "imported-plan-id"
    assert any("not selected" in m for m in findings(tpl))


def test_a_database_without_restore_test_is_a_finding() -> None:
    assert any("has no restore test" in m for m in findings(template(schedule=None)))


@pytest.mark.parametrize(
    "schedule", ["cron(0 6 1 * ? *)", "rate(8 days)", "cron(0 6 ? * SUN#1 *)", "cron(0 6 ? 1 SUN *)", "nonsense"]
)
def test_a_restore_test_less_often_than_weekly_is_a_finding(schedule: str) -> None:
    assert any("less often than weekly" in m for m in findings(template(schedule=schedule)))


def test_read_replicas_and_cluster_members_are_judged_through_their_source() -> None:
    tpl = template()
    tpl["Resources"]["Replica"] = {
        "Type": "AWS::RDS::DBInstance",
        "Properties": {"SourceDBInstanceIdentifier": {"Ref": "Db"}, "StorageEncrypted": True},
    }
    assert findings(tpl) == []


def test_stacks_without_databases_have_nothing_to_verify() -> None:
    assert findings({"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {}}}}) == []


@pytest.mark.parametrize(
    ("expression", "days"),
    [
        ("cron(0 6 ? * SUN *)", 7.0),
        ("cron(0 6 ? * SUN,WED *)", 4.0),
        ("cron(0 6 ? * MON-FRI *)", 3.0),
        ("cron(0 6 ? * 1 *)", 7.0),
        ("cron(0 6 * * ? *)", 1.0),
        ("cron(0 6 */3 * ? *)", 3.0),
        ("rate(7 days)", 7.0),
        ("rate(12 hours)", 0.5),
        ("rate(1 day)", 1.0),
        ("cron(0 6 15 * ? *)", None),
        ("cron(0 6 ? * L *)", None),
        ("cron(0 6 ? * SUN * 2027)", None),
        ("at(2026-12-01T00:00:00)", None),
    ],
)
def test_schedule_interval(expression: str, days: float | None) -> None:
    assert schedule_interval_days(expression) == days


@given(st.integers(min_value=1, max_value=365))
def test_rate_in_days_is_read_exactly(count: int) -> None:
    unit = "day" if count == 1 else "days"
    assert schedule_interval_days(f"rate({count} {unit})") == float(count)


@given(st.sets(st.sampled_from(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]), min_size=1))
def test_any_set_of_weekdays_is_at_least_weekly(days: set[str]) -> None:
    interval = schedule_interval_days(f"cron(0 6 ? * {','.join(sorted(days))} *)")
    assert interval is not None and 1.0 <= interval <= 7.0


def test_references_are_found_through_joins_and_subs() -> None:
    value = [DB_ARN, {"Fn::Sub": "arn:${AWS::Partition}:rds:x:y:db:${Other}"}, {"Fn::GetAtt": "Third.Arn"}]
    assert references(value) == {"Db", "Other", "Third", "AWS::Partition"}


def test_the_real_environment_stacks_satisfy_property_8(templates: dict[str, dict[str, Any]]) -> None:
    for name in ENVIRONMENT_STACKS:
        stack = SynthesizedStack(name=name, construct_path=name, template=templates[name], region="af-south-1")
        assert [f for f in evaluate(default_rules(), [stack]) if f.rule_id.startswith("CT-P8")] == []
        # ... and there is a database for the rule to judge, so the silence above means something.
        assert any(of_type(templates[name], "AWS::RDS::DBInstance"))
