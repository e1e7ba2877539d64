"""Checks a database copy that an AWS Backup restore test created and reports the verdict (Property 8).

Triggered by EventBridge on "Restore Job State Change". A copy passes when it is available,
encrypted, runs the source's engine and major version, carries the expected parameter group,
and a read-only login as the API's user finds the expected schema in it (the configured tables,
or at least one user table: an empty database is not a verified backup). The verdict goes to
AWS Backup (PutRestoreValidationResult) and to CloudWatch as RestoreValidationSucceeded/Failed,
which the missing- and failed-restore alarms watch.

Any exception once a restore test completed still posts FAILED and the failure metric; a retried
delivery of a job that already has a verdict posts nothing twice.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "CashTrace/Backup")
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "restore_validation")
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

SUCCESSFUL = "SUCCESSFUL"
FAILED = "FAILED"
TIMED_OUT = "TIMED_OUT"
SUCCEEDED_METRIC = "RestoreValidationSucceeded"
FAILED_METRIC = "RestoreValidationFailed"
# AWS Backup's final validation states; VALIDATING (or none) means no verdict was posted yet.
VERDICTS = frozenset({SUCCESSFUL, FAILED, TIMED_OUT})
# Leave this much of the Lambda timeout to post the verdict and the metric.
REPORT_RESERVE_SECONDS = 20.0
AUTHENTICATION_FAILED = frozenset({"28P01", "28000"})


@dataclass(frozen=True)
class Settings:
    expected_parameter_group: str
    available_deadline_seconds: float = 240.0
    poll_seconds: float = 15.0
    connect_timeout_seconds: float = 5.0
    # The API's login (`cashtrace/<env>/database-api`): the restored copy has the users of its snapshot.
    login_secret_arn: str = ""
    # Schema-qualified tables that must exist; empty: at least one user table must.
    expected_tables: tuple[str, ...] = ()
    tls: str = "verify-full"
    ca_bundle: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        tables = json.loads(environ.get("EXPECTED_TABLES", "[]"))
        if not isinstance(tables, list) or not all(isinstance(t, str) and "." in t for t in tables):
            raise ValueError("EXPECTED_TABLES must be a JSON list of schema-qualified table names")
        tls = environ.get("DATABASE_TLS", "verify-full")
        if tls not in ("verify-full", "disable"):
            raise ValueError(f"DATABASE_TLS must be verify-full or disable, got {tls!r}")
        return cls(
            expected_parameter_group=environ["EXPECTED_PARAMETER_GROUP"],
            available_deadline_seconds=float(environ.get("AVAILABLE_DEADLINE_SECONDS", "240")),
            poll_seconds=float(environ.get("POLL_SECONDS", "15")),
            login_secret_arn=environ["LOGIN_SECRET_ARN"],
            expected_tables=tuple(tables),
            tls=tls,
            ca_bundle=environ.get("DATABASE_CA_BUNDLE") or None,
        )


@dataclass(frozen=True)
class Verdict:
    status: str
    message: str


def db_instance_id(arn: str) -> str:
    """`arn:aws:rds:af-south-1:123456789012:db:name` -> `name`."""
    _, separator, name = arn.rpartition(":db:")
    if not separator or not name:
        raise ValueError(f"not an RDS DB instance ARN: {arn!r}")
    return name


def probe(host: str, port: int, timeout: float) -> bool:
    """True when something accepts a TCP connection on host:port (PostgreSQL speaks TLS after that)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _describe(rds: Any, instance_id: str) -> dict[str, Any]:
    instances: list[dict[str, Any]] = rds.describe_db_instances(DBInstanceIdentifier=instance_id)["DBInstances"]
    return instances[0]


def wait_until_available(
    rds: Any,
    instance_id: str,
    settings: Settings,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any] | None:
    """The instance once it is `available`, or None when the deadline passes first."""
    deadline = clock() + settings.available_deadline_seconds
    while True:
        instance = _describe(rds, instance_id)
        if instance.get("DBInstanceStatus") == "available":
            return instance
        if clock() >= deadline:
            return None
        sleep(settings.poll_seconds)


@dataclass(frozen=True)
class SchemaReport:
    problems: list[str] = field(default_factory=list)
    summary: str = ""


def _logins(secrets: Any, arn: str) -> list[dict[str, Any]]:
    """AWSCURRENT, then AWSPREVIOUS: the snapshot may predate the last rotation of the API's login."""
    found = []
    for stage in ("AWSCURRENT", "AWSPREVIOUS"):
        try:
            value = json.loads(secrets.get_secret_value(SecretId=arn, VersionStage=stage)["SecretString"])
        except secrets.exceptions.ResourceNotFoundException:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


def connect(host: str, port: int, login: Mapping[str, Any], settings: Settings, timeout: float) -> Any:
    import pg8000.native  # from the driver layer

    context = None if settings.tls == "disable" else ssl.create_default_context(cafile=settings.ca_bundle)
    return pg8000.native.Connection(
        user=str(login["username"]),
        password=str(login["password"]),
        host=host,
        port=port,
        database=str(login.get("dbname") or "postgres"),
        ssl_context=context,
        timeout=timeout,
        application_name="cashtrace-restore-validation",
    )


def _sql_state(error: BaseException) -> str:
    detail = error.args[0] if error.args else None
    return str(detail.get("C", "")) if isinstance(detail, dict) else ""


_USER_TABLES = """
SELECT n.nspname || '.' || c.relname FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_%'
"""


def check_schema(
    host: str,
    port: int,
    settings: Settings,
    *,
    secrets: Any,
    timeout: float,
    connector: Callable[..., Any] = connect,
) -> SchemaReport:
    """Log in to the copy as the API's user, read only, and look for the expected tables."""
    logins = _logins(secrets, settings.login_secret_arn)
    if not logins:
        return SchemaReport([f"no login in {settings.login_secret_arn}"])
    connection, refused = None, []
    for login in logins:
        try:
            connection = connector(host, port, login, settings, timeout)
            break
        except Exception as error:
            if _sql_state(error) not in AUTHENTICATION_FAILED:
                return SchemaReport([f"cannot log in to {host}:{port}: {type(error).__name__}"])
            refused.append(str(login.get("username")))
    if connection is None:
        return SchemaReport([f"the copy refused the API's logins {refused}"])
    try:
        # Nothing this check does can change the copy, whatever the login may do.
        connection.run("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        connection.run("SET statement_timeout = 10000")
        tables = sorted(str(row[0]) for row in connection.run(_USER_TABLES))
        problems: list[str] = []
        if settings.expected_tables:
            missing = sorted(set(settings.expected_tables) - set(tables))
            if missing:
                problems.append(f"tables {missing} are missing")
        elif not tables:
            problems.append("the restored database has no user tables")
        counted = [t for t in settings.expected_tables if t in tables]
        rows = {t: int(_count(connection, t)) for t in counted}
        summary = f"{len(tables)} user tables" + (f", rows {rows}" if rows else "")
        return SchemaReport(problems, summary)
    finally:
        connection.close()


def _count(connection: Any, table: str) -> int:
    from pg8000.native import identifier

    schema, name = table.split(".", 1)
    # Both parts quoted as identifiers; the names come from config, checked as schema.table.
    query = f"SELECT count(*) FROM {identifier(schema)}.{identifier(name)}"  # noqa: S608  # nosec B608
    return int(connection.run(query)[0][0])


def _major(version: str) -> str:
    return version.split(".", 1)[0]


def validate(
    rds: Any,
    restored_id: str,
    source_id: str,
    settings: Settings,
    *,
    secrets: Any = None,
    **waiting: Any,
) -> Verdict:
    restored = wait_until_available(rds, restored_id, settings, **waiting)
    if restored is None:
        return Verdict(TIMED_OUT, f"{restored_id} was not available within {settings.available_deadline_seconds:.0f} s")
    source = _describe(rds, source_id)
    problems: list[str] = []
    if not restored.get("StorageEncrypted"):
        problems.append("storage is not encrypted")
    restored_engine = f"{restored.get('Engine')} {restored.get('EngineVersion')}"
    source_engine = f"{source.get('Engine')} {source.get('EngineVersion')}"
    # A minor-version difference is expected: RDS upgrades the source after a snapshot is taken.
    if restored.get("Engine") != source.get("Engine") or _major(str(restored.get("EngineVersion"))) != _major(
        str(source.get("EngineVersion"))
    ):
        problems.append(f"engine {restored_engine} differs from the source's {source_engine}")
    groups = sorted(g["DBParameterGroupName"] for g in restored.get("DBParameterGroups", []))
    if settings.expected_parameter_group not in groups:
        problems.append(f"parameter groups {groups} lack {settings.expected_parameter_group}")
    endpoint = restored.get("Endpoint") or {}
    host, port = endpoint.get("Address"), endpoint.get("Port")
    schema = SchemaReport()
    if not host or not port or not probe(str(host), int(port), settings.connect_timeout_seconds):
        problems.append(f"endpoint {host}:{port} is not reachable")
    else:
        schema = check_schema(str(host), int(port), settings, secrets=secrets, timeout=settings.connect_timeout_seconds)
        problems.extend(schema.problems)
    if problems:
        return Verdict(FAILED, "; ".join(problems))
    return Verdict(
        SUCCESSFUL,
        f"{restored_id}: available, encrypted, {restored_engine}, {settings.expected_parameter_group}, "
        f"reachable, {schema.summary}",
    )


def _post(backup: Any, job_id: str, verdict: Verdict) -> None:
    backup.put_restore_validation_result(
        RestoreJobId=job_id, ValidationStatus=verdict.status, ValidationStatusMessage=verdict.message[:1000]
    )


def _emit(verdict: Verdict) -> None:
    metrics.add_metric(
        name=SUCCEEDED_METRIC if verdict.status == SUCCESSFUL else FAILED_METRIC, unit=MetricUnit.Count, value=1
    )


def run(
    event: Mapping[str, Any],
    *,
    backup: Any,
    rds: Any,
    settings: Settings | None = None,
    secrets: Any = None,
    settings_error: Exception | None = None,
    **waiting: Any,
) -> dict[str, str]:
    """Judge one restore job. Once it is a completed restore test, every path ends with a verdict and a metric."""
    detail = event.get("detail") if isinstance(event, Mapping) else None
    if not isinstance(detail, Mapping) or not detail.get("restoreJobId"):
        # No job to report on: fail the invocation (EventBridge retries, then the DLQ alarm).
        raise ValueError(f"not a Restore Job State Change event: {event!r}"[:500])
    job_id = str(detail["restoreJobId"])
    completed_event = detail.get("status") == "COMPLETED"
    job: Mapping[str, Any] = {}
    try:
        job = backup.describe_restore_job(RestoreJobId=job_id)
        if not (job.get("CreatedBy") or {}).get("RestoreTestingPlanArn"):
            logger.info("not a restore test, ignored", extra={"restore_job_id": job_id})
            return {"restoreJobId": job_id, "status": "IGNORED", "message": "not created by a restore testing plan"}
        if job.get("ValidationStatus") in VERDICTS:
            # A retried or duplicate delivery: AWS Backup has this job's verdict and the alarm its metric.
            logger.info("already validated", extra={"restore_job_id": job_id, "status": job["ValidationStatus"]})
            return {"restoreJobId": job_id, "status": "ALREADY_REPORTED", "message": str(job["ValidationStatus"])}
        if job.get("Status") != "COMPLETED":
            # AWS Backup takes validation results for completed jobs only; the alarm still hears of it.
            verdict = Verdict(FAILED, f"restore job {job.get('Status')}: {job.get('StatusMessage', 'no message')}")
            _emit(verdict)
            logger.error("restore job failed", extra={"restore_job_id": job_id, "detail": verdict.message})
            return {"restoreJobId": job_id, "status": verdict.status, "message": verdict.message}
        if settings is None:
            raise settings_error or ValueError("no settings")
        verdict = validate(
            rds,
            db_instance_id(str(job["CreatedResourceArn"])),
            db_instance_id(str(job["SourceResourceArn"])),
            settings,
            secrets=secrets,
            **waiting,
        )
    except Exception as error:
        if not (completed_event or job.get("Status") == "COMPLETED"):
            raise
        logger.exception("restore validation crashed", extra={"restore_job_id": job_id})
        verdict = Verdict(FAILED, f"validation crashed: {type(error).__name__}: {error}")
    try:
        _post(backup, job_id, verdict)
    finally:
        # The metric goes out even when AWS Backup refuses the verdict: the alarm must hear it.
        _emit(verdict)
    log = logger.info if verdict.status == SUCCESSFUL else logger.error
    log("restore validation", extra={"restore_job_id": job_id, "status": verdict.status, "detail": verdict.message})
    return {"restoreJobId": job_id, "status": verdict.status, "message": verdict.message}


def _time_left(context: Any) -> Callable[[], float]:
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        return lambda: float(context.get_remaining_time_in_millis()) / 1000
    return lambda: float("inf")


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    settings: Settings | None = None
    settings_error: Exception | None = None
    try:
        settings = Settings.from_environment()
        # Stop waiting for the copy in time to post the verdict before the Lambda's own timeout.
        left = _time_left(context)() - REPORT_RESERVE_SECONDS
        if left < settings.available_deadline_seconds:
            settings = Settings(**{**settings.__dict__, "available_deadline_seconds": max(left, 0.0)})
    except Exception as error:  # judged inside run: a completed restore test still gets FAILED
        settings_error = error
    return run(
        event,
        backup=boto3.client("backup"),
        rds=boto3.client("rds"),
        secrets=boto3.client("secretsmanager"),
        settings=settings,
        settings_error=settings_error,
    )
