"""CloudFormation custom resource of a production stack: it deploys only a release staging verified (Property 4).

The task definition (hence the CodeDeploy rollout) and the stateful resources depend on this
resource, whose properties carry the image digest, so CloudFormation asks it first on every
deploy that changes the release. It reads the deployment record in the pipeline account (through
a role there that may only read that table): the digest needs a succeeded staging deployment of
the pipeline whose integration tests passed, and the approval of that pipeline execution.
Otherwise the deploy fails with DEPLOY_APPROVAL_REQUIRED before anything else changes.

An explicit break-glass reason skips the check, never silently: the decision is published to the
record (like every decision) before the deploy may go on. The placeholder digest is always refused.
Delete, and any request while the stack rolls back, succeed: the gate never blocks a return to
what ran before. Whatever goes wrong, CloudFormation gets an answer before the Lambda's deadline.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr, Key
from custom_resource import (
    RESPONSE_RESERVE_SECONDS,
    Respond,
    answer,
    failed_answer,
    remaining_seconds,
    require_response_url,
    send_response,
)

logger = logging.getLogger()
logger.setLevel(logging.INFO)

APPROVAL_REQUIRED = "DEPLOY_APPROVAL_REQUIRED"
CI_FAILED = "DEPLOY_CI_FAILED"
# cashtrace_constructs/release_manifest.py: PLACEHOLDER_DIGEST (runtime code imports none of ours).
PLACEHOLDER_DIGEST = "sha256:" + "0" * 64
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
# What the deployment record keeps of each decision (cashtrace_constructs/deployment_record.py).
DECISION_SOURCE = "cashtrace.promotion-gate"
DECISION = "CashTrace Promotion Gate Decision"
INDEX = "byEnvironment"
# Between two reads of a record whose approval event is still on its way.
POLL_SECONDS = 10.0
FAILED_STATUSES = frozenset({"failed", "rolled_back"})
WAYS_THROUGH = (
    "Ship it through the pipeline (staging, integration tests, approval), deploy a digest that passed, "
    'or, in an emergency, deploy with -c break-glass="<reason>" (recorded)'
)


class Refused(Exception):
    """The deploy must not go on; the message starts with its DEPLOY_* code."""


@dataclass(frozen=True)
class Settings:
    environment: str
    # The environment whose pipeline deployment and live tests verify a release (staging).
    verified_in: str
    record_role_arn: str
    table_parameter: str
    region: str
    # How long to wait for a record still being written (the approval's event follows it by seconds).
    approval_wait_seconds: float = 120.0

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        return cls(
            environment=environ["ENVIRONMENT"],
            verified_in=environ["VERIFIED_IN"],
            record_role_arn=environ["RECORD_ROLE_ARN"],
            table_parameter=environ["RECORD_TABLE_PARAMETER"],
            region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "af-south-1",
            approval_wait_seconds=float(environ.get("APPROVAL_WAIT_SECONDS", "120")),
        )

    @property
    def field(self) -> str:
        return f"{self.environment}.service.image_digest"


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    # No record still being written can change it: nothing to wait for.
    final: bool
    # Accepted: the evidence (which deployment, tests, approval). Refused: every reason.
    message: str
    problems: tuple[str, ...] = field(default=())


class DeploymentRecord:
    """The deployment table as the pipeline account's reader role allows it: GetItem and Query, nothing else."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def pipeline_deployments(self, environment: str, digest: str) -> list[dict[str, Any]]:
        """The pipeline's deployments (`<execution>:<environment>`) of `digest` to `environment`, newest first."""
        found: list[dict[str, Any]] = []
        arguments: dict[str, Any] = {
            "IndexName": INDEX,
            "KeyConditionExpression": Key("environment").eq(environment),
            "FilterExpression": Attr("imageDigest").eq(digest),
            "ScanIndexForward": False,
        }
        while True:
            page = self.table.query(**arguments)
            # CodeDeploy rollouts (d-...) and gate decisions carry no ':' in their ids.
            found += [item for item in page.get("Items", []) if ":" in str(item.get("id", ""))]
            if "LastEvaluatedKey" not in page:
                return found
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def item(self, deployment_id: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self.table.get_item(Key={"id": deployment_id}, ConsistentRead=True).get("Item")
        return item


def verdict(record: DeploymentRecord, settings: Settings, digest: str, commit: str = "") -> Verdict:
    """Whether `digest` (and `commit`, when the deploy names one) passed staging, its tests and an approval."""
    deployments = record.pipeline_deployments(settings.verified_in, digest)
    if not deployments:
        problem = f"no {settings.verified_in} deployment of the pipeline shipped it"
        return Verdict(False, True, problem, (problem,))
    problems: list[str] = []
    waiting = False
    for deployment in deployments:
        deployment_id = str(deployment["id"])
        execution = deployment_id.rsplit(":", 1)[0]
        status, tests = str(deployment.get("status") or ""), str(deployment.get("tests") or "")
        recorded_commit = str(deployment.get("commitSha") or "")
        if commit and recorded_commit and recorded_commit != commit:
            problems.append(f"{deployment_id} shipped it from commit {recorded_commit}, this deploy names {commit}")
            continue
        if status in FAILED_STATUSES or tests == "failed":
            problems.append(f"{deployment_id} {'failed' if status in FAILED_STATUSES else 'failed its live tests'}")
            continue
        if status != "succeeded" or tests != "passed":
            # Still running, or its events are still on their way.
            problems.append(f"{deployment_id} is {status or 'unrecorded'} with tests {tests or 'not recorded'}")
            waiting = True
            continue
        approval = record.item(f"{execution}:{settings.environment}") or {}
        if approval.get("approvedBy"):
            evidence = (
                f"{deployment_id} (commit {recorded_commit or 'unknown'}) succeeded and its tests passed; "
                f"approved by {approval['approvedBy']} in execution {execution}"
            )
            return Verdict(True, True, evidence)
        if approval.get("status") in FAILED_STATUSES:
            problems.append(f"the approval of execution {execution} was rejected")
            continue
        problems.append(f"execution {execution} has no recorded approval for {settings.environment} yet")
        waiting = True
    return Verdict(False, not waiting, "; ".join(problems), tuple(problems))


def open_record(settings: Settings, sts: Any) -> DeploymentRecord:
    """The record through the pipeline account's reader role; the table's name is a parameter there."""
    credentials = sts.assume_role(
        RoleArn=settings.record_role_arn,
        RoleSessionName=f"cashtrace-{settings.environment}-promotion-gate",
        DurationSeconds=900,
    )["Credentials"]
    session = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=settings.region,
    )
    table_name = session.client("ssm").get_parameter(Name=settings.table_parameter)["Parameter"]["Value"]
    return DeploymentRecord(session.resource("dynamodb").Table(table_name))


def rolling_back(cloudformation: Any, stack_id: str) -> bool:
    """True while the stack rolls back: returning to what ran before is never blocked."""
    try:
        status = str(cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"])
    except Exception:
        logger.warning("could not read the stack's status; judging the request as a deploy", exc_info=True)
        return False
    return "ROLLBACK" in status


def publish(events: Any, decision: Mapping[str, str]) -> None:
    """One decision on this account's default bus, forwarded to the deployment record."""
    response = events.put_events(
        Entries=[{"Source": DECISION_SOURCE, "DetailType": DECISION, "Detail": json.dumps(dict(decision))}]
    )
    if response.get("FailedEntryCount"):
        raise RuntimeError(f"EventBridge did not accept the decision: {response.get('Entries')}")


@dataclass
class Clients:
    """The gate's AWS clients in its own account, created on first use."""

    region: str
    _made: dict[str, Any] = field(default_factory=dict)

    def __call__(self, service: str) -> Any:
        if service not in self._made:
            self._made[service] = boto3.client(service, region_name=self.region)
        return self._made[service]


def decide(
    event: Mapping[str, Any],
    settings: Settings,
    clients: Callable[[str], Any],
    *,
    budget_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, str]:
    """The decision on one Create or Update; raises `Refused` (the deploy fails) or returns what to record."""
    properties = event.get("ResourceProperties") or {}
    digest = str(properties.get("ImageDigest") or "")
    commit = str(properties.get("CommitSha") or "")
    reason = str(properties.get("BreakGlassReason") or "").strip()
    decision = {
        "requestId": str(event.get("RequestId")),
        "stackId": str(event.get("StackId")),
        "environment": settings.environment,
        "imageDigest": digest,
        "commitSha": commit,
        "reason": reason,
    }
    if digest == PLACEHOLDER_DIGEST or not DIGEST_RE.match(digest):
        # Also refused with break-glass: no image has this digest, nothing could run.
        raise Refused(
            f"{CI_FAILED} [{settings.field}]: {digest or 'no digest'} is not a release's digest "
            "(the placeholder, or no sha256 digest); deploy with -c release=<release.json>"
        )
    if rolling_back(clients("cloudformation"), str(event.get("StackId"))):
        return decision | {"decision": "rollback", "evidence": "the stack rolls back to the release it ran before"}
    if reason:
        decision |= {"decision": "break-glass", "evidence": f"break-glass, not verified: {reason}"}
        # A bypass that is not recorded is not allowed: EventBridge must take it first.
        try:
            publish(clients("events"), decision)
        except Exception as error:
            raise Refused(
                f"{APPROVAL_REQUIRED} [{settings.field}]: break-glass is allowed only when it is recorded, and "
                f"publishing it to the deployment record failed ({type(error).__name__}: {error}); nothing was "
                "changed: retry the deploy"
            ) from error
        return decision
    record = open_record(settings, clients("sts"))
    deadline = clock() + max(0.0, budget_seconds)
    while True:
        result = verdict(record, settings, digest, commit)
        if result.accepted or result.final or clock() + POLL_SECONDS > deadline:
            break
        sleep(POLL_SECONDS)
    if result.accepted:
        decision |= {"decision": "accepted", "evidence": result.message}
        _publish_quietly(clients, decision)
        return decision
    message = (
        f"{APPROVAL_REQUIRED} [{settings.field}]: {digest} was not verified by {settings.verified_in} "
        f"(Property 4): {result.message}. {WAYS_THROUGH}"
    )
    _publish_quietly(clients, decision | {"decision": "refused", "evidence": message})
    raise Refused(message)


def _publish_quietly(clients: Callable[[str], Any], decision: Mapping[str, str]) -> None:
    # The verdict stands without the record's copy: the stack events and this log keep it too.
    try:
        publish(clients("events"), decision)
    except Exception:
        logger.warning("publishing the gate's decision failed", exc_info=True)


def handler(
    event: Mapping[str, Any],
    context: Any,
    *,
    clients: Callable[[str], Any] | None = None,
    respond: Respond = send_response,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    require_response_url(event)
    # One stable id: an update never replaces the gate (a replacement would send a Delete).
    body = failed_answer(event, str(event.get("PhysicalResourceId") or "promotion-gate"))
    try:
        request_type = event.get("RequestType")
        if request_type == "Delete":
            body |= {"Status": "SUCCESS", "Reason": "nothing to undo"}
        elif request_type in ("Create", "Update"):
            settings = Settings.from_environment(os.environ)
            body["PhysicalResourceId"] = f"promotion-gate-{settings.environment}"
            remaining = remaining_seconds(context)
            budget = min(settings.approval_wait_seconds, remaining - RESPONSE_RESERVE_SECONDS - POLL_SECONDS)
            decision = decide(
                event, settings, clients or Clients(settings.region), budget_seconds=budget, sleep=sleep, clock=clock
            )
            logger.info("promotion gate: %s", json.dumps(decision))
            body |= {
                "Status": "SUCCESS",
                "Reason": decision["evidence"][:1000],
                "Data": {"Decision": decision["decision"], "Evidence": decision["evidence"][:1000]},
            }
        else:
            raise ValueError(f"unknown RequestType {request_type!r}")
    except Refused as refusal:
        logger.warning("promotion gate refused the deploy: %s", refusal)
        body["Reason"] = str(refusal)[:1000]
    except Exception as error:
        logger.exception("promotion gate failed")
        # Fails closed: without the record nothing shows the release was verified.
        body["Reason"] = (
            f"{APPROVAL_REQUIRED}: the promotion gate could not read the deployment record "
            f"({type(error).__name__}: {error}); nothing was changed. Retry the deploy, or, in an emergency, "
            'deploy with -c break-glass="<reason>"'
        )[:1000]
    answer(event, body, respond)
    return body
