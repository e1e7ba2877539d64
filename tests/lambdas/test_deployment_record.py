"""The deployment record against moto DynamoDB and real event shapes: complete, and the same whatever the order.

EventBridge does not guarantee order (nor single delivery), so the record a release leaves must not
depend on it: every pair of its events delivered the other way round, backwards, or every event
twice; the same for a rollback's and for a retried stage's events: each ends in the same table.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws

from cashtrace_constructs.release_manifest import PLACEHOLDER_DIGEST
from lambdas.deployment_record.handler import DeploymentLog, handle, release_of
from tests.lambdas.record_events import (
    APPROVER,
    EXECUTION,
    PROD_ACCOUNT,
    RELEASE,
    SOURCE_VERSION,
    STAGING_ACCOUNT,
    TRIGGER,
    CodePipelineAnswers,
    approval,
    codedeploy,
    create_record_table,
    health,
    live_tests,
    stage,
)

Deliver = Callable[..., dict[str, dict[str, Any]]]

RELEASE_EVENTS = [
    stage("Staging", "STARTED", "2026-11-28T03:00:00Z"),
    codedeploy(STAGING_ACCOUNT, "d-STAGING01", "START", "2026-11-28T03:02:00Z"),
    health(STAGING_ACCOUNT, "d-STAGING01", "2026-11-28T03:04:00Z", checks=3),
    codedeploy(STAGING_ACCOUNT, "d-STAGING01", "SUCCESS", "2026-11-28T03:10:00Z"),
    live_tests("Staging", "SUCCEEDED", "2026-11-28T03:11:30Z"),
    stage("Staging", "SUCCEEDED", "2026-11-28T03:12:00Z"),
    approval("STARTED", "2026-11-28T03:13:00Z"),
    approval("SUCCEEDED", "2026-11-28T03:40:00Z"),
    stage("Prod", "STARTED", "2026-11-28T03:40:05Z"),
    codedeploy(PROD_ACCOUNT, "d-PROD00001", "START", "2026-11-28T03:41:00Z"),
    health(PROD_ACCOUNT, "d-PROD00001", "2026-11-28T03:43:00Z", checks=4),
    codedeploy(PROD_ACCOUNT, "d-PROD00001", "SUCCESS", "2026-11-28T03:46:00Z"),
    live_tests("Prod", "SUCCEEDED", "2026-11-28T03:46:50Z"),
    stage("Prod", "SUCCEEDED", "2026-11-28T03:47:00Z"),
]
# (A test action's STARTED and a retried run: test_a_retried_test_action_ends_with_its_last_run_in_every_pair_order.)
# A prod rollout fails its alarms; CodeDeploy's automatic rollback is a deployment of its own.
ROLLBACK_EVENTS = [
    codedeploy(PROD_ACCOUNT, "d-FAILED0001", "START", "2026-11-28T03:41:00Z"),
    codedeploy(PROD_ACCOUNT, "d-FAILED0001", "FAILURE", "2026-11-28T03:45:00Z"),
    codedeploy(PROD_ACCOUNT, "d-ROLLBACK01", "START", "2026-11-28T03:45:20Z"),
    codedeploy(PROD_ACCOUNT, "d-ROLLBACK01", "SUCCESS", "2026-11-28T03:48:00Z"),
]
# A failed staging stage, retried in the same execution, then successful.
RETRY_EVENTS = [
    stage("Staging", "STARTED", "2026-11-28T03:00:00Z"),
    stage("Staging", "FAILED", "2026-11-28T03:05:00Z"),
    stage("Staging", "RESUMED", "2026-11-28T03:20:00Z"),
    stage("Staging", "SUCCEEDED", "2026-11-28T03:30:00Z"),
]


def _label(event: dict[str, Any]) -> str:
    detail = event["detail"]
    what = detail.get("action") or detail.get("stage") or detail.get("deploymentId")
    return f"{event['detail-type'].split()[-2]}:{what}:{detail.get('state', 'checks')}@{event['time'][11:19]}"


@pytest.fixture
def deliver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Deliver]:
    """Delivers events to the recorder with an empty table; returns the table as id -> item."""
    monkeypatch.setenv("STAGE_ENVIRONMENTS", json.dumps({"Staging": "staging", "Prod": "prod"}))
    monkeypatch.setenv("APPROVAL_ENVIRONMENTS", json.dumps({"Approval": "prod"}))
    monkeypatch.setenv("TEST_ACTIONS", json.dumps({"Staging": "IntegrationTests", "Prod": "SmokeTests"}))
    monkeypatch.setenv("ENVIRONMENT_ACCOUNTS", json.dumps({STAGING_ACCOUNT: "staging", PROD_ACCOUNT: "prod"}))
    monkeypatch.setenv("ENVIRONMENT_STRATEGIES", json.dumps({"staging": "canary", "prod": "canary"}))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "test")
    with mock_aws():
        table = create_record_table(boto3.resource("dynamodb", region_name="af-south-1"))

        def run(events: Sequence[dict[str, Any]], answers: CodePipelineAnswers | None = None) -> dict[str, Any]:
            # The same table, emptied: creating one per delivery costs more than the delivery.
            with table.batch_writer() as batch:
                for item in table.scan(ConsistentRead=True, ProjectionExpression="id")["Items"]:
                    batch.delete_item(Key={"id": item["id"]})
            log = DeploymentLog(table, answers or CodePipelineAnswers())
            for event in events:
                handle(event, log)
            return {item["id"]: item for item in table.scan(ConsistentRead=True)["Items"]}

        yield run


def _environment(event: dict[str, Any]) -> str:
    detail = event["detail"]
    if event["source"] == "aws.codepipeline":
        return "staging" if detail["stage"] == "Staging" else "prod"
    return "staging" if event["account"] == STAGING_ACCOUNT else "prod"


def _differences(
    deliver: Deliver, events: list[dict[str, Any]], orders: Iterator[tuple[int, ...]], *, by_environment: bool = False
) -> list[str]:
    """Orders of `events` whose table differs from the table of `events` in order.

    `by_environment`: deliver each environment's events on their own (in the order's relative order)
    and join the tables; test_environments_never_touch_each_others_records proves that is the same.
    """
    delivered: dict[tuple[int, ...], dict[str, Any]] = {}

    def table(order: tuple[int, ...]) -> dict[str, Any]:
        parts = [order]
        if by_environment:
            parts = [tuple(i for i in order if _environment(events[i]) == name) for name in ("staging", "prod")]
        joined: dict[str, Any] = {}
        for part in parts:
            if part not in delivered:
                delivered[part] = deliver([events[i] for i in part])
            joined |= delivered[part]
        return joined

    expected = table(tuple(range(len(events))))
    wrong = []
    for order in orders:
        got = table(order)
        if got != expected:
            changed = sorted(key for key in {*got, *expected} if got.get(key) != expected.get(key))
            wrong.append(f"{[_label(events[i]) for i in order]}: {changed}")
    return wrong


def _swapped(count: int) -> Iterator[tuple[int, ...]]:
    for first, second in itertools.combinations(range(count), 2):
        order = list(range(count))
        order[first], order[second] = second, first
        yield tuple(order)


def _swapped_and_backwards(count: int) -> Iterator[tuple[int, ...]]:
    yield from _swapped(count)
    yield tuple(reversed(range(count)))


# ---- what a release leaves ---------------------------------------------------------------------


def test_a_release_leaves_complete_records_for_each_environment_and_rollout(deliver: Deliver) -> None:
    table = deliver(RELEASE_EVENTS)
    staging, prod = table[f"{EXECUTION}:staging"], table[f"{EXECUTION}:prod"]
    for item, started, completed in ((staging, "03:00:00", "03:12:00"), (prod, "03:13:00", "03:47:00")):
        # commitSha and imageDigest come from the manifest, through the S3 source's revision summary.
        assert (item["commitSha"], item["imageDigest"], item["version"]) == (
            RELEASE.commit_sha, RELEASE.digest, SOURCE_VERSION
        )  # fmt: skip
        assert (item["status"], item["strategy"], item["initiatedBy"]) == ("succeeded", "canary", TRIGGER)
        assert (item["startedAt"], item["completedAt"]) == (f"2026-11-28T{started}Z", f"2026-11-28T{completed}Z")
    assert prod["approvedBy"] == APPROVER and "approvedBy" not in staging
    # The outcome of each stage's live tests (IntegrationTests, SmokeTests): what the prod gate requires.
    assert staging["tests"] == "passed" and prod["tests"] == "passed"
    # The deploy hook's HealthCheckResults of the rollout, on the rollout and on the release's deployment.
    for item, rollout, count in ((staging, "d-STAGING01", 3), (prod, "d-PROD00001", 4)):
        assert item["rollout"] == rollout and item["healthChecks"] == table[rollout]["healthChecks"]
        checks = item["healthChecks"]
        assert len(checks) == count and all(c["healthy"] and c["status"] == 200 for c in checks)
        assert {"timestamp", "endpoint", "status", "latency", "healthy"} <= set(checks[0])
        assert checks[1]["latency"] == Decimal("11.0")
        assert table[rollout]["commitSha"] == RELEASE.commit_sha and table[rollout]["imageDigest"] == RELEASE.digest
        assert (table[rollout]["status"], table[rollout]["deploymentGroup"]) == ("succeeded", "cashtrace-api/api")
    assert table["d-PROD00001"]["environment"] == "prod" and "rollbackOf" not in table["d-PROD00001"]


def test_environments_never_touch_each_others_records(deliver: Deliver) -> None:
    # Every key and every query of the recorder is one environment's, so a release's table is the
    # join of its environments' tables whatever the interleaving: checked on interleavings here.
    count = len(RELEASE_EVENTS)
    staging_first = [i for i in range(count) if _environment(RELEASE_EVENTS[i]) == "staging"]
    prod_first = [i for i in range(count) if _environment(RELEASE_EVENTS[i]) == "prod"]
    interleaved = tuple(i for pair in itertools.zip_longest(prod_first, staging_first) for i in pair if i is not None)
    orders = [tuple(range(count)), tuple(reversed(range(count))), interleaved]
    for order in orders:
        events = [RELEASE_EVENTS[i] for i in order]
        staging, prod = ([e for e in events if _environment(e) == name] for name in ("staging", "prod"))
        assert deliver(events) == deliver(staging) | deliver(prod)


def test_every_pair_of_a_releases_events_delivered_the_other_way_round_leaves_the_same_record(
    deliver: Deliver,
) -> None:
    assert _differences(deliver, RELEASE_EVENTS, _swapped(len(RELEASE_EVENTS)), by_environment=True) == []


def test_the_release_delivered_backwards_or_twice_leaves_the_same_record(deliver: Deliver) -> None:
    count = len(RELEASE_EVENTS)
    backwards = iter([tuple(reversed(range(count)))])
    assert _differences(deliver, RELEASE_EVENTS, backwards) == []
    assert deliver(RELEASE_EVENTS + RELEASE_EVENTS) == deliver(RELEASE_EVENTS)


def test_a_late_started_event_never_reopens_a_finished_deployment(deliver: Deliver) -> None:
    item = deliver(
        [stage("Staging", "FAILED", "2026-11-28T03:05:00Z"), stage("Staging", "STARTED", "2026-11-28T03:00:00Z")]
    )[f"{EXECUTION}:staging"]
    assert (item["status"], item["completedAt"], item["startedAt"]) == (
        "failed", "2026-11-28T03:05:00Z", "2026-11-28T03:00:00Z"
    )  # fmt: skip


def test_a_retried_stage_ends_succeeded_in_every_pair_order(deliver: Deliver) -> None:
    item = deliver(RETRY_EVENTS)[f"{EXECUTION}:staging"]
    assert (item["status"], item["completedAt"]) == ("succeeded", "2026-11-28T03:30:00Z")
    assert _differences(deliver, RETRY_EVENTS, _swapped_and_backwards(len(RETRY_EVENTS))) == []
    # Still failing after the retry began: no completion time until it ends.
    assert "completedAt" not in deliver(RETRY_EVENTS[:3])[f"{EXECUTION}:staging"]


def test_an_automatic_rollback_links_and_marks_the_failed_deployment_in_every_pair_order(deliver: Deliver) -> None:
    table = deliver(ROLLBACK_EVENTS)
    assert table["d-ROLLBACK01"]["rollbackOf"] == "d-FAILED0001"
    assert (table["d-FAILED0001"]["status"], table["d-FAILED0001"]["completedAt"]) == (
        "rolled_back", "2026-11-28T03:48:00Z"
    )  # fmt: skip
    assert _differences(deliver, ROLLBACK_EVENTS, _swapped_and_backwards(len(ROLLBACK_EVENTS))) == []


def test_a_new_deployment_long_after_a_failure_is_not_a_rollback(deliver: Deliver) -> None:
    table = deliver(
        [
            codedeploy(STAGING_ACCOUNT, "d-FAILED0002", "START", "2026-11-28T01:00:00Z"),
            codedeploy(STAGING_ACCOUNT, "d-FAILED0002", "FAILURE", "2026-11-28T01:05:00Z"),
            codedeploy(STAGING_ACCOUNT, "d-NEXTFIX01", "START", "2026-11-28T03:00:00Z"),
        ]
    )
    assert "rollbackOf" not in table["d-NEXTFIX01"] and table["d-FAILED0002"]["status"] == "failed"


def test_a_retried_test_action_ends_with_its_last_run_in_every_pair_order(deliver: Deliver) -> None:
    retried = [
        live_tests("Staging", "STARTED", "2026-11-28T03:10:30Z"),
        live_tests("Staging", "FAILED", "2026-11-28T03:11:30Z"),
        live_tests("Staging", "STARTED", "2026-11-28T03:20:00Z"),
        live_tests("Staging", "SUCCEEDED", "2026-11-28T03:21:00Z"),
    ]
    assert deliver(retried)[f"{EXECUTION}:staging"]["tests"] == "passed"
    assert deliver(retried[:3])[f"{EXECUTION}:staging"]["tests"] == "running"
    assert _differences(deliver, retried, _swapped_and_backwards(len(retried))) == []


def test_actions_other_than_the_stages_live_tests_are_ignored(deliver: Deliver) -> None:
    other = [
        live_tests("Staging", "SUCCEEDED", "2026-11-28T03:11:30Z", action="SecurityGate"),
        live_tests("Build", "SUCCEEDED", "2026-11-28T03:11:30Z", action="IntegrationTests"),
    ]
    assert deliver(other) == {}


def test_a_rejected_approval_fails_the_prod_deployment(deliver: Deliver) -> None:
    item = deliver([approval("STARTED", "2026-11-28T03:13:00Z"), approval("FAILED", "2026-11-28T03:20:00Z")])
    assert item[f"{EXECUTION}:prod"]["status"] == "failed"


def test_a_source_without_a_revision_summary_records_no_commit_rather_than_failing(deliver: Deliver) -> None:
    item = deliver(RELEASE_EVENTS[:1], CodePipelineAnswers(revision_summary=None))[f"{EXECUTION}:staging"]
    assert (item["commitSha"], item["imageDigest"], item["version"]) == ("", "", SOURCE_VERSION)


def test_stages_that_deploy_no_environment_and_other_events_are_ignored(deliver: Deliver) -> None:
    ignored = [
        stage("Build", "STARTED", "2026-11-28T03:00:00Z"),
        stage("Staging", "STOPPING", "2026-11-28T03:00:00Z"),
        {"detail-type": "Something Else", "detail": {}},
        codedeploy("999999999999", "d-UNKNOWN01", "START", "2026-11-28T03:00:00Z"),
        health("999999999999", "d-UNKNOWN01", "2026-11-28T03:00:00Z"),
    ]
    assert deliver(ignored) == {}


def test_an_environment_account_cannot_report_health_checks_for_another_environments_rollout(
    deliver: Deliver,
) -> None:
    table = deliver(
        [
            codedeploy(PROD_ACCOUNT, "d-PROD00001", "START", "2026-11-28T03:41:00Z"),
            health(STAGING_ACCOUNT, "d-PROD00001", "2026-11-28T03:43:00Z"),
        ]
    )
    assert table["d-PROD00001"]["healthChecks"] == [] and table["d-PROD00001"]["environment"] == "prod"


def test_the_release_in_the_summary_and_in_the_deployment_description_is_read_back() -> None:
    assert release_of(RELEASE.revision_summary()) == {"commitSha": RELEASE.commit_sha, "imageDigest": RELEASE.digest}
    assert release_of(f"api commit=unknown digest={PLACEHOLDER_DIGEST}") == {
        "commitSha": "",
        "imageDigest": PLACEHOLDER_DIGEST,
    }
    assert release_of("main@0123456") == {} and release_of(None) == {}
