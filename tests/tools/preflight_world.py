"""Two AWS accounts for the preflight's tests: the environment's (moto's default) and the pipeline's.

moto holds what it can (SSM, CloudFormation, Secrets Manager, ACM, IAM, DynamoDB, EC2); the region
opt-in (Account API), ECR's image scan and Route 53 (moto's zone ids are not Route 53's `Z...`) come
from botocore's Stubber, which checks every request against the real API model. `World.ready()`
prepares every prerequisite; a test then takes one away and expects exactly that check to fail.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import Stubber

from cashtrace_constructs.config import pagerduty_secret_name
from cashtrace_constructs.release_manifest import ReleaseManifest, write
from tests.lambdas.promotion_gate_world import RECORDER_ENVIRONMENT, create_record, record
from tests.lambdas.promotion_gate_world import session_in as assumed_session_in
from tests.lambdas.record_events import RELEASE, approval, live_tests, stage
from tools.preflight.accounts import Account

REGION = "af-south-1"
ENVIRONMENT_ACCOUNT = "123456789012"  # moto's default account
PIPELINE_ACCOUNT = "210987654321"
QUALIFIER_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
ZONE_ID = "Z0592413QX8Z4RXNB5TV"
PAGERDUTY_URL = "https://events.pagerduty.com/integration/not-a-key/enqueue"  # pragma: allowlist secret
NAME_SERVERS = ["ns-1536.awsdns-00.co.uk", "ns-0.awsdns-00.com"]
VERIFIED_RELEASE = [
    stage("Staging", "STARTED", "2026-11-28T03:00:00Z"),
    live_tests("Staging", "SUCCEEDED", "2026-11-28T03:11:30Z"),
    stage("Staging", "SUCCEEDED", "2026-11-28T03:12:00Z"),
    approval("SUCCEEDED", "2026-11-28T03:40:00Z"),
]
TOOLKIT_TEMPLATE = json.dumps(
    {
        "Parameters": {
            # CommaDelimitedList in CDK's template; DescribeStacks returns it as "a,b" either way, moto only
            # for a String.
            "TrustedAccounts": {"Type": "String", "Default": ""},
            "CloudFormationExecutionPolicies": {"Type": "String", "Default": ""},
        },
        "Resources": {"StagingBucket": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {"BootstrapVersion": {"Value": "21"}},
    }
)


def session_in(account: str) -> boto3.Session:
    """moto's default account without credentials of its own, any other through an assumed role."""
    return boto3.Session(region_name=REGION) if account == ENVIRONMENT_ACCOUNT else assumed_session_in(account)


class World:
    """The two accounts, what exists in them, and the Stubber-backed answers moto cannot give."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.sessions = {"prod": session_in(ENVIRONMENT_ACCOUNT), "pipeline": session_in(PIPELINE_ACCOUNT)}
        self.opt_in = {"prod": "ENABLED", "pipeline": "ENABLED"}
        self.scan_status = "COMPLETE"
        self.image_pushed = True
        self.repository_exists = True
        # The hosted zone: "public", "private" or None (not there).
        self.zone: str | None = None
        self.stubbers: list[Stubber] = []

    # ---- what a team sets up before the first deploy ----

    def bootstrap(self, name: str, *, version: str = "21", trusted: str = "") -> None:
        session = self.sessions[name]
        session.client("ssm").put_parameter(Name=QUALIFIER_PARAMETER, Value=version, Type="String", Overwrite=True)
        cloudformation = session.client("cloudformation")
        cloudformation.create_stack(
            StackName="CDKToolkit",
            TemplateBody=TOOLKIT_TEMPLATE,
            Parameters=[{"ParameterKey": "TrustedAccounts", "ParameterValue": trusted}],
        )

    def ready(self) -> World:
        self.bootstrap("prod", trusted=PIPELINE_ACCOUNT)
        self.bootstrap("pipeline")
        self.sessions["prod"].client("secretsmanager").create_secret(
            Name=pagerduty_secret_name("prod"), SecretString=PAGERDUTY_URL
        )
        self.zone = "public"
        self.sessions["pipeline"].client("cloudformation").create_stack(
            StackName="CashTrace-Pipeline",
            TemplateBody=json.dumps(
                {
                    "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                    "Outputs": {
                        "GitHubReleaseRoleArn": {"Value": f"arn:aws:iam::{PIPELINE_ACCOUNT}:role/release"},
                        "SourceBucketName": {"Value": "cashtrace-pipeline-source"},
                    },
                }
            ),
        )
        table = create_record(self.sessions["pipeline"])
        record(table, VERIFIED_RELEASE)
        return self

    def context(self) -> dict[str, Any]:
        return {
            "account.prod": ENVIRONMENT_ACCOUNT,
            "account.pipeline": PIPELINE_ACCOUNT,
            "hosted-zone-id.prod": ZONE_ID,
            "notification-emails": "releases@cashtrace.ng",
        }

    def release(self, release: ReleaseManifest = RELEASE) -> Path:
        path = self.tmp_path / "release.json"
        write(path, repository=release.repository, digest=release.digest, commit_sha=release.commit_sha)
        return path

    # ---- the accounts as the preflight reaches them ----

    def _stubbed(self, service: str, region: str = REGION) -> tuple[Any, Stubber]:
        client = boto3.client(service, region_name=region)
        stubber = Stubber(client)
        self.stubbers.append(stubber)
        return client, stubber

    def account(self, name: str, expected: str) -> Account:
        opt_in, stubber = self._stubbed("account", "us-east-1")
        stubber.add_response(
            "get_region_opt_status",
            {"RegionName": REGION, "RegionOptStatus": self.opt_in[name]},
            {"RegionName": REGION},
        )
        stubber.activate()
        clients: dict[str, Any] = {"account": opt_in}
        if name == "pipeline":
            clients["ecr"] = self._ecr()
        else:
            clients["route53"] = self._route53()
        session = self.sessions[name]
        return Account(name, expected, REGION, make_session=lambda **_: session, clients=clients)

    def _ecr(self) -> Any:
        ecr, stubber = self._stubbed("ecr")
        image = {"repositoryName": "cashtrace/api", "imageIds": [{"imageDigest": RELEASE.digest}]}
        if not self.repository_exists:
            stubber.add_client_error("describe_images", "RepositoryNotFoundException", expected_params=image)
        elif not self.image_pushed:
            stubber.add_client_error("describe_images", "ImageNotFoundException", expected_params=image)
        else:
            stubber.add_response(
                "describe_images",
                {"imageDetails": [{"repositoryName": "cashtrace/api", "imageDigest": RELEASE.digest}]},
                image,
            )
            scan = {"repositoryName": "cashtrace/api", "imageId": {"imageDigest": RELEASE.digest}, "maxResults": 1}
            if self.scan_status == "NOT_STARTED":
                stubber.add_client_error("describe_image_scan_findings", "ScanNotFoundException", expected_params=scan)
            else:
                stubber.add_response(
                    "describe_image_scan_findings",
                    {
                        "imageScanStatus": {"status": self.scan_status},
                        "imageScanFindings": {"findingSeverityCounts": {"LOW": 2}},
                    },
                    scan,
                )
        stubber.activate()
        return ecr

    def _route53(self) -> Any:
        route53, stubber = self._stubbed("route53", "us-east-1")
        if self.zone is None:
            stubber.add_client_error("get_hosted_zone", "NoSuchHostedZone", expected_params={"Id": ZONE_ID})
        else:
            private = self.zone == "private"
            zone = {
                "Id": f"/hostedzone/{ZONE_ID}",
                "Name": "cashtrace.ng.",
                "CallerReference": "first-deploy",
                "Config": {"PrivateZone": private},
            }
            answer = {"HostedZone": zone, **({} if private else {"DelegationSet": {"NameServers": NAME_SERVERS}})}
            stubber.add_response("get_hosted_zone", answer, {"Id": ZONE_ID})
        stubber.activate()
        return route53

    def accounts(self, context: dict[str, Any] | None = None) -> tuple[Account, Account]:
        context = context if context is not None else self.context()
        return (
            self.account("prod", str(context.get("account.prod", "333333333333"))),
            self.account("pipeline", str(context.get("account.pipeline", "444444444444"))),
        )


def recorder_environment() -> Iterator[tuple[str, str]]:
    yield from RECORDER_ENVIRONMENT.items()
