"""Writes CodePipeline stage/approval, CodeDeploy and deploy-hook events as the design's Deployment records.

Items: `<pipeline execution>:<environment>` for a release the pipeline deploys (with the outcome of
its stage's live tests, `tests`), the CodeDeploy deployment id for each blue-green rollout, and
`promotion-gate-<request>` for each decision of a production stack's promotion gate (`kind`).
EventBridge does not guarantee order, so every write is order-safe: the status is the one of the
latest event (time, then rank: a late "started" never reopens a finished deployment), `startedAt`
the earliest event, release fields are set by every event that knows them, and links between items
(rollback, health checks) are tried from both sides.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import boto3
from botocore.exceptions import ClientError

STAGE_STATE_CHANGE = "CodePipeline Stage Execution State Change"
ACTION_STATE_CHANGE = "CodePipeline Action Execution State Change"
CODEDEPLOY_STATE_CHANGE = "CodeDeploy Deployment State-change Notification"
# Published by the deploy hook (lambdas/deployment_health_check) in the environment account.
HEALTH_CHECKS = "CashTrace Deployment Health Checks"
# Published by a production stack's promotion gate (lambdas/promotion_gate) in the environment account.
GATE_DECISION = "CashTrace Promotion Gate Decision"
GATE_KIND = "promotion-gate"

OPEN = ("pending", "in_progress")
# Same time: the further state wins; rolled_back is set by the rollback's own success, later still.
RANK = {"pending": 0, "in_progress": 1, "succeeded": 2, "failed": 2, "rolled_back": 3}
STAGE_STATUS = {
    "STARTED": "in_progress",
    "RESUMED": "in_progress",
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "CANCELED": "failed",
    "STOPPED": "failed",
}
APPROVAL_STATUS = {"STARTED": "pending", "FAILED": "failed", "CANCELED": "failed", "ABANDONED": "failed"}
# A stage's live test action (IntegrationTests, SmokeTests); a retried action runs again.
TEST_STATUS = {
    "STARTED": "running",
    "SUCCEEDED": "passed",
    "FAILED": "failed",
    "CANCELED": "failed",
    "ABANDONED": "failed",
}
TEST_RANK = {"running": 0, "passed": 1, "failed": 1}
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
# `commit=<sha> digest=<digest>`: the S3 source's revision summary (ReleaseManifest.revision_summary,
# set by release.yml) and the CodeDeploy deployment's description (set by the EcsDeployment).
_RELEASE_RE = re.compile(r"\bcommit=(?P<commit>[0-9a-f]{40}|unknown)\b.*?\bdigest=(?P<digest>sha256:[0-9a-f]{64})\b")


def release_of(text: str | None) -> dict[str, str]:
    """commitSha and imageDigest named in a revision summary or deployment description ({} when none)."""
    match = _RELEASE_RE.search(text or "")
    if not match:
        return {}
    commit = match.group("commit")
    return {"commitSha": "" if commit == "unknown" else commit, "imageDigest": match.group("digest")}


def _config(name: str) -> dict[str, str]:
    value: dict[str, str] = json.loads(os.environ.get(name, "{}"))
    return value


def _seconds(time: str) -> float:
    return datetime.fromisoformat(time.replace("Z", "+00:00")).timestamp()


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _dynamodb(value: Any) -> Any:
    # The resource API refuses floats (latency) and returns Decimals; both become Decimals again.
    return json.loads(json.dumps(value, default=_number), parse_float=Decimal)


class DeploymentLog:
    """The Deployment table and the calls that fill in what events leave out."""

    def __init__(self, table: Any, codepipeline: Any) -> None:
        self.table = table
        self.codepipeline = codepipeline
        self.stage_environments = _config("STAGE_ENVIRONMENTS")
        self.approval_environments = _config("APPROVAL_ENVIRONMENTS")
        # Pipeline stage name -> the name of its live test action.
        self.test_actions = _config("TEST_ACTIONS")
        self.environment_accounts = _config("ENVIRONMENT_ACCOUNTS")
        self.strategies = _config("ENVIRONMENT_STRATEGIES")

    # ---- order-safe writes ----

    def _update(
        self,
        deployment_id: str,
        expression: str,
        values: Mapping[str, Any],
        condition: str | None = None,
        *,
        returns: bool = False,
    ) -> dict[str, Any] | None:
        """One UpdateItem; None when `condition` failed (a later event won), else the item as it is now
        with `returns` ({} without: a write whose result nobody reads does not carry the item back)."""
        names = {f"#{name}": name for name in re.findall(r"#(\w+)", f"{expression} {condition or ''}")}
        arguments: dict[str, Any] = {
            "Key": {"id": deployment_id},
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": _dynamodb(dict(values)),
            "ReturnValues": "ALL_NEW" if returns else "NONE",
        }
        if condition:
            arguments["ConditionExpression"] = condition
        try:
            attributes: dict[str, Any] = self.table.update_item(**arguments).get("Attributes") or {}
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return None
        return attributes

    def merge(
        self,
        deployment_id: str,
        *,
        keep: Mapping[str, Any] | None = None,
        put: Mapping[str, Any] | None = None,
        environment: str | None = None,
    ) -> dict[str, Any] | None:
        """`keep`: defaults, set unless already there; `put`: facts, the same whichever event brings them.

        With `environment`, only if the item is that environment's (None otherwise). Returns the item.
        """
        put = put or {}
        keep = {key: value for key, value in (keep or {}).items() if key not in put}
        sets = [f"#{key} = if_not_exists(#{key}, :k{index})" for index, key in enumerate(keep)]
        sets += [f"#{key} = :p{index}" for index, key in enumerate(put)]
        values = {f":k{i}": v for i, v in enumerate(keep.values())} | {f":p{i}": v for i, v in enumerate(put.values())}
        condition = None
        if environment is not None:
            values[":environment"] = environment
            condition = "attribute_not_exists(#environment) OR #environment = :environment"
        return self._update(deployment_id, "SET " + ", ".join(sets), values, condition, returns=True)

    def started(self, deployment_id: str, time: str) -> None:
        """`startedAt` is the earliest event seen: a late START moves it back, a late SUCCESS never forward."""
        self._update(
            deployment_id, "SET #startedAt = :t", {":t": time}, "attribute_not_exists(#startedAt) OR #startedAt > :t"
        )

    def status(self, deployment_id: str, status: str, time: str) -> None:
        """Set `status` if this event is the latest so far (time, then rank)."""
        key = f"{time}|{RANK[status]}|{status}"
        closing = status not in OPEN
        ending = ", #completedAt = :t" if closing else " REMOVE #completedAt"
        values = {":s": status, ":k": key} | ({":t": time} if closing else {})
        condition = "attribute_not_exists(#statusKey) OR #statusKey < :k"
        self._update(deployment_id, "SET #status = :s, #statusKey = :k" + ending, values, condition)

    def _environment_items(self, environment: str, time: str, *, before: bool) -> Iterable[dict[str, Any]]:
        items: list[dict[str, Any]] = self.table.query(
            IndexName="byEnvironment",
            KeyConditionExpression=f"#e = :e AND #s {'<=' if before else '>='} :s",
            ExpressionAttributeNames={"#e": "environment", "#s": "startedAt"},
            ExpressionAttributeValues={":e": environment, ":s": time},
            ScanIndexForward=not before,
            Limit=20,
        ).get("Items", [])
        return items

    def _base(self, environment: str) -> dict[str, Any]:
        return {
            "environment": environment,
            "strategy": self.strategies.get(environment, "unknown"),
            "commitSha": "",
            "imageDigest": "",
            "healthChecks": [],
        }

    # ---- CodePipeline ----

    def _release(self, pipeline: str, execution_id: str) -> dict[str, str]:
        """Version, commit, digest and initiator of one pipeline execution (events carry none of them)."""
        execution = self.codepipeline.get_pipeline_execution(pipelineName=pipeline, pipelineExecutionId=execution_id)[
            "pipelineExecution"
        ]
        source = (execution.get("artifactRevisions") or [{}])[0]
        trigger = execution.get("trigger") or {}
        return {
            # The S3 object version of the source zip identifies the release the pipeline carries.
            "version": str(source.get("revisionId") or execution_id),
            "initiatedBy": str(trigger.get("triggerDetail") or trigger.get("triggerType") or "unknown"),
        } | release_of(source.get("revisionSummary"))

    def _pipeline_deployment(
        self, event: Mapping[str, Any], environment: str, status: str | None, facts: Mapping[str, Any]
    ) -> str:
        detail = event["detail"]
        deployment_id = f"{detail['execution-id']}:{environment}"
        self.started(deployment_id, event["time"])
        if status is not None:
            self.status(deployment_id, status, event["time"])
        release = self._release(detail["pipeline"], detail["execution-id"])
        item = self.merge(deployment_id, keep=self._base(environment), put={**release, **facts})
        if item:
            self._copy_health_checks_to(item)
        return deployment_id

    def stage_changed(self, event: Mapping[str, Any]) -> str | None:
        detail = event["detail"]
        environment = self.stage_environments.get(detail.get("stage", ""))
        status = STAGE_STATUS.get(detail.get("state", ""))
        if environment is None or status is None:
            return None
        return self._pipeline_deployment(event, environment, status, {})

    def approval_changed(self, event: Mapping[str, Any]) -> str | None:
        detail = event["detail"]
        environment = self.approval_environments.get(detail.get("stage", ""))
        state = str(detail.get("state"))
        if environment is None or (detail.get("type") or {}).get("category") != "Approval":
            return None
        if state == "SUCCEEDED":
            # Approved: the deployment waits for its stage, so the approval sets no status of its own.
            return self._pipeline_deployment(event, environment, None, {"approvedBy": self._approver(detail)})
        if state in APPROVAL_STATUS:
            return self._pipeline_deployment(event, environment, APPROVAL_STATUS[state], {})
        return None

    def tests_changed(self, event: Mapping[str, Any]) -> str | None:
        """The live tests of a stage (IntegrationTests in staging): what the prod promotion gate requires."""
        detail = event["detail"]
        stage_name = str(detail.get("stage", ""))
        environment = self.stage_environments.get(stage_name)
        status = TEST_STATUS.get(str(detail.get("state")))
        if environment is None or status is None or self.test_actions.get(stage_name) != detail.get("action"):
            return None
        deployment_id = self._pipeline_deployment(event, environment, None, {})
        # The latest run of the action wins (time, then rank): a late STARTED never reopens a result.
        key = f"{event['time']}|{TEST_RANK[status]}|{status}"
        self._update(
            deployment_id,
            "SET #tests = :s, #testsKey = :k",
            {":s": status, ":k": key},
            "attribute_not_exists(#testsKey) OR #testsKey < :k",
        )
        return deployment_id

    def action_changed(self, event: Mapping[str, Any]) -> str | None:
        if ((event["detail"].get("type") or {}).get("category")) == "Approval":
            return self.approval_changed(event)
        return self.tests_changed(event)

    def _approver(self, detail: Mapping[str, Any]) -> str:
        response = self.codepipeline.list_action_executions(
            pipelineName=detail["pipeline"], filter={"pipelineExecutionId": detail["execution-id"]}
        )
        for action in response.get("actionExecutionDetails") or []:
            if action.get("stageName") == detail["stage"] and action.get("actionName") == detail["action"]:
                return str(action.get("updatedBy") or "unknown")
        return "unknown"

    # ---- CodeDeploy and the deploy hook ----

    def _rollout_defaults(self, event: Mapping[str, Any], environment: str, deployment_id: str) -> dict[str, Any]:
        detail = event["detail"]
        keep = self._base(environment) | {"version": deployment_id}
        if "deploymentGroup" in detail:
            group = f"{detail.get('application')}/{detail.get('deploymentGroup')}"
            keep |= {"deploymentGroup": group, "initiatedBy": f"codedeploy:{group}"}
        return keep

    def codedeploy_changed(self, event: Mapping[str, Any]) -> str | None:
        detail = event["detail"]
        environment = self.environment_accounts.get(event.get("account", ""))
        status = CODEDEPLOY_STATUS.get(detail.get("state", ""))
        if environment is None or status is None:
            return None
        deployment_id = str(detail["deploymentId"])
        self.started(deployment_id, event["time"])
        self.status(deployment_id, status, event["time"])
        item = self.merge(deployment_id, keep=self._rollout_defaults(event, environment, deployment_id))
        if item is None:  # only a conditional update returns nothing
            return deployment_id
        if detail["state"] == "START":
            failed = self._failed_just_before(environment, item)
            if failed:
                self._link_rollback(failed, deployment_id)
        elif status == "failed":
            # When it failed, whatever arrives later: a rollback turns the status to rolled_back and
            # its completedAt to the rollback's end, and time to restore runs from this moment.
            self.merge(deployment_id, put={"failedAt": event["time"]})
            rollback = self._rollback_just_after(environment, item)
            if rollback:
                self._link_rollback(deployment_id, rollback)
        elif status == "succeeded" and item.get("rollbackOf"):
            self._link_rollback(str(item["rollbackOf"]), deployment_id)
        return deployment_id

    def health_checked(self, event: Mapping[str, Any]) -> str | None:
        """The hook's HealthCheckResults of one CodeDeploy deployment, with the release it rolled out."""
        detail = event["detail"]
        environment = self.environment_accounts.get(event.get("account", ""))
        if environment is None or not detail.get("deploymentId"):
            return None
        deployment_id = str(detail["deploymentId"])
        checks, time = list(detail.get("healthChecks") or []), str(event["time"])
        defaults = self._rollout_defaults(event, environment, deployment_id)
        # An environment account reports only on its own deployments.
        item = self.merge(
            deployment_id, keep=defaults, put=release_of(detail.get("description")), environment=environment
        )
        if item is None:
            return None
        self.started(deployment_id, time)
        self._update(
            deployment_id,
            "SET #healthChecks = :c, #healthChecksAt = :t",
            {":c": checks, ":t": time},
            "attribute_not_exists(#healthChecksAt) OR #healthChecksAt < :t",
        )
        started = min(str(item.get("startedAt") or time), time)
        if item.get("healthChecksAt", "") < time:
            item |= {"healthChecks": checks, "healthChecksAt": time}
        self._copy_health_checks_from(item | {"startedAt": started})
        return deployment_id

    def gate_decided(self, event: Mapping[str, Any]) -> str | None:
        """A promotion gate's decision in a production stack: accepted, refused, or break-glass and its reason."""
        detail = event["detail"]
        environment = self.environment_accounts.get(event.get("account", ""))
        request = str(detail.get("requestId") or "")
        # An environment account reports only on its own stacks.
        if environment is None or detail.get("environment") != environment or not request:
            return None
        deployment_id = f"{GATE_KIND}-{request}"
        facts = {
            name: str(detail.get(name) or "")
            for name in ("decision", "reason", "imageDigest", "commitSha", "stackId", "evidence")
        }
        item = self.merge(deployment_id, put={"kind": GATE_KIND, "environment": environment, **facts})
        if item is not None:
            self.started(deployment_id, str(event["time"]))
        return deployment_id

    def _link_rollback(self, failed_id: str, rollback_id: str) -> None:
        rollback = self.merge(rollback_id, put={"rollbackOf": failed_id}) or {}
        if rollback.get("status") == "succeeded":
            self.status(failed_id, "rolled_back", str(rollback["completedAt"]))

    def _failed_just_before(self, environment: str, item: Mapping[str, Any]) -> str | None:
        started = str(item["startedAt"])
        for other in self._environment_items(environment, started, before=True):
            if other.get("deploymentGroup") != item.get("deploymentGroup") or other["id"] == item["id"]:
                continue
            completed = other.get("completedAt")
            failed = other.get("status") in ("failed", "rolled_back") and completed
            if failed and 0 <= _seconds(started) - _seconds(str(completed)) <= ROLLBACK_WINDOW_SECONDS:
                return str(other["id"])
            return None
        return None

    def _rollback_just_after(self, environment: str, item: Mapping[str, Any]) -> str | None:
        failed_at = str(item.get("completedAt") or item["startedAt"])
        for other in self._environment_items(environment, failed_at, before=False):
            if other.get("deploymentGroup") != item.get("deploymentGroup") or other["id"] == item["id"]:
                continue
            if _seconds(str(other["startedAt"])) - _seconds(failed_at) <= ROLLBACK_WINDOW_SECONDS:
                return str(other["id"])
            return None
        return None

    # ---- health checks onto the pipeline's deployment of the same release ----

    def _copy_health_checks_from(self, rollout: Mapping[str, Any]) -> None:
        """Onto the latest pipeline deployment of this environment and digest started before the rollout."""
        if not rollout.get("imageDigest"):
            return
        for other in self._environment_items(str(rollout["environment"]), str(rollout["startedAt"]), before=True):
            if ":" in str(other["id"]) and other.get("imageDigest") == rollout["imageDigest"]:
                self._share(rollout, str(other["id"]))
                return

    def _copy_health_checks_to(self, deployment: Mapping[str, Any]) -> None:
        """From the first rollout of this environment and digest started after the pipeline deployment."""
        if not deployment.get("imageDigest"):
            return
        environment, started = str(deployment["environment"]), str(deployment["startedAt"])
        for other in self._environment_items(environment, started, before=False):
            # Only the hook's event gives a rollout its digest, so a match has its health checks.
            if "deploymentGroup" in other and other.get("imageDigest") == deployment["imageDigest"]:
                self._share(other, str(deployment["id"]))
                return

    def _share(self, rollout: Mapping[str, Any], deployment_id: str) -> None:
        self._update(
            deployment_id,
            "SET #healthChecks = :c, #healthChecksAt = :t, #rollout = :r",
            {":c": list(rollout["healthChecks"]), ":t": str(rollout["healthChecksAt"]), ":r": str(rollout["id"])},
            "attribute_not_exists(#healthChecksAt) OR #healthChecksAt < :t",
        )


def handle(event: Mapping[str, Any], log: DeploymentLog) -> str | None:
    kind = event.get("detail-type")
    if kind == STAGE_STATE_CHANGE:
        return log.stage_changed(event)
    if kind == ACTION_STATE_CHANGE:
        return log.action_changed(event)
    if kind == CODEDEPLOY_STATE_CHANGE:
        return log.codedeploy_changed(event)
    if kind == HEALTH_CHECKS:
        return log.health_checked(event)
    if kind == GATE_DECISION:
        return log.gate_decided(event)
    return None


_log: DeploymentLog | None = None


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    global _log
    if _log is None:
        _log = DeploymentLog(boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"]), boto3.client("codepipeline"))
    return {"deploymentId": handle(event, _log)}
