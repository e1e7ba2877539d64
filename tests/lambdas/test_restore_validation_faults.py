"""Faults of the restore validator: once a restore test completed, AWS Backup gets a verdict and the alarm a metric.

Each test says what the callers see: AWS Backup (the job's validation status), EventBridge (a
failed invocation it retries, then the dead-letter queue) and the RestoreValidation* alarms.
RDS through moto, AWS Backup through botocore's Stubber, as in test_restore_validation.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from lambdas.restore_validation import handler
from tests.lambdas.restore_jobs import (
    JOB_ID,
    LOGIN_ARN,
    PARAMETER_GROUP,
    RESTORED,
    SETTINGS,
    event,
    instance,
    restore_job,
)

pytestmark = pytest.mark.usefixtures("fresh_metrics")

REGION = "af-south-1"


def _expect_verdict(stubber: Stubber, status: str) -> None:
    stubber.add_response(
        "put_restore_validation_result",
        {},
        {"RestoreJobId": JOB_ID, "ValidationStatus": status, "ValidationStatusMessage": ANY},
    )


def _failed_metric() -> list[float]:
    return list(handler.metrics.metric_set.get("RestoreValidationFailed", {}).get("Value", []))


@pytest.mark.parametrize("code", ["ThrottlingException", "AccessDeniedException", "ServiceUnavailableException"])
def test_describe_failing_after_a_completed_restore_still_posts_failed(
    rds: Any, backup: tuple[Any, Stubber], code: str
) -> None:
    client, stubber = backup
    stubber.add_client_error("describe_restore_job", code, expected_params={"RestoreJobId": JOB_ID})
    _expect_verdict(stubber, "FAILED")
    result = handler.run(event(), backup=client, rds=rds, settings=SETTINGS)
    # AWS Backup records FAILED for the job; the failed-validation alarm gets its datapoint.
    assert result["status"] == "FAILED" and code in result["message"]
    assert _failed_metric() == [1.0]


def test_a_verdict_aws_backup_refuses_still_emits_the_metric_and_fails_the_invocation(
    rds: Any, backup: tuple[Any, Stubber]
) -> None:
    client, stubber = backup
    stubber.add_client_error("describe_restore_job", "AccessDeniedException")
    stubber.add_client_error("put_restore_validation_result", "AccessDeniedException")
    # EventBridge sees a failed invocation (it retries, then the DLQ alarms); the alarm has its metric.
    with pytest.raises(Exception, match="AccessDenied"):
        handler.run(event(), backup=client, rds=rds, settings=SETTINGS)
    assert _failed_metric() == [1.0]


def test_a_cluster_arn_posts_failed(rds: Any, backup: tuple[Any, Stubber]) -> None:
    client, stubber = backup
    job = restore_job()
    job["CreatedResourceArn"] = f"arn:aws:rds:{REGION}:123456789012:cluster:restored"
    stubber.add_response("describe_restore_job", job, {"RestoreJobId": JOB_ID})
    _expect_verdict(stubber, "FAILED")
    assert "not an RDS DB instance ARN" in handler.run(event(), backup=client, rds=rds, settings=SETTINGS)["message"]
    assert _failed_metric() == [1.0]


def test_a_restored_copy_rds_cannot_find_posts_failed(rds: Any, backup: tuple[Any, Stubber]) -> None:
    client, stubber = backup
    stubber.add_response("describe_restore_job", restore_job(), {"RestoreJobId": JOB_ID})
    _expect_verdict(stubber, "FAILED")
    # The copy was deleted (or never existed): AWS Backup hears FAILED, not silence.
    assert "DBInstanceNotFound" in handler.run(event(), backup=client, rds=rds, settings=SETTINGS)["message"]
    assert _failed_metric() == [1.0]


@pytest.mark.parametrize("verdict", ["SUCCESSFUL", "FAILED", "TIMED_OUT"])
def test_a_retried_or_late_delivery_posts_nothing_twice(rds: Any, backup: tuple[Any, Stubber], verdict: str) -> None:
    client, stubber = backup
    # The same event again, and an out-of-order one (a FAILED delivery after the COMPLETED one was judged).
    deliveries = (event(), event("FAILED"))
    for _ in deliveries:
        stubber.add_response(
            "describe_restore_job", {**restore_job(), "ValidationStatus": verdict}, {"RestoreJobId": JOB_ID}
        )
    for delivered in deliveries:
        assert handler.run(delivered, backup=client, rds=rds, settings=SETTINGS)["status"] == "ALREADY_REPORTED"
    # AWS Backup keeps its one verdict; the alarm counted it once.
    assert handler.metrics.metric_set == {}


def test_a_malformed_event_fails_the_invocation_without_calls(rds: Any, backup: tuple[Any, Stubber]) -> None:
    client, _ = backup
    # EventBridge retries it and then dead-letters it, where the queue's alarm fires.
    for malformed in ({}, {"detail": {}}, {"detail": "restore-job-0001"}, []):
        with pytest.raises(ValueError, match="not a Restore Job State Change event"):
            handler.run(malformed, backup=client, rds=rds, settings=SETTINGS)  # type: ignore[arg-type]
    assert handler.metrics.metric_set == {}


@dataclass
class _Context:
    seconds: float
    function_name: str = "restore-validation"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:restore-validation"
    aws_request_id: str = "req-faults"

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


def _entry_point(monkeypatch: pytest.MonkeyPatch, client: Any, rds: Any) -> None:
    clients = {"backup": client, "rds": rds, "secretsmanager": None}
    monkeypatch.setattr(handler.boto3, "client", lambda name, **_: clients[name])


def test_missing_settings_post_failed_for_a_completed_restore(
    rds: Any, backup: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stubber = backup
    _entry_point(monkeypatch, client, rds)
    monkeypatch.delenv("EXPECTED_PARAMETER_GROUP", raising=False)
    monkeypatch.setenv("LOGIN_SECRET_ARN", LOGIN_ARN)
    stubber.add_response("describe_restore_job", restore_job(), {"RestoreJobId": JOB_ID})
    _expect_verdict(stubber, "FAILED")
    result = handler.handler(event(), _Context(300))
    assert result["status"] == "FAILED" and "EXPECTED_PARAMETER_GROUP" in result["message"]


def test_near_the_deadline_it_stops_waiting_and_posts_timed_out(
    rds: Any, backup: tuple[Any, Stubber], probes: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stubber = backup
    _entry_point(monkeypatch, client, rds)
    for name, value in {
        "EXPECTED_PARAMETER_GROUP": PARAMETER_GROUP,
        "LOGIN_SECRET_ARN": LOGIN_ARN,
        "POLL_SECONDS": "0.05",
    }.items():
        monkeypatch.setenv(name, value)
    rds.create_db_instance(**instance(RESTORED))
    rds.stop_db_instance(DBInstanceIdentifier=RESTORED)
    stubber.add_response("describe_restore_job", restore_job(), {"RestoreJobId": JOB_ID})
    _expect_verdict(stubber, "TIMED_OUT")
    # 20.3 s left and a 20 s reserve: the wait is cut to 0.3 s and the verdict still goes out in time.
    assert handler.handler(event(), _Context(20.3))["status"] == "TIMED_OUT"
    assert probes == []
