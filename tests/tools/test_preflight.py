"""`make preflight`: every prerequisite of a first deploy checked read-only, green and red, each failure with its fix.

Two accounts in moto (tests/tools/preflight_world.py) with the region opt-in and ECR's scan from
botocore's Stubber; `World.ready()` has everything, and each red test takes one thing away.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_cdk.cx_api import CloudAssembly
from botocore.stub import Stubber
from moto import mock_aws

from cashtrace_constructs.config import pagerduty_secret_name
from cashtrace_constructs.errors import ErrorCode
from cashtrace_constructs.release_manifest import PLACEHOLDER_DIGEST
from tests.tools.preflight_world import (
    ENVIRONMENT_ACCOUNT,
    NAME_SERVERS,
    PIPELINE_ACCOUNT,
    REGION,
    World,
    recorder_environment,
)
from tools.preflight import __main__ as preflight
from tools.preflight import accounts, checks, release_checks
from tools.preflight.accounts import Account, NoCredentials, WriteRefused
from tools.preflight.report import FAIL, NOTE, OK, SKIPPED, Result, format_report

ROOT = Path(__file__).resolve().parent.parent.parent
PAGERDUTY_URL = "https://events.pagerduty.com/integration/not-a-key/enqueue"  # pragma: allowlist secret


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for name, value in recorder_environment():
        monkeypatch.setenv(name, value)
    for name in [n for n in os.environ if n.startswith("CASHTRACE_")]:
        monkeypatch.delenv(name)
    with mock_aws():
        yield World(tmp_path)


def _run(world: World, *, release: Path | None = None, context: dict[str, Any] | None = None) -> list[Result]:
    context = world.context() if context is None else context
    account, pipeline_account = world.accounts(context)
    results, _ = preflight.run(
        "prod",
        context,
        release,
        account=account,
        pipeline_account=pipeline_account,
        assembly=world.tmp_path / "no-cdk.out",
    )
    return results


def _failed(results: list[Result]) -> dict[str, list[Result]]:
    found: dict[str, list[Result]] = {}
    for result in results:
        if result.failed:
            found.setdefault(result.check, []).append(result)
    return found


# ---- green ---------------------------------------------------------------------------------------


def test_a_ready_pair_of_accounts_passes_every_check(world: World) -> None:
    results = _run(world.ready(), release=world.release())
    assert _failed(results) == {}, format_report("", results)
    checked = {r.check for r in results if r.status == OK}
    assert checked == {
        "config", "release", "credentials", "region", "bootstrap", "secrets", "tls", "pipeline", "github-oidc",
        "image", "promotion",
    }  # fmt: skip
    # What no AWS API can tell is said, with the command that can.
    (dns,) = [r for r in results if r.status == NOTE]
    assert dns.check == "dns" and dns.fix == f"dig +short NS cashtrace.ng must list {', '.join(sorted(NAME_SERVERS))}"
    pipeline = next(r for r in results if r.check == "pipeline")
    assert f"CASHTRACE_RELEASE_ROLE_ARN=arn:aws:iam::{PIPELINE_ACCOUNT}:role/release" in pipeline.message
    assert preflight.exit_status(results) == 0


def test_it_never_writes(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[str] = []
    refuse = accounts.refuse_writes

    def recording(model: Any, **kwargs: Any) -> None:
        called.append(model.name)
        refuse(model, **kwargs)

    monkeypatch.setattr(accounts, "refuse_writes", recording)
    _run(world.ready(), release=world.release())
    assert called and all(name.startswith(("Get", "Describe", "List", "Query")) for name in called)
    assert {"GetCallerIdentity", "GetRegionOptStatus", "DescribeSecret", "DescribeImageScanFindings"} <= set(called)
    # A write through a preflight client is refused before it is even sent.
    account = Account("prod", ENVIRONMENT_ACCOUNT, REGION, make_session=lambda **_: world.sessions["prod"])
    with pytest.raises(WriteRefused, match="ssm:PutParameter"):
        account.client("ssm").put_parameter(Name="/x", Value="y", Type="String")
    assert (
        world.sessions["prod"]
        .client("ssm")
        .describe_parameters(ParameterFilters=[{"Key": "Name", "Values": ["/x"]}])["Parameters"]
        == []
    )


# ---- placeholders and missing credentials: every prerequisite listed ----------------------------


def test_against_placeholder_accounts_it_lists_every_missing_prerequisite(world: World) -> None:
    world.opt_in = {"prod": "DISABLED", "pipeline": "DISABLED"}
    results = _run(world, context={})
    failed = _failed(results)
    assert set(failed) == {"config", "release", "credentials", "region", "bootstrap", "secrets", "tls", "pipeline"}
    assert [r.field for r in failed["config"]] == [
        "prod.infrastructure.account",
        "prod.service.repository_account",
        "prod.endpoint.hosted_zone.zone_id",
        "pipeline.account",
        "pipeline.notification_emails[0]",
    ]
    # Both accounts are read: their credentials are for other accounts than the placeholders.
    assert len(failed["credentials"]) == len(failed["region"]) == len(failed["bootstrap"]) == 2
    assert all(r.code is not None and r.fix for rs in failed.values() for r in rs)
    assert preflight.exit_status(results) == 1


def test_without_credentials_it_explains_how_to_get_them(tmp_path: Path) -> None:
    environment = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "CASHTRACE_"))}
    environment |= {
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    run = subprocess.run(
        [sys.executable, "-m", "tools.preflight", "--env", "prod"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 2, run.stdout + run.stderr
    output = run.stdout
    assert "no usable AWS credentials for the prod account 333333333333" in output
    assert "aws configure sso --profile cashtrace-prod" in output and "aws sso login --profile cashtrace-prod" in output
    assert "PIPELINE_PROFILE=cashtrace-pipeline" in output
    # The offline checks still name every placeholder; nothing else was attempted.
    assert "[prod.infrastructure.account]" in output and "not checked bootstrap" in output
    assert "Preflight FAILED" in output


def test_an_expired_session_is_explained_like_missing_credentials() -> None:
    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(sts) as stubbed:
        stubbed.add_client_error("get_caller_identity", "ExpiredToken")
        account = Account("prod", ENVIRONMENT_ACCOUNT, REGION, profile="cashtrace-prod", clients={"sts": sts})
        result = checks.credentials(account)
        assert (result.status, result.field) == (FAIL, "prod.credentials")
        assert "ExpiredToken" in result.message and "aws sso login --profile cashtrace-prod" in result.fix
        # Remembered: the account's other checks say they could not run, without asking again.
        assert checks.guarded("bootstrap", account, lambda: []) == [
            Result("bootstrap", SKIPPED, "no credentials for the prod account")
        ]
        assert preflight.exit_status([result]) == 2


def test_an_unknown_profile_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(NoCredentials) as missing:
        Account("pipeline", PIPELINE_ACCOUNT, REGION, profile="nope").whoami()
    assert "nope" in str(missing.value) and "PIPELINE_PROFILE=nope" in missing.value.how_to


# ---- each prerequisite red ----------------------------------------------------------------------


def test_a_region_not_enabled_is_named_with_the_command(world: World) -> None:
    world.ready().opt_in["prod"] = "DISABLED"
    (region,) = _failed(_run(world, release=world.release()))["region"]
    assert "af-south-1 is DISABLED in prod" in region.message
    assert region.fix.startswith("aws account enable-region --region-name af-south-1")


def test_without_the_account_api_the_region_is_read_from_ec2(world: World) -> None:
    opt_in = boto3.client("account", region_name="us-east-1")
    with Stubber(opt_in) as stubbed:
        stubbed.add_client_error("get_region_opt_status", "AccessDeniedException")
        account = Account(
            "prod",
            ENVIRONMENT_ACCOUNT,
            REGION,
            make_session=lambda **_: world.sessions["prod"],
            clients={"account": opt_in},
        )
        (result,) = checks.region(account)
    assert result.status == OK


@pytest.mark.parametrize(
    ("version", "trusted", "expect"),
    [
        ("5", PIPELINE_ACCOUNT, "bootstrap version 5, the app needs 6"),
        ("21", "", "trusts no account, not the pipeline account"),
        ("21", "999999999999", "trusts ['999999999999'], not the pipeline account"),
    ],
)
def test_an_old_or_untrusting_bootstrap_is_refused(world: World, version: str, trusted: str, expect: str) -> None:
    world.bootstrap("prod", version=version, trusted=trusted)
    account, _ = world.accounts()
    failures = [r for r in checks.bootstrap(account, required=6, trusted=PIPELINE_ACCOUNT) if r.status == FAIL]
    (failure,) = failures
    assert expect in failure.message
    assert f"--trust {PIPELINE_ACCOUNT} --trust-for-lookup {PIPELINE_ACCOUNT}" in failure.fix


def test_a_missing_bootstrap_names_the_command(world: World) -> None:
    account, _ = world.accounts()
    (failure,) = checks.bootstrap(account, required=6, trusted=None)
    assert "not bootstrapped" in failure.message
    assert failure.fix == f"npx cdk bootstrap aws://{ENVIRONMENT_ACCOUNT}/af-south-1 --profile <prod profile>"


def test_a_missing_or_deleted_pagerduty_secret_is_refused(world: World) -> None:
    name = pagerduty_secret_name("prod")
    account, _ = world.accounts()
    (missing,) = checks.secret(account, name)
    assert (missing.status, missing.field) == (FAIL, name) and "aws secretsmanager create-secret" in missing.fix
    secrets = world.sessions["prod"].client("secretsmanager")
    secrets.create_secret(Name=name, SecretString=PAGERDUTY_URL)
    secrets.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    (deleted,) = checks.secret(account, name)
    assert "scheduled for deletion" in deleted.message and "restore-secret" in deleted.fix


@pytest.mark.parametrize(("zone", "expect"), [("private", "private=True"), (None, "does not exist")])
def test_a_private_or_missing_hosted_zone_is_refused(world: World, zone: str | None, expect: str) -> None:
    world.ready().zone = zone
    (tls,) = _failed(_run(world, release=world.release()))["tls"]
    assert expect in tls.message and tls.fix.startswith("-c hosted-zone-id.prod=")


def test_an_imported_certificate_must_be_issued_and_cover_both_hosts(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto import settings

    acm = world.sessions["prod"].client("acm")
    covering = acm.request_certificate(DomainName="app.cashtrace.ng", SubjectAlternativeNames=["*.app.cashtrace.ng"])
    partial = acm.request_certificate(DomainName="app.cashtrace.ng")
    account, _ = world.accounts()

    def check(arn: str) -> Result:
        context = {**world.context(), "certificate-arn.prod": arn}
        environment = {c.name: c for c in preflight.environments.all_environments(context)}["prod"]
        (result, *_) = checks.tls(account, environment.endpoint, "prod")
        return result

    assert "status PENDING_VALIDATION" in check(covering["CertificateArn"]).message
    monkeypatch.setattr(settings, "ACM_VALIDATION_WAIT", 0)
    assert check(covering["CertificateArn"]).status == OK
    assert "does not cover grafana.app.cashtrace.ng" in check(partial["CertificateArn"]).message
    gone = covering["CertificateArn"].rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    assert "does not exist" in check(gone).message


@pytest.mark.parametrize(
    ("change", "expect", "code"),
    [
        ({"repository_exists": False}, "no repository cashtrace/api in pipeline", ErrorCode.CI_FAILED),
        ({"image_pushed": False}, "is not in pipeline", ErrorCode.CI_FAILED),
        ({"scan_status": "IN_PROGRESS"}, "has no completed scan (IN_PROGRESS)", ErrorCode.CI_FAILED),
        ({"scan_status": "FAILED"}, "has no completed scan (FAILED)", ErrorCode.CI_FAILED),
        ({"scan_status": "NOT_STARTED"}, "has no completed scan (NOT_STARTED)", ErrorCode.CI_FAILED),
    ],
)
def test_a_release_image_missing_or_unscanned_is_refused(
    world: World, change: dict[str, Any], expect: str, code: ErrorCode
) -> None:
    for name, value in change.items():
        setattr(world.ready(), name, value)
    (image,) = _failed(_run(world, release=world.release()))["image"]
    assert expect in image.message and image.code is code and image.fix


def test_the_placeholder_digest_is_refused_before_any_call(world: World, tmp_path: Path) -> None:
    path = tmp_path / "placeholder.json"
    path.write_text(
        json.dumps(
            {
                "schemaVersion": 1,
                "image": {"repository": "cashtrace/api", "digest": PLACEHOLDER_DIGEST},
                "commitSha": "0" * 40,
                "builtAt": "2026-11-28T03:00:00Z",
            }
        )
    )
    results = _run(world.ready(), release=path)
    (release,) = _failed(results)["release"]
    assert release.code is ErrorCode.CI_FAILED and release.field == "release.image.digest"
    assert not [r for r in results if r.check in ("image", "promotion")]


def test_a_release_staging_did_not_verify_would_be_refused_by_the_gate(world: World) -> None:
    world.ready()
    table = world.sessions["pipeline"].resource("dynamodb").Table("cashtrace-deployments")
    for item in table.scan()["Items"]:
        table.delete_item(Key={"id": item["id"]})
    (promotion,) = _failed(_run(world, release=world.release()))["promotion"]
    assert promotion.code is ErrorCode.APPROVAL_REQUIRED and "break-glass" in promotion.fix


def test_the_pipeline_stack_must_be_deployed_first(world: World) -> None:
    (pipeline,) = _failed(_run(world))["pipeline"]
    assert "CashTrace-Pipeline is not deployed" in pipeline.message and "cdk deploy CashTrace-Pipeline" in pipeline.fix


def test_an_existing_github_provider_needs_create_provider_false(world: World) -> None:
    iam = world.sessions["pipeline"].client("iam")
    arn = iam.create_open_id_connect_provider(
        Url="https://token.actions.githubusercontent.com", ClientIDList=["sts.amazonaws.com"]
    )["OpenIDConnectProviderArn"]
    _, pipeline = world.accounts()
    (failure,) = release_checks.github_oidc(pipeline, create_provider=True)
    assert failure.field == "github.create_provider" and "create_provider=False" in failure.fix
    assert release_checks.github_oidc(pipeline, create_provider=False)[0].status == OK
    # The pipeline stack's own provider, once it is deployed, is fine.
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    with Stubber(cloudformation) as stubbed:
        resource = {
            "LogicalResourceId": "GitHubReleaseProvider",
            "PhysicalResourceId": arn,
            "ResourceType": "AWS::IAM::OIDCProvider",
            "Timestamp": "2026-11-28T03:00:00Z",
            "ResourceStatus": "CREATE_COMPLETE",
        }
        stubbed.add_response(
            "describe_stack_resources", {"StackResources": [resource]}, {"StackName": "CashTrace-Pipeline"}
        )
        pipeline.clients["cloudformation"] = cloudformation
        assert release_checks.github_oidc(pipeline, create_provider=True)[0].status == OK


def test_a_read_the_credentials_may_not_make_fails_naming_it(world: World) -> None:
    ssm = boto3.client("ssm", region_name=REGION)
    with Stubber(ssm) as stubbed:
        stubbed.add_client_error("get_parameter", "AccessDeniedException")
        account = Account(
            "prod", ENVIRONMENT_ACCOUNT, REGION, make_session=lambda **_: world.sessions["prod"], clients={"ssm": ssm}
        )
        (failure,) = checks.guarded("bootstrap", account, lambda: checks.bootstrap(account, required=6, trusted=None))
    assert "GetParameter failed (AccessDeniedException)" in failure.message and "ReadOnlyAccess" in failure.fix


# ---- what the checks are measured against -------------------------------------------------------


def test_the_required_bootstrap_version_is_the_real_apps(cloud_assembly: CloudAssembly, app_outdir: Path) -> None:
    # Every stack of the real app, the pipeline's stage assemblies included, states what it requires.
    required = {
        int(artifact.get("properties", {}).get("requiresBootstrapStackVersion", 0))
        for manifest in app_outdir.glob("**/manifest.json")
        for artifact in json.loads(manifest.read_text()).get("artifacts", {}).values()
    }
    assert checks.required_bootstrap_version(app_outdir) == checks.REQUIRED_BOOTSTRAP_VERSION == max(required)


def test_the_context_is_read_as_cdk_reads_it(tmp_path: Path) -> None:
    (tmp_path / "cdk.json").write_text(json.dumps({"context": {"account.prod": "111122223333", "x": "1"}}))
    (tmp_path / "cdk.context.json").write_text(json.dumps({"x": "2"}))
    context = preflight.context_of(["account.prod=444455556666"], root=tmp_path)
    assert context == {"account.prod": "444455556666", "x": "2"}
    with pytest.raises(SystemExit, match="key=value"):
        preflight.context_of(["account.prod"], root=tmp_path)
