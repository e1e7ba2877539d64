"""The restore validation Lambda: RDS through moto, AWS Backup through botocore's Stubber (moto
lacks DescribeRestoreJob and PutRestoreValidationResult), reachability against 127.0.0.1."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from lambdas.restore_validation import handler

REGION = "af-south-1"
ACCOUNT = "123456789012"
SOURCE = "cashtrace-test-postgres"
RESTORED = "awsbackup-restore-test-abc123"
PARAMETER_GROUP = "cashtrace-test-postgres18"
PLAN_ARN = f"arn:aws:backup:{REGION}:{ACCOUNT}:restore-testing-plan:cashtrace_test_database-1a2b"
JOB_ID = "restore-job-0001"
LOGIN_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:cashtrace/test/database-api-AbCdEf"
SETTINGS = handler.Settings(
    expected_parameter_group=PARAMETER_GROUP, available_deadline_seconds=60, poll_seconds=15, login_secret_arn=LOGIN_ARN
)


def arn(instance_id: str) -> str:
    return f"arn:aws:rds:{REGION}:{ACCOUNT}:db:{instance_id}"


def event(status: str = "COMPLETED") -> dict[str, Any]:
    return {
        "source": "aws.backup",
        "detail-type": "Restore Job State Change",
        "detail": {"restoreJobId": JOB_ID, "status": status, "resourceType": "RDS"},
    }


def restore_job(status: str = "COMPLETED", *, restore_test: bool = True) -> dict[str, Any]:
    job: dict[str, Any] = {
        "RestoreJobId": JOB_ID,
        "Status": status,
        "ResourceType": "RDS",
        "SourceResourceArn": arn(SOURCE),
        "CreatedResourceArn": arn(RESTORED),
    }
    if status != "COMPLETED":
        job["StatusMessage"] = "Insufficient capacity in af-south-1b"
    if restore_test:
        job["CreatedBy"] = {"RestoreTestingPlanArn": PLAN_ARN}
    return job


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


@pytest.fixture(scope="module")
def moto_rds() -> Iterator[Any]:
    # One moto backend for the module: starting one costs about a second.
    with mock_aws():
        client = boto3.client("rds", region_name=REGION)
        for name, family in (
            (PARAMETER_GROUP, "postgres18"),
            ("default-postgres18", "postgres18"),
            ("old", "postgres17"),
        ):
            client.create_db_parameter_group(DBParameterGroupName=name, DBParameterGroupFamily=family, Description=name)
        client.create_db_instance(**instance(SOURCE, version="18.3"))
        yield client


@pytest.fixture
def rds(moto_rds: Any) -> Iterator[Any]:
    yield moto_rds
    restored = [i["DBInstanceIdentifier"] for i in moto_rds.describe_db_instances()["DBInstances"]]
    if RESTORED in restored:
        moto_rds.delete_db_instance(DBInstanceIdentifier=RESTORED, SkipFinalSnapshot=True)


def instance(identifier: str, **overrides: Any) -> dict[str, Any]:
    settings = {
        "version": "18.1",
        "encrypted": True,
        "parameter_group": PARAMETER_GROUP,
        "engine": "postgres",
        **overrides,
    }
    return {
        "DBInstanceIdentifier": identifier,
        "DBInstanceClass": "db.t4g.micro",
        "Engine": settings["engine"],
        "EngineVersion": settings["version"],
        "AllocatedStorage": 20,
        "MasterUsername": "cashtrace_admin",
        "MasterUserPassword": "not-a-real-password-1",
        "Port": 5433,
        "StorageEncrypted": settings["encrypted"],
        "DBParameterGroupName": settings["parameter_group"],
    }


@pytest.fixture(scope="module")
def backup_client() -> Any:
    return boto3.client("backup", region_name=REGION)


@pytest.fixture
def backup(backup_client: Any) -> Iterator[tuple[Any, Stubber]]:
    client = backup_client
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture(autouse=True)
def fresh_metrics() -> Iterator[None]:
    handler.metrics.clear_metrics()
    yield
    handler.metrics.clear_metrics()


@pytest.fixture
def probes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every endpoint the handler probes and checks the schema of; reachable with 3 tables unless a test says otherwise.

    The schema check itself runs against a real PostgreSQL in test_restore_validation_schema.py.
    """
    seen: list[tuple[str, int]] = []

    def fake_probe(host: str, port: int, timeout: float) -> bool:
        seen.append((host, port))
        return True

    def fake_schema(host: str, port: int, settings: handler.Settings, **_: Any) -> handler.SchemaReport:
        assert (host, port) == seen[-1] and settings.login_secret_arn == LOGIN_ARN
        return handler.SchemaReport([], "3 user tables")

    monkeypatch.setattr(handler, "probe", fake_probe)
    monkeypatch.setattr(handler, "check_schema", fake_schema)
    return seen


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
