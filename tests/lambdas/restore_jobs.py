"""A restore test as the validator's tests describe it: the job, its event, the instances RDS holds."""

from __future__ import annotations

from typing import Any

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
