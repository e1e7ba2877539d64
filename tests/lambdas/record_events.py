"""Real EventBridge event shapes for the deployment-record tests, and a CodePipeline client that answers in any order.

Shapes: CodePipeline stage and action execution state changes and CodeDeploy deployment state-change
notifications as AWS documents them; the deploy hook's results as `publish_results` sends them.
"""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore.validate import validate_parameters

from cashtrace_constructs.release_manifest import ReleaseManifest

PIPELINE_ACCOUNT = "444444444444"
STAGING_ACCOUNT = "222222222222"
PROD_ACCOUNT = "333333333333"
EXECUTION = "7d3c5f0e-1111-4a7e-9c2b-5f1e2d3c4b5a"
RELEASE = ReleaseManifest(
    repository="cashtrace/api",
    digest="sha256:" + "ab" * 32,
    commit_sha="0123456789abcdef0123456789abcdef01234567",  # pragma: allowlist secret
    built_at="2026-11-28T02:55:00Z",
)
SOURCE_VERSION = "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd"  # pragma: allowlist secret
TRIGGER = "arn:aws:events:af-south-1:444444444444:rule/SourceUploaded"
APPROVER = "arn:aws:sts::444444444444:assumed-role/Release/ada"


def pipeline_event(kind: str, time: str, **detail: Any) -> dict[str, Any]:
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


def stage(name: str, state: str, time: str) -> dict[str, Any]:
    return pipeline_event("Stage", time, stage=name, state=state, **{"pipeline-execution-attempt": 1.0})


def approval(state: str, time: str) -> dict[str, Any]:
    return pipeline_event(
        "Action",
        time,
        stage="Approval",
        action="Approve",
        state=state,
        region="af-south-1",
        type={"owner": "AWS", "provider": "Manual", "category": "Approval", "version": "1"},
    )


def live_tests(stage_name: str, state: str, time: str, *, action: str | None = None) -> dict[str, Any]:
    """A stage's live test action (a CodeBuild action of CDK Pipelines: category Build)."""
    return pipeline_event(
        "Action",
        time,
        stage=stage_name,
        action=action or ("IntegrationTests" if stage_name == "Staging" else "SmokeTests"),
        state=state,
        region="af-south-1",
        type={"owner": "AWS", "provider": "CodeBuild", "category": "Build", "version": "1"},
    )


def codedeploy(account: str, deployment_id: str, state: str, time: str) -> dict[str, Any]:
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


def health_check(time: str, *, healthy: bool = True, latency: float = 12.5) -> dict[str, Any]:
    return {
        "timestamp": time,
        "endpoint": "http://api.internal:9443/health",
        "status": 200 if healthy else 503,
        "latency": latency,
        "healthy": healthy,
        "error": None,
    }


def health(
    account: str, deployment_id: str, time: str, *, checks: int = 3, release: ReleaseManifest = RELEASE
) -> dict[str, Any]:
    """What the hook publishes after its verdict (lambdas/deployment_health_check: publish_results)."""
    return {
        "version": "0",
        "id": "5b1c1a7e-0000-4d5e-8f90-123456789abc",
        "detail-type": "CashTrace Deployment Health Checks",
        "source": "cashtrace.deployment-health",
        "account": account,
        "time": time,
        "region": "af-south-1",
        "resources": [],
        "detail": {
            "deploymentId": deployment_id,
            "status": "Succeeded",
            "description": f"api commit={release.commit_sha} digest={release.digest}",
            "healthChecks": [health_check(time, latency=10.0 + n) for n in range(checks)],
        },
    }


class CodePipelineAnswers:
    """GetPipelineExecution and ListActionExecutions, answered whatever the order of the events.

    botocore's Stubber answers in a fixed order; events here arrive in every order. Each request
    is still checked against CodePipeline's API model, as the Stubber would.
    """

    def __init__(self, revision_summary: str | None = RELEASE.revision_summary()) -> None:
        self.model = botocore.session.get_session().get_service_model("codepipeline")
        self.revision_summary = revision_summary
        self.calls: list[str] = []

    def _checked(self, operation: str, params: dict[str, Any]) -> None:
        validate_parameters(params, self.model.operation_model(operation).input_shape)
        self.calls.append(operation)

    def get_pipeline_execution(self, **params: Any) -> dict[str, Any]:
        self._checked("GetPipelineExecution", params)
        assert params == {"pipelineName": "CashTrace", "pipelineExecutionId": EXECUTION}
        revision: dict[str, Any] = {"name": "Source", "revisionId": SOURCE_VERSION}
        if self.revision_summary is not None:
            revision["revisionSummary"] = self.revision_summary
        return {
            "pipelineExecution": {
                "pipelineName": "CashTrace",
                "pipelineExecutionId": EXECUTION,
                "status": "InProgress",
                "artifactRevisions": [revision],
                "trigger": {"triggerType": "CloudWatchEvent", "triggerDetail": TRIGGER},
            }
        }

    def list_action_executions(self, **params: Any) -> dict[str, Any]:
        self._checked("ListActionExecutions", params)
        return {
            "actionExecutionDetails": [
                {"stageName": "Staging", "actionName": "IntegrationTests", "updatedBy": "codebuild"},
                {"stageName": "Approval", "actionName": "Approve", "updatedBy": APPROVER},
            ]
        }


def create_record_table(dynamodb: Any, name: str = "deployments") -> Any:
    """The deployment record's table as cashtrace_constructs/deployment_record.py defines it (in moto)."""
    return dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": key, "AttributeType": "S"} for key in ("id", "environment", "startedAt")
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
