"""Writes CodePipeline stage/approval and CodeDeploy state changes as the design's Deployment records.

One item per deployment: `<pipeline execution>:<environment>` for pipeline stages, the CodeDeploy
deployment id for blue-green rollouts. Events may arrive out of order; a late "started" never
reopens a finished deployment.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

STAGE_STATE_CHANGE = "CodePipeline Stage Execution State Change"
ACTION_STATE_CHANGE = "CodePipeline Action Execution State Change"
CODEDEPLOY_STATE_CHANGE = "CodeDeploy Deployment State-change Notification"

OPEN = ("pending", "in_progress")
STAGE_STATUS = {
    "STARTED": "in_progress",
    "RESUMED": "in_progress",
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "CANCELED": "failed",
    "STOPPED": "failed",
}
CODEDEPLOY_STATUS = {
    "START": "in_progress",
    # Blue-green: the green tasks are up and wait for traffic to be shifted.
    "READY": "in_progress",
    "SUCCESS": "succeeded",
    "FAILURE": "failed",
    "STOP": "failed",
}
# CodeDeploy starts its automatic rollback right after the failure; a deployment of the same
# group starting this soon after a failure is that rollback (Property 5 allows 300 s in all).
ROLLBACK_WINDOW_SECONDS = 300
_SHA_RE = re.compile(r"\b[0-9a-f]{40}\b")


def _config(name: str) -> dict[str, str]:
    value: dict[str, str] = json.loads(os.environ.get(name, "{}"))
    return value


class DeploymentLog:
    """The Deployment table and the calls that fill in what events leave out."""

    def __init__(self, table: Any, codepipeline: Any) -> None:
        self.table = table
        self.codepipeline = codepipeline
        self.stage_environments = _config("STAGE_ENVIRONMENTS")
        self.approval_environments = _config("APPROVAL_ENVIRONMENTS")
        self.environment_accounts = _config("ENVIRONMENT_ACCOUNTS")
        self.strategies = _config("ENVIRONMENT_STRATEGIES")

    # ---- writing ----

    def record(
        self, deployment_id: str, *, status: str | None, created: Mapping[str, Any], updated: Mapping[str, Any]
    ) -> None:
        """Create-or-update one Deployment; a finished one is never reopened by a late event."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets: list[str] = []
        for index, (key, value) in enumerate(created.items()):
            names[f"#c{index}"] = key
            values[f":c{index}"] = value
            sets.append(f"#c{index} = if_not_exists(#c{index}, :c{index})")
        for index, (key, value) in enumerate(updated.items()):
            names[f"#u{index}"] = key
            values[f":u{index}"] = value
            sets.append(f"#u{index} = :u{index}")
        condition = None
        if status is not None:
            names["#status"] = "status"
            values[":status"] = status
            sets.append("#status = :status")
            if status in OPEN:
                values[":pending"], values[":in_progress"] = OPEN
                condition = "attribute_not_exists(#status) OR #status IN (:pending, :in_progress)"
        arguments: dict[str, Any] = {
            "Key": {"id": deployment_id},
            "UpdateExpression": "SET " + ", ".join(sets),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if condition:
            arguments["ConditionExpression"] = condition
        try:
            self.table.update_item(**arguments)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def _base(self, environment: str, started_at: str) -> dict[str, Any]:
        return {
            "environment": environment,
            "startedAt": started_at,
            "strategy": self.strategies.get(environment, "unknown"),
            "healthChecks": [],
        }

    # ---- CodePipeline ----

    def _release(self, pipeline: str, execution_id: str) -> dict[str, str]:
        """Version, commit and initiator of one pipeline execution (events carry none of them)."""
        execution = self.codepipeline.get_pipeline_execution(pipelineName=pipeline, pipelineExecutionId=execution_id)[
            "pipelineExecution"
        ]
        revisions = execution.get("artifactRevisions") or [{}]
        source = revisions[0]
        sha = _SHA_RE.search(source.get("revisionSummary") or "")
        trigger = execution.get("trigger") or {}
        return {
            # The S3 object version of the source zip identifies the release the pipeline carries.
            "version": str(source.get("revisionId") or execution_id),
            "commitSha": sha.group(0) if sha else "",
            "initiatedBy": str(trigger.get("triggerDetail") or trigger.get("triggerType") or "unknown"),
        }

    def stage_changed(self, event: Mapping[str, Any]) -> str | None:
        detail = event["detail"]
        environment = self.stage_environments.get(detail.get("stage", ""))
        status = STAGE_STATUS.get(detail.get("state", ""))
        if environment is None or status is None:
            return None
        deployment_id = f"{detail['execution-id']}:{environment}"
        created = self._base(environment, event["time"])
        if detail["state"] == "STARTED":
            created |= self._release(detail["pipeline"], detail["execution-id"])
        updated = {"completedAt": event["time"]} if status not in OPEN else {}
        self.record(deployment_id, status=status, created=created, updated=updated)
        return deployment_id

    def approval_changed(self, event: Mapping[str, Any]) -> str | None:
        detail = event["detail"]
        environment = self.approval_environments.get(detail.get("stage", ""))
        if environment is None or (detail.get("type") or {}).get("category") != "Approval":
            return None
        deployment_id = f"{detail['execution-id']}:{environment}"
        created = self._base(environment, event["time"])
        state = detail.get("state")
        if state == "STARTED":
            created |= self._release(detail["pipeline"], detail["execution-id"])
            self.record(deployment_id, status="pending", created=created, updated={})
        elif state == "SUCCEEDED":
            approver = self._approver(detail)
            self.record(deployment_id, status=None, created=created, updated={"approvedBy": approver})
        elif state in ("FAILED", "CANCELED", "ABANDONED"):
            # A rejected approval ends the prod deployment before it starts.
            self.record(deployment_id, status="failed", created=created, updated={"completedAt": event["time"]})
        else:
            return None
        return deployment_id

    def _approver(self, detail: Mapping[str, Any]) -> str:
        response = self.codepipeline.list_action_executions(
            pipelineName=detail["pipeline"], filter={"pipelineExecutionId": detail["execution-id"]}
        )
        for action in response.get("actionExecutionDetails") or []:
            if action.get("stageName") == detail["stage"] and action.get("actionName") == detail["action"]:
                return str(action.get("updatedBy") or "unknown")
        return "unknown"

    # ---- CodeDeploy ----

    def codedeploy_changed(self, event: Mapping[str, Any]) -> str | None:
        detail = event["detail"]
        environment = self.environment_accounts.get(event.get("account", ""))
        status = CODEDEPLOY_STATUS.get(detail.get("state", ""))
        if environment is None or status is None:
            return None
        deployment_id = str(detail["deploymentId"])
        group = f"{detail.get('application')}/{detail.get('deploymentGroup')}"
        created = self._base(environment, event["time"]) | {
            "deploymentGroup": group,
            "version": deployment_id,
            "commitSha": "",
            "initiatedBy": f"codedeploy:{group}",
        }
        updated: dict[str, Any] = {"completedAt": event["time"]} if status not in OPEN else {}
        if detail["state"] == "START":
            rolled_back = self._failed_just_before(environment, group, event["time"], deployment_id)
            if rolled_back:
                created["rollbackOf"] = rolled_back
        self.record(deployment_id, status=status, created=created, updated=updated)
        if status == "succeeded":
            item = self.table.get_item(Key={"id": deployment_id}).get("Item") or {}
            if item.get("rollbackOf"):
                self.record(str(item["rollbackOf"]), status="rolled_back", created={}, updated={})
        return deployment_id

    def _failed_just_before(self, environment: str, group: str, started_at: str, deployment_id: str) -> str | None:
        start = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
        recent = self.table.query(
            IndexName="byEnvironment",
            KeyConditionExpression="#e = :e AND #s <= :s",
            ExpressionAttributeNames={"#e": "environment", "#s": "startedAt"},
            ExpressionAttributeValues={":e": environment, ":s": started_at},
            ScanIndexForward=False,
            Limit=20,
        ).get("Items", [])
        for item in recent:
            if item.get("deploymentGroup") != group or item["id"] == deployment_id:
                continue
            completed = item.get("completedAt")
            if item.get("status") == "failed" and completed:
                ended = datetime.fromisoformat(str(completed).replace("Z", "+00:00"))
                if 0 <= (start - ended).total_seconds() <= ROLLBACK_WINDOW_SECONDS:
                    return str(item["id"])
            return None
        return None


def handle(event: Mapping[str, Any], log: DeploymentLog) -> str | None:
    kind = event.get("detail-type")
    if kind == STAGE_STATE_CHANGE:
        return log.stage_changed(event)
    if kind == ACTION_STATE_CHANGE:
        return log.approval_changed(event)
    if kind == CODEDEPLOY_STATE_CHANGE:
        return log.codedeploy_changed(event)
    return None


_log: DeploymentLog | None = None


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    global _log
    if _log is None:
        _log = DeploymentLog(boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"]), boto3.client("codepipeline"))
    return {"deploymentId": handle(event, _log)}
