"""The prod promotion gate: it accepts only a digest staging verified, refuses the rest, records break-glass.

The record is filled by the real recorder from a release's real events (the pipeline path), in a
moto table of the pipeline account that the gate reaches only through the reader role; each test
says what CloudFormation sees (tests/lambdas/promotion_gate_world.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.deployment_record.handler import GATE_KIND
from lambdas.promotion_gate import handler as gate
from tests.lambdas.custom_resource import response_server
from tests.lambdas.promotion_gate_world import (
    GATE_ENVIRONMENT,
    FakeClock,
    GateClients,
    Stacks,
    empty,
    gate_event,
    record,
)
from tests.lambdas.record_events import (
    APPROVER,
    EXECUTION,
    PROD_ACCOUNT,
    RELEASE,
    STAGING_ACCOUNT,
    approval,
    codedeploy,
    health,
    live_tests,
    stage,
)

# What the pipeline's Staging stage and Approval leave in the record, in order.
STAGING = [
    stage("Staging", "STARTED", "2026-11-28T03:00:00Z"),
    codedeploy(STAGING_ACCOUNT, "d-STAGING01", "START", "2026-11-28T03:02:00Z"),
    health(STAGING_ACCOUNT, "d-STAGING01", "2026-11-28T03:04:00Z"),
    codedeploy(STAGING_ACCOUNT, "d-STAGING01", "SUCCESS", "2026-11-28T03:10:00Z"),
    live_tests("Staging", "STARTED", "2026-11-28T03:10:30Z"),
    live_tests("Staging", "SUCCEEDED", "2026-11-28T03:11:30Z"),
    stage("Staging", "SUCCEEDED", "2026-11-28T03:12:00Z"),
    approval("STARTED", "2026-11-28T03:13:00Z"),
]
APPROVED = approval("SUCCEEDED", "2026-11-28T03:40:00Z")
UNKNOWN_DIGEST = "sha256:" + "cd" * 32


def _run(cloudformation: Any, clients: GateClients, clock: FakeClock | None = None, **event: Any) -> dict[str, Any]:
    clock = clock or FakeClock()
    gate.handler(gate_event(cloudformation.url, **event), None, clients=clients, sleep=clock.sleep, clock=clock)
    (answer,) = cloudformation.answers
    return dict(answer)


def test_accepts_the_digest_the_pipeline_took_through_staging_its_tests_and_an_approval(
    table: Any, cloudformation: Any
) -> None:
    record(table, [*STAGING, APPROVED])
    clients = GateClients()
    answer = _run(cloudformation, clients)
    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "promotion-gate-prod"
    evidence = answer["Data"]["Evidence"]
    assert answer["Data"]["Decision"] == "accepted"
    assert f"{EXECUTION}:staging" in evidence and APPROVER in evidence and RELEASE.commit_sha in evidence
    assert clients.bus.decisions == ["accepted"]


def test_refuses_a_digest_staging_never_deployed_with_approval_required_at_once(
    table: Any, cloudformation: Any
) -> None:
    record(table, [*STAGING, APPROVED])
    clock = FakeClock()
    answer = _run(cloudformation, GateClients(), clock, digest=UNKNOWN_DIGEST)
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith(f"DEPLOY_APPROVAL_REQUIRED [prod.service.image_digest]: {UNKNOWN_DIGEST}")
    assert "no staging deployment of the pipeline shipped it" in answer["Reason"]
    assert "break-glass" in answer["Reason"]
    # Nothing can still arrive that would verify it: no waiting.
    assert clock.sleeps == []


def test_refuses_a_release_whose_integration_tests_failed(table: Any, cloudformation: Any) -> None:
    failed_tests = [
        *STAGING[:5],
        live_tests("Staging", "FAILED", "2026-11-28T03:11:30Z"),
        stage("Staging", "FAILED", "2026-11-28T03:12:00Z"),
    ]
    record(table, failed_tests)
    clients = GateClients()
    answer = _run(cloudformation, clients)
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("DEPLOY_APPROVAL_REQUIRED")
    assert f"{EXECUTION}:staging failed" in answer["Reason"]
    assert clients.bus.decisions == ["refused"]


def test_a_staging_stage_that_succeeded_without_passed_tests_verifies_nothing(table: Any, cloudformation: Any) -> None:
    # The stage's success alone is not the evidence: a pipeline changed to run no tests (or to let
    # them fail) must not verify a release.
    without_tests = [event for event in [*STAGING, APPROVED] if event["detail"].get("action") != "IntegrationTests"]
    record(table, without_tests)
    clock = FakeClock()
    answer = _run(cloudformation, GateClients(), clock)
    assert answer["Status"] == "FAILED"
    assert f"{EXECUTION}:staging is succeeded with tests not recorded" in answer["Reason"]
    assert clock.sleeps  # its test result could still be on its way
    empty(table)
    record(table, [*without_tests, live_tests("Staging", "FAILED", "2026-11-28T03:11:30Z")])
    with response_server() as again:
        answer = _run(again, GateClients())
    assert answer["Status"] == "FAILED" and f"{EXECUTION}:staging failed its live tests" in answer["Reason"]


def test_a_retried_test_action_that_passed_verifies_the_release(table: Any, cloudformation: Any) -> None:
    retried = [
        *STAGING[:5],
        live_tests("Staging", "FAILED", "2026-11-28T03:11:30Z"),
        stage("Staging", "FAILED", "2026-11-28T03:12:00Z"),
        stage("Staging", "RESUMED", "2026-11-28T03:20:00Z"),
        live_tests("Staging", "STARTED", "2026-11-28T03:20:10Z"),
        live_tests("Staging", "SUCCEEDED", "2026-11-28T03:21:00Z"),
        stage("Staging", "SUCCEEDED", "2026-11-28T03:21:30Z"),
        approval("STARTED", "2026-11-28T03:22:00Z"),
        APPROVED,
    ]
    # Delivered backwards: the record (and so the verdict) does not depend on the order.
    record(table, list(reversed(retried)))
    assert _run(cloudformation, GateClients())["Status"] == "SUCCESS"


def test_refuses_a_release_whose_approval_was_rejected(table: Any, cloudformation: Any) -> None:
    record(table, [*STAGING, approval("FAILED", "2026-11-28T03:40:00Z")])
    clock = FakeClock()
    answer = _run(cloudformation, GateClients(), clock)
    assert answer["Status"] == "FAILED"
    assert f"the approval of execution {EXECUTION} was rejected" in answer["Reason"]
    assert clock.sleeps == []


def test_a_staging_rollout_deployed_by_hand_verifies_nothing(table: Any, cloudformation: Any) -> None:
    # `cdk deploy CashTrace-Staging` from a laptop: a CodeDeploy rollout with health checks, but no
    # pipeline deployment, no integration tests, no approval.
    record(table, STAGING[1:4])
    answer = _run(cloudformation, GateClients())
    assert answer["Status"] == "FAILED"
    assert "no staging deployment of the pipeline shipped it" in answer["Reason"]


def test_refuses_a_manifest_naming_another_commit_for_the_same_digest(table: Any, cloudformation: Any) -> None:
    record(table, [*STAGING, APPROVED])
    other = "f" * 40
    answer = _run(cloudformation, GateClients(), commit=other)
    assert answer["Status"] == "FAILED"
    assert f"from commit {RELEASE.commit_sha}, this deploy names {other}" in answer["Reason"]


def test_waits_for_an_approval_whose_event_is_still_on_its_way(table: Any, cloudformation: Any) -> None:
    # The pipeline path: the Prod stage starts as the approval succeeds; its event reaches the
    # record a few seconds later, while the gate is already asking.
    record(table, STAGING)
    clock = FakeClock()
    clock.on_sleep.append(lambda: record(table, [APPROVED]))
    answer = _run(cloudformation, GateClients(), clock)
    assert answer["Status"] == "SUCCESS"
    assert clock.sleeps == [gate.POLL_SECONDS]


def test_gives_up_waiting_for_an_approval_that_never_comes(table: Any, cloudformation: Any) -> None:
    record(table, STAGING)
    clock = FakeClock()
    answer = _run(cloudformation, GateClients(), clock)
    assert answer["Status"] == "FAILED"
    assert f"execution {EXECUTION} has no recorded approval for prod yet" in answer["Reason"]
    assert 0 < sum(clock.sleeps) <= float(GATE_ENVIRONMENT["APPROVAL_WAIT_SECONDS"])


def test_break_glass_skips_the_record_and_records_its_reason(table: Any, cloudformation: Any) -> None:
    reason = "INC-4711: payments down, hotfix sha256:cdcd... cannot wait for staging"
    clients = GateClients(sts=None)  # the record is not read: break-glass works without the pipeline account
    answer = _run(cloudformation, clients, digest=UNKNOWN_DIGEST, break_glass=reason)
    assert answer["Status"] == "SUCCESS"
    assert answer["Data"] == {"Decision": "break-glass", "Evidence": f"break-glass, not verified: {reason}"}
    assert "sts" not in clients.used
    # The forwarder carries the decision to the pipeline account, where the recorder keeps it.
    record(table, clients.bus.delivered())
    (item,) = [item for item in table.scan(ConsistentRead=True)["Items"] if item.get("kind") == GATE_KIND]
    assert item["decision"] == "break-glass" and item["reason"] == reason
    assert item["environment"] == "prod" and item["imageDigest"] == UNKNOWN_DIGEST
    assert item["id"] == f"{GATE_KIND}-5d4c3b2a-0000-4a7e-9c2b-5f1e2d3c4b5a"


def test_refusals_are_recorded_too(table: Any, cloudformation: Any) -> None:
    clients = GateClients()
    assert _run(cloudformation, clients, digest=UNKNOWN_DIGEST)["Status"] == "FAILED"
    record(table, clients.bus.delivered())
    (item,) = table.scan(ConsistentRead=True)["Items"]
    assert item["decision"] == "refused" and item["evidence"].startswith("DEPLOY_APPROVAL_REQUIRED")


def test_a_decision_from_another_account_is_not_recorded(table: Any, cloudformation: Any) -> None:
    clients = GateClients()
    _run(cloudformation, clients, digest=UNKNOWN_DIGEST)
    # Staging's account claiming a prod decision: the recorder takes each account's own only.
    record(table, [{**event, "account": STAGING_ACCOUNT} for event in clients.bus.delivered()])
    assert table.scan(ConsistentRead=True)["Items"] == []
    record(table, [{**event, "account": PROD_ACCOUNT} for event in clients.bus.delivered()])
    assert len(table.scan(ConsistentRead=True)["Items"]) == 1


@pytest.mark.parametrize("break_glass", [None, "an emergency"])
def test_the_placeholder_digest_is_always_refused(table: Any, cloudformation: Any, break_glass: str | None) -> None:
    answer = _run(cloudformation, GateClients(), digest=gate.PLACEHOLDER_DIGEST, break_glass=break_glass)
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith(f"DEPLOY_CI_FAILED [prod.service.image_digest]: {gate.PLACEHOLDER_DIGEST}")


def test_a_rollback_to_the_release_before_is_never_blocked(table: Any, cloudformation: Any) -> None:
    # A later resource failed; CloudFormation asks the gate to go back to the properties it had.
    clients = GateClients(cloudformation=Stacks("UPDATE_ROLLBACK_IN_PROGRESS"), sts=None)
    answer = _run(cloudformation, clients, digest=UNKNOWN_DIGEST)
    assert answer["Status"] == "SUCCESS" and answer["Data"]["Decision"] == "rollback"
    assert "sts" not in clients.used


def test_delete_always_succeeds_and_reads_nothing(table: Any, cloudformation: Any) -> None:
    clients = GateClients(sts=None)
    answer = _run(cloudformation, clients, request_type="Delete", digest=UNKNOWN_DIGEST)
    assert answer["Status"] == "SUCCESS" and clients.used == []


def test_a_create_is_judged_like_an_update(table: Any, cloudformation: Any) -> None:
    record(table, [*STAGING, APPROVED])
    answer = _run(cloudformation, GateClients(), request_type="Create")
    assert answer["Status"] == "SUCCESS" and answer["PhysicalResourceId"] == "promotion-gate-prod"
    empty(table)
    with response_server() as again:
        assert _run(again, GateClients(), request_type="Create")["Status"] == "FAILED"
