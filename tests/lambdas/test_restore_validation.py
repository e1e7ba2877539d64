"""The restore validation Lambda: RDS through moto, AWS Backup through botocore's Stubber (moto
lacks DescribeRestoreJob and PutRestoreValidationResult), reachability against 127.0.0.1."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from lambdas.restore_validation import handler
from tests.lambdas.restore_jobs import (
    ACCOUNT,
    JOB_ID,
    LOGIN_ARN,
    PARAMETER_GROUP,
    REGION,
    RESTORED,
    SETTINGS,
    arn,
    event,
    instance,
    restore_job,
)

pytestmark = pytest.mark.usefixtures("fresh_metrics")


@dataclass
class FakeClock:
    """Monotonic time that only moves when the handler sleeps."""

    now: float = 0.0
    sleeps: int = 0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += seconds


def expect_report(stubber: Stubber, status: str) -> None:
    stubber.add_response("describe_restore_job", restore_job(), {"RestoreJobId": JOB_ID})
    stubber.add_response(
        "put_restore_validation_result",
        {},
        {"RestoreJobId": JOB_ID, "ValidationStatus": status, "ValidationStatusMessage": ANY},
    )


def reported(result: dict[str, str], status: str, *message_parts: str) -> bool:
    # The message sent to AWS Backup is the one returned; the Stubber has checked the status.
    missing = [part for part in message_parts if part not in result["message"]]
    assert not missing, f"{missing} not in {result['message']!r}"
    return result["status"] == status


def run(backup_client: Any, rds_client: Any, clock: FakeClock | None = None, **overrides: Any) -> dict[str, str]:
    clock = clock or FakeClock()
    settings = handler.Settings(**{**SETTINGS.__dict__, **overrides})
    return handler.run(event(), backup=backup_client, rds=rds_client, settings=settings, clock=clock, sleep=clock.sleep)


def test_a_good_restore_is_reported_successful(rds: Any, backup: tuple[Any, Stubber], probes: list[Any]) -> None:
    client, stubber = backup
    rds.create_db_instance(**instance(RESTORED))
    expect_report(stubber, "SUCCESSFUL")
    assert reported(run(client, rds), "SUCCESSFUL", RESTORED, "postgres 18.1", PARAMETER_GROUP, "reachable")
    assert probes and probes[0][1] == 5433
    assert handler.metrics.metric_set["RestoreValidationSucceeded"]["Value"] == [1.0]
    assert "RestoreValidationFailed" not in handler.metrics.metric_set


def test_a_failed_restore_job_raises_the_failure_metric_without_a_validation_report(
    rds: Any, backup: tuple[Any, Stubber], probes: list[Any]
) -> None:
    client, stubber = backup
    stubber.add_response("describe_restore_job", restore_job("FAILED"), {"RestoreJobId": JOB_ID})
    result = handler.run(event("FAILED"), backup=client, rds=rds, settings=SETTINGS)
    assert result["status"] == "FAILED" and "Insufficient capacity" in result["message"]
    assert handler.metrics.metric_set["RestoreValidationFailed"]["Value"] == [1.0]
    assert probes == []


def test_a_different_engine_major_version_fails(rds: Any, backup: tuple[Any, Stubber], probes: list[Any]) -> None:
    client, stubber = backup
    rds.create_db_instance(**instance(RESTORED, version="17.6", parameter_group=PARAMETER_GROUP))
    expect_report(stubber, "FAILED")
    assert reported(run(client, rds), "FAILED", "engine postgres 17.6 differs from the source's postgres 18.3")
    assert handler.metrics.metric_set["RestoreValidationFailed"]["Value"] == [1.0]


def test_an_older_minor_version_of_the_same_major_passes(
    rds: Any, backup: tuple[Any, Stubber], probes: list[Any]
) -> None:
    client, stubber = backup
    rds.create_db_instance(**instance(RESTORED, version="18.0"))
    expect_report(stubber, "SUCCESSFUL")
    assert reported(run(client, rds), "SUCCESSFUL", "postgres 18.0")


def test_an_unencrypted_copy_fails(rds: Any, backup: tuple[Any, Stubber], probes: list[Any]) -> None:
    client, stubber = backup
    rds.create_db_instance(**instance(RESTORED, encrypted=False))
    expect_report(stubber, "FAILED")
    assert reported(run(client, rds), "FAILED", "storage is not encrypted")


def test_a_copy_with_the_default_parameter_group_fails(
    rds: Any, backup: tuple[Any, Stubber], probes: list[Any]
) -> None:
    client, stubber = backup
    rds.create_db_instance(**instance(RESTORED, parameter_group="default-postgres18"))
    expect_report(stubber, "FAILED")
    assert reported(run(client, rds), "FAILED", f"lack {PARAMETER_GROUP}", "default-postgres18")


def test_an_unreachable_copy_fails(rds: Any, backup: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch) -> None:
    client, stubber = backup
    monkeypatch.setattr(handler, "probe", lambda host, port, timeout: False)
    rds.create_db_instance(**instance(RESTORED))
    expect_report(stubber, "FAILED")
    assert reported(run(client, rds), "FAILED", "is not reachable")


def test_a_copy_that_never_becomes_available_times_out(
    rds: Any, backup: tuple[Any, Stubber], probes: list[Any]
) -> None:
    client, stubber = backup
    rds.create_db_instance(**instance(RESTORED))
    rds.stop_db_instance(DBInstanceIdentifier=RESTORED)
    expect_report(stubber, "TIMED_OUT")
    clock = FakeClock()
    assert reported(run(client, rds, clock), "TIMED_OUT", "not available within 60 s")
    # It polled every 15 s until the 60 s deadline, then gave up without probing.
    assert clock.sleeps == 4 and probes == []
    assert handler.metrics.metric_set["RestoreValidationFailed"]["Value"] == [1.0]


def test_several_problems_are_all_reported(rds: Any, backup: tuple[Any, Stubber], probes: list[Any]) -> None:
    client, stubber = backup
    rds.create_db_instance(**instance(RESTORED, encrypted=False, version="17.6", parameter_group="old"))
    expect_report(stubber, "FAILED")
    assert reported(run(client, rds), "FAILED", "not encrypted", "engine", "lack")


def test_restores_not_made_by_a_restore_testing_plan_are_ignored(rds: Any, backup: tuple[Any, Stubber]) -> None:
    client, stubber = backup
    stubber.add_response("describe_restore_job", restore_job(restore_test=False), {"RestoreJobId": JOB_ID})
    assert run(client, rds)["status"] == "IGNORED"
    assert handler.metrics.metric_set == {}


def test_the_entry_point_emits_the_metric_the_alarms_watch(
    rds: Any,
    backup: tuple[Any, Stubber],
    probes: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client, stubber = backup
    rds.create_db_instance(**instance(RESTORED))
    expect_report(stubber, "SUCCESSFUL")
    clients = {"backup": client, "rds": rds, "secretsmanager": None}
    monkeypatch.setattr(handler.boto3, "client", lambda name, **_: clients[name])
    monkeypatch.setenv("EXPECTED_PARAMETER_GROUP", PARAMETER_GROUP)
    monkeypatch.setenv("LOGIN_SECRET_ARN", LOGIN_ARN)

    @dataclass
    class Context:
        function_name: str = "restore-validation"
        memory_limit_in_mb: int = 256
        invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:restore-validation"
        aws_request_id: str = "req-1"

    assert handler.handler(event(), Context())["status"] == "SUCCESSFUL"
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    directives = [d for e in emitted for d in e["_aws"]["CloudWatchMetrics"]]
    assert {
        "Namespace": "CashTrace/Backup",
        "Dimensions": [["service"]],
        "Metrics": [{"Name": "RestoreValidationSucceeded", "Unit": "Count"}],
    } in directives
    assert any(e.get("service") == "restore_validation" for e in emitted)


def test_settings_come_from_the_environment() -> None:
    settings = handler.Settings.from_environment(
        {
            "EXPECTED_PARAMETER_GROUP": "g",
            "AVAILABLE_DEADLINE_SECONDS": "30",
            "LOGIN_SECRET_ARN": LOGIN_ARN,
            "EXPECTED_TABLES": '["public.accounts"]',
        }
    )
    assert settings.expected_parameter_group == "g" and settings.available_deadline_seconds == 30
    assert settings.login_secret_arn == LOGIN_ARN and settings.expected_tables == ("public.accounts",)


def test_db_instance_ids_come_from_arns() -> None:
    assert handler.db_instance_id(arn(RESTORED)) == RESTORED
    with pytest.raises(ValueError, match="not an RDS DB instance ARN"):
        handler.db_instance_id("arn:aws:rds:af-south-1:123456789012:cluster:c")


def test_probe_connects_to_a_listening_port_and_not_to_a_closed_one() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        assert handler.probe("127.0.0.1", port, timeout=2) is True
    # The listener is closed now: the same port refuses.
    assert handler.probe("127.0.0.1", port, timeout=2) is False
