"""The deployment-record function against moto DynamoDB, with CodePipeline answers checked by Stubber."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from lambdas.deployment_record.handler import DeploymentLog, handle

PIPELINE_ACCOUNT = "444444444444"
STAGING_ACCOUNT = "222222222222"
PROD_ACCOUNT = "333333333333"
EXECUTION = "7d3c5f0e-1111-4a7e-9c2b-5f1e2d3c4b5a"
SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[DeploymentLog, Stubber]]:
    monkeypatch.setenv("STAGE_ENVIRONMENTS", json.dumps({"Staging": "staging", "Prod": "prod"}))
    monkeypatch.setenv("APPROVAL_ENVIRONMENTS", json.dumps({"Approval": "prod"}))
    monkeypatch.setenv("ENVIRONMENT_ACCOUNTS", json.dumps({STAGING_ACCOUNT: "staging", PROD_ACCOUNT: "prod"}))
    monkeypatch.setenv("ENVIRONMENT_STRATEGIES", json.dumps({"staging": "canary", "prod": "canary"}))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "test")
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="af-south-1")
        table = dynamodb.create_table(
            TableName="deployments",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "id", "AttributeType": "S"},
                {"AttributeName": "environment", "AttributeType": "S"},
                {"AttributeName": "startedAt", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "byEnvironment",
                    "KeySchema": [
                        {"AttributeName": "environment", "KeyType": "HASH"},
                        {"AttributeName": "startedAt", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        codepipeline = boto3.client("codepipeline", region_name="af-south-1")
        with Stubber(codepipeline) as stub:
            yield DeploymentLog(table, codepipeline), stub


def _pipeline_event(kind: str, time: str, **detail: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "0f5e7c1a-2b3c-4d5e-8f90-123456789abc",
        "detail-type": f"CodePipeline {kind} Execution State Change",
        "source": "aws.codepipeline",
        "account": PIPELINE_ACCOUNT,
        "time": time,
        "region": "af-south-1",
        "resources": [f"arn:aws:codepipeline:af-south-1:{PIPELINE_ACCOUNT}:CashTrace"],
        "detail": {"pipeline": "CashTrace", "execution-id": EXECUTION, "version": 3.0, **detail},
    }


def _stage(stage: str, state: str, time: str) -> dict[str, Any]:
    return _pipeline_event("Stage", time, stage=stage, state=state, **{"pipeline-execution-attempt": 1.0})


def _approval(state: str, time: str) -> dict[str, Any]:
    return _pipeline_event(
        "Action",
        time,
        stage="Approval",
        action="Approve",
        state=state,
        region="af-south-1",
        type={"owner": "AWS", "provider": "Manual", "category": "Approval", "version": "1"},
    )


def _codedeploy(account: str, deployment_id: str, state: str, time: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "c071bfbf-83c4-49ca-a6ff-3df053957145",
        "detail-type": "CodeDeploy Deployment State-change Notification",
        "source": "aws.codedeploy",
        "account": account,
        "time": time,
        "region": "af-south-1",
        "resources": [
            f"arn:aws:codedeploy:af-south-1:{account}:application:cashtrace-api",
            f"arn:aws:codedeploy:af-south-1:{account}:deploymentgroup:cashtrace-api/api",
        ],
        "detail": {
            "instanceGroupId": "9fd2fbef-2157-40d8-91e7-6845af69e2d2",
            "region": "af-south-1",
            "application": "cashtrace-api",
            "deploymentId": deployment_id,
            "state": state,
            "deploymentGroup": "api",
        },
    }


def _expect_execution(stub: Stubber) -> None:
    stub.add_response(
        "get_pipeline_execution",
        {
            "pipelineExecution": {
                "pipelineName": "CashTrace",
                "pipelineExecutionId": EXECUTION,
                "status": "InProgress",
                "artifactRevisions": [
                    {"name": "Source", "revisionId": "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd", "revisionSummary": f"main@{SHA}"}
                ],
                "trigger": {
                    "triggerType": "CloudWatchEvent",
                    "triggerDetail": "arn:aws:events:af-south-1:444444444444:rule/x",
                },
            }
        },
        {"pipelineName": "CashTrace", "pipelineExecutionId": EXECUTION},
    )


def _item(log: DeploymentLog, deployment_id: str) -> dict[str, Any]:
    item: dict[str, Any] = log.table.get_item(Key={"id": deployment_id})["Item"]
    return item


def test_a_staging_stage_becomes_a_deployment_with_its_release(log: tuple[DeploymentLog, Stubber]) -> None:
    deployments, stub = log
    _expect_execution(stub)
    deployment_id = handle(_stage("Staging", "STARTED", "2026-11-28T03:00:00Z"), deployments)
    assert deployment_id == f"{EXECUTION}:staging"
    handle(_stage("Staging", "SUCCEEDED", "2026-11-28T03:12:00Z"), deployments)
    item = _item(deployments, deployment_id)
    assert item == {
        "id": f"{EXECUTION}:staging",
        "environment": "staging",
        "version": "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd",
        "commitSha": SHA,
        "status": "succeeded",
        "strategy": "canary",
        "startedAt": "2026-11-28T03:00:00Z",
        "completedAt": "2026-11-28T03:12:00Z",
        "initiatedBy": "arn:aws:events:af-south-1:444444444444:rule/x",
        "healthChecks": [],
    }


def test_a_late_started_event_never_reopens_a_finished_deployment(log: tuple[DeploymentLog, Stubber]) -> None:
    deployments, stub = log
    handle(_stage("Staging", "FAILED", "2026-11-28T03:05:00Z"), deployments)
    _expect_execution(stub)
    handle(_stage("Staging", "STARTED", "2026-11-28T03:00:00Z"), deployments)
    item = _item(deployments, f"{EXECUTION}:staging")
    assert item["status"] == "failed" and item["completedAt"] == "2026-11-28T03:05:00Z"


def test_prod_waits_pending_for_approval_and_records_the_approver(log: tuple[DeploymentLog, Stubber]) -> None:
    deployments, stub = log
    _expect_execution(stub)
    handle(_approval("STARTED", "2026-11-28T03:13:00Z"), deployments)
    assert _item(deployments, f"{EXECUTION}:prod")["status"] == "pending"
    stub.add_response(
        "list_action_executions",
        {
            "actionExecutionDetails": [
                {"stageName": "Staging", "actionName": "IntegrationTests", "updatedBy": "codebuild"},
                {
                    "stageName": "Approval",
                    "actionName": "Approve",
                    "updatedBy": "arn:aws:sts::444444444444:assumed-role/Release/ada",
                },
            ]
        },
        {"pipelineName": "CashTrace", "filter": {"pipelineExecutionId": EXECUTION}},
    )
    handle(_approval("SUCCEEDED", "2026-11-28T03:40:00Z"), deployments)
    _expect_execution(stub)
    handle(_stage("Prod", "STARTED", "2026-11-28T03:40:05Z"), deployments)
    item = _item(deployments, f"{EXECUTION}:prod")
    assert item["status"] == "in_progress"
    assert item["approvedBy"] == "arn:aws:sts::444444444444:assumed-role/Release/ada"
    assert item["startedAt"] == "2026-11-28T03:13:00Z"


def test_a_rejected_approval_fails_the_prod_deployment(log: tuple[DeploymentLog, Stubber]) -> None:
    deployments, _ = log
    handle(_approval("FAILED", "2026-11-28T03:20:00Z"), deployments)
    assert _item(deployments, f"{EXECUTION}:prod")["status"] == "failed"


def test_stages_that_deploy_no_environment_and_other_events_are_ignored(log: tuple[DeploymentLog, Stubber]) -> None:
    deployments, _ = log
    assert handle(_stage("Build", "STARTED", "2026-11-28T03:00:00Z"), deployments) is None
    assert handle(_stage("Staging", "STOPPING", "2026-11-28T03:00:00Z"), deployments) is None
    assert handle({"detail-type": "Something Else", "detail": {}}, deployments) is None
    assert handle(_codedeploy("999999999999", "d-UNKNOWN01", "START", "2026-11-28T03:00:00Z"), deployments) is None
    assert deployments.table.scan()["Items"] == []


def test_codedeploy_rollouts_are_recorded_per_environment_account(log: tuple[DeploymentLog, Stubber]) -> None:
    deployments, _ = log
    handle(_codedeploy(PROD_ACCOUNT, "d-ABCDEF123", "START", "2026-11-28T03:41:00Z"), deployments)
    handle(_codedeploy(PROD_ACCOUNT, "d-ABCDEF123", "READY", "2026-11-28T03:44:00Z"), deployments)
    assert _item(deployments, "d-ABCDEF123")["status"] == "in_progress"
    handle(_codedeploy(PROD_ACCOUNT, "d-ABCDEF123", "SUCCESS", "2026-11-28T03:46:00Z"), deployments)
    item = _item(deployments, "d-ABCDEF123")
    assert (item["environment"], item["status"], item["strategy"]) == ("prod", "succeeded", "canary")
    assert item["completedAt"] == "2026-11-28T03:46:00Z" and "rollbackOf" not in item


def test_an_automatic_rollback_links_to_and_marks_the_failed_deployment(log: tuple[DeploymentLog, Stubber]) -> None:
    deployments, _ = log
    handle(_codedeploy(PROD_ACCOUNT, "d-FAILED0001", "START", "2026-11-28T03:41:00Z"), deployments)
    handle(_codedeploy(PROD_ACCOUNT, "d-FAILED0001", "FAILURE", "2026-11-28T03:45:00Z"), deployments)
    handle(_codedeploy(PROD_ACCOUNT, "d-ROLLBACK01", "START", "2026-11-28T03:45:20Z"), deployments)
    handle(_codedeploy(PROD_ACCOUNT, "d-ROLLBACK01", "SUCCESS", "2026-11-28T03:48:00Z"), deployments)
    assert _item(deployments, "d-ROLLBACK01")["rollbackOf"] == "d-FAILED0001"
    assert _item(deployments, "d-FAILED0001")["status"] == "rolled_back"


def test_a_new_deployment_long_after_a_failure_is_not_a_rollback(log: tuple[DeploymentLog, Stubber]) -> None:
    deployments, _ = log
    handle(_codedeploy(STAGING_ACCOUNT, "d-FAILED0002", "START", "2026-11-28T01:00:00Z"), deployments)
    handle(_codedeploy(STAGING_ACCOUNT, "d-FAILED0002", "FAILURE", "2026-11-28T01:05:00Z"), deployments)
    handle(_codedeploy(STAGING_ACCOUNT, "d-NEXTFIX01", "START", "2026-11-28T03:00:00Z"), deployments)
    assert "rollbackOf" not in _item(deployments, "d-NEXTFIX01")
    assert _item(deployments, "d-FAILED0002")["status"] == "failed"
