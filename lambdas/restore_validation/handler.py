"""Checks a database copy that an AWS Backup restore test created and reports the verdict (Property 8).

Triggered by EventBridge on "Restore Job State Change". A copy passes when it is available,
encrypted, runs the source's engine and major version, carries the expected parameter group
and accepts TCP connections on its endpoint. The verdict goes to AWS Backup
(PutRestoreValidationResult) and to CloudWatch as RestoreValidationSucceeded/Failed, which
the missing- and failed-restore alarms watch.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Settings:
    expected_parameter_group: str
    available_deadline_seconds: float = 240.0
    poll_seconds: float = 15.0
    connect_timeout_seconds: float = 5.0

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        return cls(
            expected_parameter_group=environ["EXPECTED_PARAMETER_GROUP"],
            available_deadline_seconds=float(environ.get("AVAILABLE_DEADLINE_SECONDS", "240")),
            poll_seconds=float(environ.get("POLL_SECONDS", "15")),
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


def _major(version: str) -> str:
    return version.split(".", 1)[0]


def validate(rds: Any, restored_id: str, source_id: str, settings: Settings, **waiting: Any) -> Verdict:
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
    if not host or not port or not probe(str(host), int(port), settings.connect_timeout_seconds):
        problems.append(f"endpoint {host}:{port} is not reachable")
    if problems:
        return Verdict(FAILED, "; ".join(problems))
    return Verdict(
        SUCCESSFUL,
        f"{restored_id}: available, encrypted, {restored_engine}, {settings.expected_parameter_group}, reachable",
    )


def run(event: Mapping[str, Any], *, backup: Any, rds: Any, settings: Settings, **waiting: Any) -> dict[str, str]:
    detail = event.get("detail") or {}
    job_id = str(detail["restoreJobId"])
    job = backup.describe_restore_job(RestoreJobId=job_id)
    if not (job.get("CreatedBy") or {}).get("RestoreTestingPlanArn"):
        logger.info("not a restore test, ignored", extra={"restore_job_id": job_id})
        return {"restoreJobId": job_id, "status": "IGNORED", "message": "not created by a restore testing plan"}
    if job.get("Status") != "COMPLETED":
        # AWS Backup takes validation results for completed jobs only; the alarm still hears of it.
        verdict = Verdict(FAILED, f"restore job {job.get('Status')}: {job.get('StatusMessage', 'no message')}")
    else:
        verdict = validate(
            rds,
            db_instance_id(str(job["CreatedResourceArn"])),
            db_instance_id(str(job["SourceResourceArn"])),
            settings,
            **waiting,
        )
        backup.put_restore_validation_result(
            RestoreJobId=job_id, ValidationStatus=verdict.status, ValidationStatusMessage=verdict.message[:1000]
        )
    metrics.add_metric(
        name=SUCCEEDED_METRIC if verdict.status == SUCCESSFUL else FAILED_METRIC, unit=MetricUnit.Count, value=1
    )
    log = logger.info if verdict.status == SUCCESSFUL else logger.error
    log("restore validation", extra={"restore_job_id": job_id, "status": verdict.status, "detail": verdict.message})
    return {"restoreJobId": job_id, "status": verdict.status, "message": verdict.message}


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    return run(event, backup=boto3.client("backup"), rds=boto3.client("rds"), settings=Settings.from_environment())
