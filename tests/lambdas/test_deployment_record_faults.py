"""Failure handling of the deployment recorder (its record logic is tested in test_deployment_record.py).

Its caller is EventBridge, invoking asynchronously: an invocation that raises is retried by Lambda
(twice), then dead-lettered, where the queue's depth alarm fires. So every failure that a retry
can fix must raise, and only the expected outcome of out-of-order delivery (a finished
deployment that a late event must not reopen) may pass quietly. DynamoDB and CodePipeline
through botocore's Stubber (every request checked against the real API model).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber
from moto import mock_aws

from lambdas.deployment_record import handler as recorder
from tests.lambdas.record_events import create_record_table

STAGING_ACCOUNT = "222222222222"


def _codedeploy(state: str, **detail: Any) -> dict[str, Any]:
    return {
        "detail-type": recorder.CODEDEPLOY_STATE_CHANGE,
        "source": "aws.codedeploy",
        "account": STAGING_ACCOUNT,
        "time": "2026-11-30T10:00:00Z",
        "detail": {"deploymentId": "d-FAULT", "state": state, "application": "a", "deploymentGroup": "g", **detail},
    }


_ANY_UPDATE = {
    key: ANY
    for key in (
        "Key",
        "UpdateExpression",
        "ExpressionAttributeNames",
        "ExpressionAttributeValues",
        "ConditionExpression",
        "ReturnValues",
    )
}


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The record's table in moto (its conditional writes are what out-of-order delivery relies on)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "test")
    with mock_aws():
        yield create_record_table(boto3.resource("dynamodb", region_name="af-south-1"))


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[recorder.DeploymentLog, Stubber, Stubber]]:
    monkeypatch.setenv("ENVIRONMENT_ACCOUNTS", json.dumps({STAGING_ACCOUNT: "staging"}))
    monkeypatch.setenv("STAGE_ENVIRONMENTS", json.dumps({"Staging": "staging"}))
    credentials = {"region_name": "af-south-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
    table = boto3.resource("dynamodb", **credentials).Table("deployments")
    codepipeline = boto3.client("codepipeline", **credentials)
    with Stubber(table.meta.client) as dynamodb, Stubber(codepipeline) as pipeline:
        yield recorder.DeploymentLog(table, codepipeline), dynamodb, pipeline
        dynamodb.assert_no_pending_responses()
        pipeline.assert_no_pending_responses()


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "AccessDeniedException"]
)
def test_a_failed_write_raises_for_a_retry(stubbed: tuple[recorder.DeploymentLog, Stubber, Stubber], code: str) -> None:
    log, dynamodb, _ = stubbed
    dynamodb.add_client_error("update_item", code, expected_params={"TableName": "deployments", **_ANY_UPDATE})
    # EventBridge's invocation fails: Lambda retries it, then the DLQ holds the event and alarms.
    with pytest.raises(ClientError, match=code):
        recorder.handle(_codedeploy("SUCCESS"), log)


def test_a_late_event_for_a_finished_deployment_passes_quietly(monkeypatch: pytest.MonkeyPatch, table: Any) -> None:
    monkeypatch.setenv("ENVIRONMENT_ACCOUNTS", json.dumps({STAGING_ACCOUNT: "staging"}))
    log = recorder.DeploymentLog(table, None)
    recorder.handle(_codedeploy("SUCCESS"), log)
    # Out of order: an earlier READY arrives after SUCCESS. Its conditional writes lose, nothing
    # raises (so nothing is retried or dead-lettered), and the record stays finished.
    late = {**_codedeploy("READY"), "time": "2026-11-30T09:58:00Z"}
    assert recorder.handle(late, log) == "d-FAULT"
    item = table.get_item(Key={"id": "d-FAULT"}, ConsistentRead=True)["Item"]
    assert item["status"] == "succeeded" and item["startedAt"] == "2026-11-30T09:58:00Z"


def test_a_throttled_pipeline_lookup_raises_for_a_retry(monkeypatch: pytest.MonkeyPatch, table: Any) -> None:
    monkeypatch.setenv("STAGE_ENVIRONMENTS", json.dumps({"Staging": "staging"}))
    codepipeline = boto3.client("codepipeline", region_name="af-south-1")
    event = {
        "detail-type": recorder.STAGE_STATE_CHANGE,
        "time": "2026-11-30T10:00:00Z",
        "detail": {"pipeline": "CashTrace", "execution-id": "e-1", "stage": "Staging", "state": "STARTED"},
    }
    with Stubber(codepipeline) as pipeline:
        pipeline.add_client_error("get_pipeline_execution", "ThrottlingException")
        with pytest.raises(ClientError, match="ThrottlingException"):
            recorder.handle(event, recorder.DeploymentLog(table, codepipeline))
        pipeline.assert_no_pending_responses()


@pytest.mark.parametrize(
    "event",
    [
        {"detail-type": recorder.CODEDEPLOY_STATE_CHANGE},
        {"detail-type": recorder.STAGE_STATE_CHANGE, "detail": {"stage": "Staging", "state": "STARTED"}},
        {"detail-type": recorder.CODEDEPLOY_STATE_CHANGE, "account": STAGING_ACCOUNT, "detail": {"state": "START"}},
    ],
)
def test_a_malformed_event_raises_without_writing(
    stubbed: tuple[recorder.DeploymentLog, Stubber, Stubber], event: dict[str, Any]
) -> None:
    log, _, _ = stubbed
    # Retries cannot fix it: after them the DLQ keeps the event for a person, and its alarm fires.
    with pytest.raises(KeyError):
        recorder.handle(event, log)


def test_events_of_other_kinds_are_ignored_without_a_call(
    stubbed: tuple[recorder.DeploymentLog, Stubber, Stubber],
) -> None:
    log, _, _ = stubbed
    for event in ({}, {"detail-type": "Something Else"}, _codedeploy("WAITING")):
        assert recorder.handle(event, log) is None


def test_missing_settings_fail_every_invocation_until_fixed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recorder, "_log", None)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "af-south-1")
    monkeypatch.delenv("TABLE_NAME", raising=False)
    # No table to write to: each invocation fails (Errors alarm, then the DLQ), none is dropped silently.
    for _ in range(2):
        with pytest.raises(KeyError, match="TABLE_NAME"):
            recorder.handler(_codedeploy("SUCCESS"), None)
    assert recorder._log is None
