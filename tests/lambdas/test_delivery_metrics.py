"""Delivery metrics from generated deployment histories with known answers (moto DynamoDB, shuffled records)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from lambdas.delivery_metrics.handler import (
    FIELDS,
    DeliveryMetrics,
    compute,
    embedded_metrics,
    from_item,
    handler,
    publish,
    read,
)
from tests.lambdas.delivery_history import OUTCOMES, History, Release, stamp
from tests.lambdas.record_events import create_record_table

TABLE = "deployments"


def create_table() -> Any:
    return create_record_table(boto3.resource("dynamodb", region_name="af-south-1"), TABLE)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "af-south-1")
    with mock_aws():
        yield create_table()


def shuffled_into(table: Any, history: History, seed: int) -> None:
    items = list(history.items)
    random.Random(seed).shuffle(items)
    for item in items:
        table.put_item(Item=item)


def metrics_of(history: History, records: list[Any], environment: str) -> DeliveryMetrics:
    return compute(
        records,
        environment,
        since=history.since,
        until=history.until,
        approval_gated=environment == "prod",
        commit_time=history.commits.get,
    )


def assert_matches(metrics: DeliveryMetrics, expected: dict[str, Any]) -> None:
    actual = metrics.as_json()
    for key, value in expected.items():
        assert actual[key] == pytest.approx(value) if isinstance(value, float) else actual[key] == value, key


KNOWN = [
    Release("ok", lead_minutes=90),
    Release("rollback", lead_minutes=100, rollback_minutes=6),
    Release("ok", lead_minutes=150),
    Release("rejected"),
    Release("fix_forward", lead_minutes=60),
    Release("ok", lead_minutes=300),
    Release("running"),
]


def test_a_known_history_read_back_from_the_table_in_any_write_order(table: Any) -> None:
    history = History(KNOWN)
    for seed in range(3):
        shuffled_into(table, history, seed)
        records = read(table, ["staging", "prod"], since=history.since)
        assert len(records) == len(history.items)
        prod = metrics_of(history, records, "prod")
        # Worked by hand: 3 successes of 5 finished changes (the rejection and the running one do not count).
        assert (prod.deployments, prod.finished_changes, prod.failed_changes) == (3, 5, 2)
        assert prod.change_failure_rate == pytest.approx(0.4)
        assert prod.lead_time_median_seconds == 150 * 60 and prod.lead_time_unknown == 0
        assert prod.pipeline_lead_time_median_seconds == (150 - 5) * 60
        # Rollback: 6 min. Fix-forward at day 4 + 60 min, restored by release 5's rollout (day 5 + 299 min).
        fix_forward = timedelta(days=1, minutes=299 - 60).total_seconds()
        assert prod.restore_median_seconds == pytest.approx((6 * 60 + fix_forward) / 2)
        assert (prod.restores, prod.unrestored) == (2, 0)
        assert_matches(prod, history.expected("prod"))
        assert_matches(metrics_of(history, records, "staging"), history.expected("staging"))


@given(
    st.lists(
        st.builds(
            Release,
            outcome=st.sampled_from(OUTCOMES),
            lead_minutes=st.integers(min_value=40, max_value=600),
            rollback_minutes=st.integers(min_value=1, max_value=14),
        ),
        max_size=12,
    ),
    st.randoms(use_true_random=False),
)
def test_generated_histories_give_their_known_metrics_whatever_the_record_order(
    releases: list[Release], order: random.Random
) -> None:
    history = History(releases)
    items = list(history.items)
    order.shuffle(items)
    records = [from_item(item) for item in items]
    for environment in ("staging", "prod"):
        assert_matches(metrics_of(history, records, environment), history.expected(environment))


def test_missing_commit_times_and_fields_are_counted_not_fatal() -> None:
    history = History([Release("ok"), Release("ok")])
    items = [dict(item) for item in history.items]
    for item in items:
        item.pop("commitSha", None)
    items.append({"id": "broken", "environment": "prod", "status": "succeeded", "completedAt": "not a time"})
    prod = compute(
        [from_item(item) for item in items], "prod", since=history.since, until=history.until, approval_gated=True
    )
    assert prod.deployments == 2 and prod.lead_time_median_seconds is None and prod.lead_time_unknown == 2
    assert prod.pipeline_lead_time_median_seconds is not None  # from the release's first stage


def test_an_environment_without_pipeline_stages_counts_rollouts_and_their_rollbacks() -> None:
    start = datetime(2026, 11, 2, tzinfo=UTC)

    def rollout(name: str, status: str, minutes: int, **extra: Any) -> dict[str, Any]:
        return {
            "id": name,
            "environment": "dev",
            "status": status,
            "deploymentGroup": "cashtrace-dev/api",
            "startedAt": stamp(start + timedelta(minutes=minutes - 5)),
            "completedAt": stamp(start + timedelta(minutes=minutes)),
            **extra,
        }

    records = [
        from_item(item)
        for item in (
            rollout("d-1", "succeeded", 10),
            rollout("d-2", "rolled_back", 60),
            rollout("d-3", "succeeded", 64, rollbackOf="d-2"),
            rollout("d-4", "failed", 200),
        )
    ]
    dev = compute(records, "dev", since=start, until=start + timedelta(days=7))
    assert (dev.deployments, dev.finished_changes, dev.failed_changes) == (1, 3, 2)
    assert dev.restore_median_seconds == 4 * 60 and dev.unrestored == 1


def test_the_adapter_is_the_one_place_field_names_live() -> None:
    renamed = {**FIELDS, "completed_at": "finishedAt"}
    item = {"id": "x", "environment": "prod", "status": "succeeded", "finishedAt": "2026-11-02T10:00:00Z"}
    assert from_item(item, renamed).completed_at == datetime(2026, 11, 2, 10, tzinfo=UTC)
    assert from_item(item).completed_at is None


def test_the_scheduled_function_publishes_embedded_metrics_per_environment(
    table: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    recent = [
        {
            "id": f"e{i}:prod",
            "environment": "prod",
            "status": status,
            "approvedBy": "alice",
            "version": f"v{i}",
            "startedAt": stamp(now - timedelta(days=i, minutes=30)),
            "completedAt": stamp(now - timedelta(days=i)),
        }
        for i, status in enumerate(("succeeded", "failed", "succeeded", "succeeded"), start=1)
    ]
    for item in recent:
        table.put_item(Item=item)
    monkeypatch.setenv("TABLE_NAME", TABLE)
    monkeypatch.setenv("ENVIRONMENTS", json.dumps(["staging", "prod"]))
    monkeypatch.setenv("APPROVAL_GATED", json.dumps(["prod"]))
    monkeypatch.setenv("WINDOW_DAYS", "28")
    result = handler({}, None)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    prod = next(line for line in lines if line["Environment"] == "prod")
    staging = next(line for line in lines if line["Environment"] == "staging")
    (directive,) = prod["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "CashTrace/Delivery" and directive["Dimensions"] == [["Environment"]]
    assert prod["DeploymentsPerWeek"] == pytest.approx(3 * 7 / 28) and prod["ChangeFailureRate"] == 25
    # The failure on day 2 was restored by the success on day 1: one day.
    assert prod["TimeToRestoreSeconds"] == pytest.approx(86400)
    assert {metric["Name"] for metric in directive["Metrics"]} == set(prod) - {"_aws", "Environment"}
    assert "ChangeFailureRate" not in staging and staging["DeploymentsPerWeek"] == 0
    assert [m["environment"] for m in result["environments"]] == ["staging", "prod"]


def test_reading_follows_every_page_of_the_index() -> None:
    class PagedTable:
        def __init__(self) -> None:
            self.calls: list[dict[str, Any]] = []

        def query(self, **arguments: Any) -> dict[str, Any]:
            self.calls.append(arguments)
            if "ExclusiveStartKey" not in arguments:
                return {"Items": [{"id": "a", "environment": "prod"}], "LastEvaluatedKey": {"id": "a"}}
            return {"Items": [{"id": "b", "environment": "prod"}]}

    paged = PagedTable()
    assert [d.id for d in read(paged, ["prod"], since=datetime(2026, 11, 1, tzinfo=UTC))] == ["a", "b"]
    assert paged.calls[0]["ExpressionAttributeValues"][":s"] == "2026-11-01T00:00:00Z"


def test_a_metric_without_a_value_is_left_out_of_the_record() -> None:
    empty = compute([], "prod", since=datetime(2026, 11, 1, tzinfo=UTC), until=datetime(2026, 11, 29, tzinfo=UTC))
    record = embedded_metrics(empty, datetime(2026, 11, 29, tzinfo=UTC))
    assert set(record) == {"_aws", "Environment", "DeploymentsPerWeek", "UnrestoredFailures"}
    emitted: list[str] = []
    with mock_aws():
        publish(create_table(), ["prod"], [], window_days=7, now=datetime.now(UTC), emit=emitted.append)
    assert json.loads(emitted[0])["DeploymentsPerWeek"] == 0


# ---- end to end: the recorder's events in any order, then the metrics ----


class FakePipeline:
    """CodePipeline's answers about each execution (the recorder asks for release and approver)."""

    def get_pipeline_execution(self, pipelineName: str, pipelineExecutionId: str) -> dict[str, Any]:
        index = pipelineExecutionId.removeprefix("exec-")
        return {
            "pipelineExecution": {
                "artifactRevisions": [{"revisionId": f"v{index}", "revisionSummary": f"main@{int(index):040x}"}],
                "trigger": {"triggerType": "CloudWatchEvent"},
            }
        }

    def list_action_executions(self, pipelineName: str, filter: dict[str, str]) -> dict[str, Any]:
        return {"actionExecutionDetails": [{"stageName": "Approval", "actionName": "Approve", "updatedBy": "alice"}]}


def _events(start: datetime) -> tuple[list[dict[str, Any]], float]:
    """Three releases through staging, approval and prod; the second fails in prod and CodeDeploy rolls it back."""
    events: list[dict[str, Any]] = []

    def at(day: int, minutes: float) -> str:
        return stamp(start + timedelta(days=day, minutes=minutes))

    def pipeline(kind: str, execution: str, time: str, **detail: Any) -> None:
        events.append(
            {
                "detail-type": f"CodePipeline {kind} Execution State Change",
                "account": "444444444444",
                "time": time,
                "detail": {"pipeline": "CashTrace", "execution-id": execution, **detail},
            }
        )

    def codedeploy(deployment_id: str, state: str, time: str) -> None:
        events.append(
            {
                "detail-type": "CodeDeploy Deployment State-change Notification",
                "account": "333333333333",
                "time": time,
                "detail": {
                    "application": "cashtrace-api",
                    "deploymentGroup": "api",
                    "deploymentId": deployment_id,
                    "state": state,
                },
            }
        )

    approval = {"stage": "Approval", "action": "Approve", "type": {"category": "Approval"}}
    for day, outcome in enumerate(("SUCCEEDED", "FAILED", "SUCCEEDED")):
        execution = f"exec-{day}"
        pipeline("Stage", execution, at(day, 5), stage="Staging", state="STARTED")
        pipeline("Stage", execution, at(day, 15), stage="Staging", state="SUCCEEDED")
        pipeline("Action", execution, at(day, 20), state="STARTED", **approval)
        pipeline("Action", execution, at(day, 30), state="SUCCEEDED", **approval)
        pipeline("Stage", execution, at(day, 31), stage="Prod", state="STARTED")
        codedeploy(f"d-{day}", "START", at(day, 35))
        if outcome == "SUCCEEDED":
            codedeploy(f"d-{day}", "SUCCESS", at(day, 50))
        else:
            codedeploy(f"d-{day}", "FAILURE", at(day, 42))
            codedeploy(f"d-{day}-back", "START", at(day, 42.5))
            codedeploy(f"d-{day}-back", "SUCCESS", at(day, 48))
        pipeline("Stage", execution, at(day, 55), stage="Prod", state=outcome)
    return events, (48 - 42) * 60.0


@pytest.mark.parametrize("seed", range(4))
def test_the_recorders_records_give_the_known_metrics_whatever_order_events_arrive_in(
    table: Any, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    from lambdas.deployment_record.handler import DeploymentLog, handle

    monkeypatch.setenv("STAGE_ENVIRONMENTS", json.dumps({"Staging": "staging", "Prod": "prod"}))
    monkeypatch.setenv("APPROVAL_ENVIRONMENTS", json.dumps({"Approval": "prod"}))
    monkeypatch.setenv("ENVIRONMENT_ACCOUNTS", json.dumps({"222222222222": "staging", "333333333333": "prod"}))
    monkeypatch.setenv("ENVIRONMENT_STRATEGIES", json.dumps({"staging": "canary", "prod": "canary"}))
    start = datetime(2026, 11, 2, 8, tzinfo=UTC)
    events, restore_seconds = _events(start)
    if seed:
        random.Random(seed).shuffle(events)
    log = DeploymentLog(table, FakePipeline())
    for event in events:
        handle(event, log)
    records = read(table, ["staging", "prod"], since=start - timedelta(days=1))
    window = {"since": start - timedelta(days=1), "until": start + timedelta(days=5)}
    prod = compute(records, "prod", approval_gated=True, **window)
    assert (prod.deployments, prod.finished_changes, prod.failed_changes) == (2, 3, 1)
    assert prod.restore_median_seconds == restore_seconds and prod.unrestored == 0
    assert compute(records, "staging", **window).deployments == 3
