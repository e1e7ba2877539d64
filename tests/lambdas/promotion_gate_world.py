"""The promotion gate's world for its tests: the record in the pipeline account, its own account, CloudFormation.

The deployment record is a moto DynamoDB table in the pipeline account (444444444444), reached only
through an assumed role as in AWS; the gate's own account is moto's default. The table is filled
by the real recorder from real event shapes (tests/lambdas/record_events.py). CloudFormation's
pre-signed response URL is an HTTP server on 127.0.0.1; EventBridge's PutEvents and CloudFormation's
DescribeStacks are fakes that check every request against the real API model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import boto3
import botocore.session
from botocore.validate import validate_parameters

from lambdas.deployment_record.handler import DeploymentLog, handle
from tests.lambdas.record_events import PROD_ACCOUNT, RELEASE, CodePipelineAnswers, create_record_table

REGION = "af-south-1"
PIPELINE_ACCOUNT = "444444444444"
READER_ROLE = f"arn:aws:iam::{PIPELINE_ACCOUNT}:role/cashtrace-deployment-record-reader"
TABLE_PARAMETER = "/cashtrace/deployment-record/table-name"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{PROD_ACCOUNT}:stack/CashTrace-Prod/6f0c2a10-1111-4a7e-9c2b-5f1e2d3c4b5a"
GATE_ENVIRONMENT = {
    "ENVIRONMENT": "prod",
    "VERIFIED_IN": "staging",
    "RECORD_ROLE_ARN": READER_ROLE,
    "RECORD_TABLE_PARAMETER": TABLE_PARAMETER,
    "AWS_REGION": REGION,
    "APPROVAL_WAIT_SECONDS": "120",
}
RECORDER_ENVIRONMENT = {
    "STAGE_ENVIRONMENTS": json.dumps({"Staging": "staging", "Prod": "prod"}),
    "APPROVAL_ENVIRONMENTS": json.dumps({"Approval": "prod"}),
    "TEST_ACTIONS": json.dumps({"Staging": "IntegrationTests", "Prod": "SmokeTests"}),
    "ENVIRONMENT_ACCOUNTS": json.dumps({"222222222222": "staging", PROD_ACCOUNT: "prod"}),
    "ENVIRONMENT_STRATEGIES": json.dumps({"staging": "canary", "prod": "canary"}),
}


def session_in(account: str) -> boto3.Session:
    """A session whose calls moto books to `account` (moto keys accounts on assumed-role credentials)."""
    credentials = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="test-setup"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def pipeline_session() -> boto3.Session:
    return session_in(PIPELINE_ACCOUNT)


def create_record(session: boto3.Session, table_name: str = "cashtrace-deployments") -> Any:
    """The deployment table as DeploymentRecord creates it, and the parameter naming it."""
    table = create_record_table(session.resource("dynamodb"), table_name)
    session.client("ssm").put_parameter(Name=TABLE_PARAMETER, Value=table_name, Type="String", Overwrite=True)
    return table


def empty(table: Any) -> None:
    with table.batch_writer() as batch:
        for item in table.scan(ConsistentRead=True, ProjectionExpression="id")["Items"]:
            batch.delete_item(Key={"id": item["id"]})


def record(table: Any, events: Sequence[dict[str, Any]], answers: CodePipelineAnswers | None = None) -> None:
    """What the recorder writes for `events` (needs RECORDER_ENVIRONMENT set)."""
    log = DeploymentLog(table, answers or CodePipelineAnswers())
    for event in events:
        handle(event, log)


class _ModelChecked:
    def __init__(self, service: str) -> None:
        self.model = botocore.session.get_session().get_service_model(service)
        self.calls: list[str] = []

    def _checked(self, operation: str, params: dict[str, Any]) -> None:
        validate_parameters(params, self.model.operation_model(operation).input_shape)
        self.calls.append(operation)


class Bus(_ModelChecked):
    """The gate account's default event bus: what was put, in EventBridge's delivered shape."""

    def __init__(self, *, failing: int = 0) -> None:
        super().__init__("events")
        self.failing = failing
        self.entries: list[dict[str, Any]] = []

    def put_events(self, **params: Any) -> dict[str, Any]:
        self._checked("PutEvents", params)
        if self.failing:
            self.failing -= 1
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}]}
        self.entries += params["Entries"]
        return {"FailedEntryCount": 0, "Entries": [{"EventId": f"e-{len(self.entries)}"}]}

    def delivered(self, time: str = "2026-11-28T04:00:00Z") -> list[dict[str, Any]]:
        """Each entry as the forwarder delivers it to the pipeline account's bus (and so to the recorder)."""
        return [
            {
                "version": "0",
                "id": f"gate-{index}",
                "detail-type": entry["DetailType"],
                "source": entry["Source"],
                "account": PROD_ACCOUNT,
                "time": time,
                "region": REGION,
                "resources": [],
                "detail": json.loads(entry["Detail"]),
            }
            for index, entry in enumerate(self.entries)
        ]

    @property
    def decisions(self) -> list[str]:
        return [json.loads(entry["Detail"])["decision"] for entry in self.entries]


class Stacks(_ModelChecked):
    """CloudFormation's DescribeStacks of the gate's own stack."""

    def __init__(self, status: str = "UPDATE_IN_PROGRESS") -> None:
        super().__init__("cloudformation")
        self.status = status

    def describe_stacks(self, **params: Any) -> dict[str, Any]:
        self._checked("DescribeStacks", params)
        assert params == {"StackName": STACK_ID}
        return {
            "Stacks": [
                {
                    "StackId": STACK_ID,
                    "StackName": "CashTrace-Prod",
                    "CreationTime": "2026-11-01T00:00:00Z",
                    "StackStatus": self.status,
                }
            ]
        }


class GateClients:
    """The gate's clients in its own account: moto STS, the fake bus and stack, or stand-ins a test sets."""

    def __init__(self, **overrides: Any) -> None:
        self.bus = overrides.pop("events", None) or Bus()
        self.stacks = overrides.pop("cloudformation", None) or Stacks()
        self.overrides = overrides
        self.used: list[str] = []

    def __call__(self, service: str) -> Any:
        self.used.append(service)
        if service in self.overrides:
            return self.overrides[service]
        if service == "events":
            return self.bus
        if service == "cloudformation":
            return self.stacks
        return boto3.client(service, region_name=REGION)


def gate_event(
    response_url: str,
    request_type: str = "Update",
    *,
    digest: str = RELEASE.digest,
    commit: str = RELEASE.commit_sha,
    break_glass: str | None = None,
) -> dict[str, Any]:
    properties = {"ServiceToken": "arn:aws:lambda:af-south-1:123456789012:function:gate", "ImageDigest": digest}
    properties |= {"CommitSha": commit, "Environment": "prod"}
    if break_glass is not None:
        properties["BreakGlassReason"] = break_glass
    event = {
        "RequestType": request_type,
        "ResponseURL": response_url,
        "StackId": STACK_ID,
        "RequestId": "5d4c3b2a-0000-4a7e-9c2b-5f1e2d3c4b5a",
        "LogicalResourceId": "PromotionGate",
        "ResourceType": "Custom::PromotionGate",
        "ResourceProperties": properties,
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = "promotion-gate-prod"
    return event


class FakeClock:
    """Time that passes only when the gate sleeps: waiting is tested in milliseconds."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.on_sleep: list[Any] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep:
            self.on_sleep.pop(0)()
