"""The read-only checks of the pipeline account for a release: the stack, the image and its scan, GitHub's OIDC
provider, and whether prod's promotion gate would accept the release."""

from __future__ import annotations

from botocore.exceptions import ClientError

from cashtrace_constructs.config import DEPLOYMENT_RECORD_TABLE_PARAMETER, GITHUB_OIDC_ISSUER
from cashtrace_constructs.errors import ErrorCode
from lambdas.promotion_gate.handler import DeploymentRecord, Settings, verdict
from tools.image_scan_gate.gate import IN_PROGRESS, READY
from tools.preflight.accounts import GLOBAL_REGION, Account
from tools.preflight.checks import error_code
from tools.preflight.report import OK, Result, failed

PIPELINE_STACK = "CashTrace-Pipeline"


def image(account: Account, repository: str, digest: str) -> list[Result]:
    """The release image is in the pipeline account's repository, and ECR's scan of it has completed."""
    image_id = {"imageDigest": digest}
    ecr = account.client("ecr")
    try:
        ecr.describe_images(repositoryName=repository, imageIds=[image_id])
    except ClientError as error:
        if error_code(error) == "RepositoryNotFoundException":
            return [
                failed(
                    "image",
                    ErrorCode.CI_FAILED,
                    f"no repository {repository} in {account.label}",
                    fix=f"deploy {PIPELINE_STACK} first: it owns the repository",
                )
            ]
        if error_code(error) != "ImageNotFoundException":
            raise
        return [
            failed(
                "image",
                ErrorCode.CI_FAILED,
                f"{repository}@{digest} is not in {account.label}",
                field="release.image.digest",
                fix="let CI's release workflow push it (docs/ci.md)",
            )
        ]
    try:
        scan = ecr.describe_image_scan_findings(repositoryName=repository, imageId=image_id, maxResults=1)
    except ClientError as error:
        if error_code(error) != "ScanNotFoundException":
            raise
        scan = {"imageScanStatus": {"status": "NOT_STARTED"}}
    status = str((scan.get("imageScanStatus") or {}).get("status"))
    if status in READY:
        counts = (scan.get("imageScanFindings") or {}).get("findingSeverityCounts") or {}
        return [
            Result(
                "image",
                OK,
                f"{repository}@{digest[:19]}… is in {account.label}, scan {status} {counts or '(no findings)'}",
            )
        ]
    wait = (
        "wait for it (the pipeline's gate waits up to 600 s)"
        if status in IN_PROGRESS
        else f"aws ecr start-image-scan --repository-name {repository} --image-id imageDigest={digest}"
    )
    return [
        failed(
            "image",
            ErrorCode.CI_FAILED,
            f"{repository}@{digest} has no completed scan ({status})",
            field="release.image",
            fix=wait,
        )
    ]


def pipeline_stack(account: Account) -> list[Result]:
    """CashTrace-Pipeline is deployed (environments pull its images) and what GitHub needs from its outputs."""
    try:
        stack = account.client("cloudformation").describe_stacks(StackName=PIPELINE_STACK)["Stacks"][0]
    except ClientError as error:
        if error_code(error) != "ValidationError":
            raise
        return [
            failed(
                "pipeline",
                ErrorCode.CONFIG_INVALID,
                f"{PIPELINE_STACK} is not deployed in {account.label}",
                fix=f"npx cdk deploy {PIPELINE_STACK} -c account.pipeline=... (README step 4)",
            )
        ]
    status = str(stack["StackStatus"])
    if not status.endswith("_COMPLETE") or "ROLLBACK" in status:
        return [
            failed("pipeline", ErrorCode.CONFIG_INVALID, f"{PIPELINE_STACK} is {status}", fix="fix and redeploy it")
        ]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
    variables = {"CASHTRACE_RELEASE_ROLE_ARN": "GitHubReleaseRoleArn", "CASHTRACE_SOURCE_BUCKET": "SourceBucketName"}
    shown = ", ".join(f"{variable}={outputs.get(output, '?')}" for variable, output in variables.items())
    return [Result("pipeline", OK, f"{PIPELINE_STACK} is {status}; GitHub variables: {shown}")]


def github_oidc(account: Account, *, create_provider: bool) -> list[Result]:
    """One GitHub OIDC provider per account: the pipeline stack creates it, unless one exists already."""
    iam = account.client("iam", GLOBAL_REGION)
    arns = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    existing = next((arn for arn in arns if arn.endswith(f"/{GITHUB_OIDC_ISSUER}")), None)
    if existing and create_provider and not _owned_by_pipeline(account, existing):
        return [
            failed(
                "github-oidc",
                ErrorCode.CONFIG_INVALID,
                f"{existing} exists already, so creating it again would fail the pipeline stack",
                field="github.create_provider",
                fix="GitHubOidcConfig(create_provider=False) in stacks/environments.py github_oidc(), committed",
            )
        ]
    if not existing and not create_provider:
        return [
            failed(
                "github-oidc",
                ErrorCode.CONFIG_INVALID,
                "no GitHub OIDC provider, and the config imports one",
                field="github.create_provider",
                fix="create_provider=True in stacks/environments.py github_oidc()",
            )
        ]
    return [
        Result(
            "github-oidc",
            OK,
            f"provider {'exists (' + existing + ')' if existing else 'will be created by ' + PIPELINE_STACK}",
        )
    ]


def _owned_by_pipeline(account: Account, arn: str) -> bool:
    try:
        resources = account.client("cloudformation").describe_stack_resources(StackName=PIPELINE_STACK)
    except ClientError as error:
        if error_code(error) != "ValidationError":
            raise
        return False
    return any(r.get("PhysicalResourceId") == arn for r in resources.get("StackResources") or [])


def promotion(account: Account, environment: str, verified_in: str, digest: str, commit: str) -> list[Result]:
    """Would prod's promotion gate accept this release? The same verdict, read from the record directly."""
    try:
        name = account.client("ssm").get_parameter(Name=DEPLOYMENT_RECORD_TABLE_PARAMETER)["Parameter"]["Value"]
    except ClientError as error:
        if error_code(error) != "ParameterNotFound":
            raise
        return [
            failed(
                "promotion",
                ErrorCode.APPROVAL_REQUIRED,
                "no deployment record yet (the pipeline stack writes it)",
                fix=f"deploy {PIPELINE_STACK}, then ship the release through staging",
            )
        ]
    settings = Settings(
        environment=environment, verified_in=verified_in, record_role_arn="", table_parameter="", region=account.region
    )
    result = verdict(DeploymentRecord(account.table(name)), settings, digest, commit)
    if result.accepted:
        return [Result("promotion", OK, f"the promotion gate would accept it: {result.message}")]
    return [
        failed(
            "promotion",
            ErrorCode.APPROVAL_REQUIRED,
            f"the promotion gate would refuse it: {result.message}",
            field=f"{environment}.service.image_digest",
            fix='ship it through the pipeline, or deploy with -c break-glass="<reason>" (recorded)',
        )
    ]
