"""Failure handling of the promotion gate (its verdicts are tested in test_gate.py).

Its caller is CloudFormation, waiting for one answer on the pre-signed URL: every failure must end in
a FAILED answer whose reason starts with a DEPLOY_* code, before the Lambda's deadline, so the
deploy stops before anything changed instead of holding the stack for an hour. The gate fails
closed: a record it cannot read verifies nothing. AWS errors moto cannot produce come from
botocore's Stubber (every request checked against the real API model).
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from lambdas.promotion_gate import handler as gate
from tests.lambdas.promotion_gate_world import (
    GATE_ENVIRONMENT,
    READER_ROLE,
    REGION,
    Bus,
    FakeClock,
    GateClients,
    gate_event,
    pipeline_session,
    record,
)
from tests.lambdas.record_events import RELEASE, approval, live_tests, stage

VERIFIED = [
    stage("Staging", "STARTED", "2026-11-28T03:00:00Z"),
    live_tests("Staging", "SUCCEEDED", "2026-11-28T03:11:30Z"),
    stage("Staging", "SUCCEEDED", "2026-11-28T03:12:00Z"),
    approval("STARTED", "2026-11-28T03:13:00Z"),
]


class _Context:
    def __init__(self, remaining_seconds: float) -> None:
        self.remaining_seconds = remaining_seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.remaining_seconds * 1000)


def _answer(cloudformation: Any, clients: GateClients, context: Any = None, **event: Any) -> dict[str, Any]:
    clock = FakeClock()
    gate.handler(gate_event(cloudformation.url, **event), context, clients=clients, sleep=clock.sleep, clock=clock)
    (answer,) = cloudformation.answers
    return dict(answer)


def _unreadable(answer: dict[str, Any], cause: str) -> None:
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("DEPLOY_APPROVAL_REQUIRED: the promotion gate could not read the deployment")
    assert cause in answer["Reason"] and "nothing was changed" in answer["Reason"]


@pytest.mark.parametrize("code", ["AccessDenied", "RegionDisabledException", "ExpiredTokenException"])
def test_a_refused_assume_role_fails_closed(table: Any, cloudformation: Any, code: str) -> None:
    sts = boto3.client("sts", region_name=REGION)
    with Stubber(sts) as stubbed:
        stubbed.add_client_error(
            "assume_role",
            code,
            expected_params={
                "RoleArn": READER_ROLE,
                "RoleSessionName": "cashtrace-prod-promotion-gate",
                "DurationSeconds": 900,
            },
        )
        _unreadable(_answer(cloudformation, GateClients(sts=sts)), code)


def test_a_missing_table_parameter_fails_closed(
    table: Any, cloudformation: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The pipeline stack that writes the parameter is not deployed (or is older than the gate).
    monkeypatch.setenv("RECORD_TABLE_PARAMETER", "/cashtrace/deployment-record/missing")
    _unreadable(_answer(cloudformation, GateClients()), "ParameterNotFound")


def test_a_missing_table_fails_closed(table: Any, cloudformation: Any) -> None:
    session = pipeline_session()
    session.client("ssm").put_parameter(
        Name=GATE_ENVIRONMENT["RECORD_TABLE_PARAMETER"], Value="gone", Type="String", Overwrite=True
    )
    try:
        _unreadable(_answer(cloudformation, GateClients()), "ResourceNotFoundException")
    finally:
        session.client("ssm").put_parameter(
            Name=GATE_ENVIRONMENT["RECORD_TABLE_PARAMETER"], Value=table.name, Type="String", Overwrite=True
        )


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "AccessDeniedException"])
def test_a_failed_query_fails_closed(
    table: Any, cloudformation: Any, monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    stubbed_table = boto3.resource("dynamodb", region_name=REGION).Table("cashtrace-deployments")
    monkeypatch.setattr(gate, "open_record", lambda settings, sts: gate.DeploymentRecord(stubbed_table))
    with Stubber(stubbed_table.meta.client) as dynamodb:
        # The resource API hands the Stubber its condition objects before serializing them.
        keys = ("IndexName", "KeyConditionExpression", "FilterExpression", "ScanIndexForward")
        dynamodb.add_client_error(
            "query", code, expected_params={"TableName": "cashtrace-deployments", **dict.fromkeys(keys, ANY)}
        )
        _unreadable(_answer(cloudformation, GateClients()), code)


def test_missing_settings_fail_closed(table: Any, cloudformation: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECORD_ROLE_ARN")
    _unreadable(_answer(cloudformation, GateClients()), "RECORD_ROLE_ARN")


def test_an_unreadable_stack_status_is_judged_as_a_deploy(table: Any, cloudformation: Any) -> None:
    class Broken:
        def describe_stacks(self, **params: Any) -> dict[str, Any]:
            raise ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "DescribeStacks")

    answer = _answer(cloudformation, GateClients(cloudformation=Broken()), digest="sha256:" + "cd" * 32)
    assert answer["Status"] == "FAILED" and answer["Reason"].startswith("DEPLOY_APPROVAL_REQUIRED [")


def test_too_little_time_left_answers_after_one_look(table: Any, cloudformation: Any) -> None:
    # Staging verified, the approval not (yet) recorded: normally the gate waits for it.
    record(table, VERIFIED)
    clock = FakeClock()
    event = gate_event(cloudformation.url)
    gate.handler(event, _Context(15), clients=GateClients(), sleep=clock.sleep, clock=clock)
    (answer,) = cloudformation.answers
    assert answer["Status"] == "FAILED" and "no recorded approval" in answer["Reason"]
    assert clock.sleeps == []


def test_break_glass_that_cannot_be_recorded_is_refused(table: Any, cloudformation: Any) -> None:
    clients = GateClients(events=Bus(failing=1))
    answer = _answer(cloudformation, clients, break_glass="INC-1: outage")
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("DEPLOY_APPROVAL_REQUIRED [prod.service.image_digest]: break-glass is allowed")
    assert clients.bus.entries == []


def test_an_accepted_release_is_not_refused_when_its_decision_cannot_be_published(
    table: Any, cloudformation: Any
) -> None:
    record(table, [*VERIFIED, approval("SUCCEEDED", "2026-11-28T03:40:00Z")])
    answer = _answer(cloudformation, GateClients(events=Bus(failing=1)))
    assert answer["Status"] == "SUCCESS" and answer["Data"]["Decision"] == "accepted"


def test_an_unknown_request_type_answers_failed(table: Any, cloudformation: Any) -> None:
    answer = _answer(cloudformation, GateClients(), request_type="Replace")
    assert answer["Status"] == "FAILED" and "Replace" in answer["Reason"]


def test_a_malformed_event_fails_the_invocation() -> None:
    # Nobody to answer: the invocation fails, and the function's Errors alarm fires.
    with pytest.raises(ValueError, match="no ResponseURL"):
        gate.handler({"RequestType": "Create"}, None)


def test_a_failed_answer_is_retried_once(table: Any, cloudformation: Any) -> None:
    cloudformation.statuses = [500]
    clock = FakeClock()
    gate.handler(
        gate_event(cloudformation.url, digest=RELEASE.digest),
        None,
        clients=GateClients(),
        sleep=clock.sleep,
        clock=clock,
    )
    assert [answer["Status"] for answer in cloudformation.answers] == ["FAILED", "FAILED"]


def test_an_answer_failing_twice_fails_the_invocation(table: Any, cloudformation: Any) -> None:
    cloudformation.statuses = [500, 500]
    with pytest.raises(OSError):
        gate.handler(gate_event(cloudformation.url, request_type="Delete"), None, clients=GateClients())
