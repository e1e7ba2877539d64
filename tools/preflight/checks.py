"""The read-only checks of an account: credentials, region, CDK bootstrap and its trust, secrets, TLS.

Each needs only Get/Describe/List/Query calls (the `ReadOnlyAccess` managed policy covers them);
what the AWS API cannot tell (a registrar's delegation) is a note with the command that can.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from cashtrace_constructs.config import EndpointConfig
from cashtrace_constructs.errors import ErrorCode
from tools.preflight.accounts import GLOBAL_REGION, Account, NoCredentials
from tools.preflight.report import FAIL, NOTE, OK, SKIPPED, Result, failed

CDK_JSON = Path(__file__).resolve().parent.parent.parent / "cdk.json"
DEFAULT_QUALIFIER = "hnb659fds"
DEFAULT_TOOLKIT_STACK = "CDKToolkit"
# What the synthesized app asks of the bootstrap stack (every artifact's requiresBootstrapStackVersion);
# read from cdk.out when there is one. tests/tools/test_preflight.py keeps this equal to the real app's.
REQUIRED_BOOTSTRAP_VERSION = 6
ENABLED = frozenset({"ENABLED", "ENABLED_BY_DEFAULT"})
READ_ACCESS = "the preflight's credentials need read access (e.g. the ReadOnlyAccess managed policy)"


def guarded(check: str, account: Account, run: Callable[[], list[Result]]) -> list[Result]:
    """A check's results; AWS errors become one FAIL naming the call, missing credentials one 'not checked'."""
    try:
        account.whoami()
        return run()
    except NoCredentials:
        return [Result(check, SKIPPED, f"no credentials for the {account.label} account")]
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Error")
        operation = getattr(error, "operation_name", "a read")
        return [
            failed(check, ErrorCode.CONFIG_INVALID, f"could not check: {operation} failed ({code})", fix=READ_ACCESS)
        ]
    except BotoCoreError as error:
        return [failed(check, ErrorCode.CONFIG_INVALID, f"could not check: {error}", fix="network access to AWS")]


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def credentials(account: Account) -> Result:
    """Whose credentials these are, against the configured account."""
    try:
        actual = account.whoami()
    except NoCredentials as missing:
        return Result(
            "credentials", FAIL, str(missing), ErrorCode.CONFIG_INVALID, f"{account.label}.credentials", missing.how_to
        )
    if actual == account.expected:
        return Result("credentials", OK, f"{account.label}: account {actual}")
    variable = "PIPELINE_PROFILE" if account.label == "pipeline" else "PROFILE"
    return failed(
        "credentials",
        ErrorCode.CONFIG_INVALID,
        f"the credentials are for account {actual}, but {account.label} is {account.expected}; "
        f"the checks below read {actual}",
        field=f"{account.label}.account",
        fix=f"if {actual} is the {account.label} account: -c account.{account.label}={actual}; "
        f"else {variable}=<a profile of {account.expected}>",
    )


def region(account: Account) -> list[Result]:
    """The region is enabled for the account (af-south-1 is an opt-in region)."""
    name = account.region
    fix = (
        f"aws account enable-region --region-name {name} --profile <{account.label} profile>, then wait until "
        f"`aws account get-region-opt-status --region-name {name}` says ENABLED"
    )
    try:
        status = account.client("account", GLOBAL_REGION).get_region_opt_status(RegionName=name)["RegionOptStatus"]
    except ClientError:
        # Without account:GetRegionOptStatus, EC2 in the region itself answers, or refuses an account not opted in.
        try:
            found = account.client("ec2").describe_regions(RegionNames=[name], AllRegions=True)["Regions"]
            status = "ENABLED" if found and found[0].get("OptInStatus") != "not-opted-in" else "DISABLED"
        except ClientError as error:
            if error_code(error) not in ("AuthFailure", "OptInRequired", "InvalidClientTokenId"):
                raise
            status = "DISABLED"
    if status in ENABLED:
        return [Result("region", OK, f"{name} is enabled in {account.label} ({account.whoami()})")]
    return [failed("region", ErrorCode.CONFIG_INVALID, f"{name} is {status} in {account.label}", fix=fix)]


def _cdk_settings() -> tuple[str, str]:
    context = json.loads(CDK_JSON.read_text()).get("context", {})
    return context.get("@aws-cdk/core:bootstrapQualifier", DEFAULT_QUALIFIER), DEFAULT_TOOLKIT_STACK


def required_bootstrap_version(assembly: Path) -> int:
    """The highest bootstrap version the synthesized app requires (cdk.out), else the known requirement."""
    try:
        artifacts = json.loads((assembly / "manifest.json").read_text()).get("artifacts", {})
    except (OSError, json.JSONDecodeError):
        return REQUIRED_BOOTSTRAP_VERSION
    versions = [
        int(artifact.get("properties", {}).get("requiresBootstrapStackVersion", 0)) for artifact in artifacts.values()
    ]
    return max([*versions, REQUIRED_BOOTSTRAP_VERSION])


def bootstrap(account: Account, *, required: int, trusted: str | None) -> list[Result]:
    """CDK bootstrap: present, recent enough, and (for a pipeline-deployed environment) trusting the pipeline."""
    qualifier, toolkit = _cdk_settings()
    command = f"npx cdk bootstrap aws://{account.whoami()}/{account.region} --profile <{account.label} profile>"
    if trusted:
        command += (
            f" --trust {trusted} --trust-for-lookup {trusted}"
            " --cloudformation-execution-policies arn:aws:iam::aws:policy/AdministratorAccess"
        )
    parameter = f"/cdk-bootstrap/{qualifier}/version"
    try:
        version = int(account.client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"])
    except ClientError as error:
        if error_code(error) != "ParameterNotFound":
            raise
        return [failed("bootstrap", ErrorCode.CONFIG_INVALID, f"not bootstrapped ({parameter} missing)", fix=command)]
    if version < required:
        return [
            failed(
                "bootstrap",
                ErrorCode.CONFIG_INVALID,
                f"bootstrap version {version}, the app needs {required}",
                fix=command,
            )
        ]
    results = [Result("bootstrap", OK, f"{account.label}: bootstrap version {version} (needs {required})")]
    if trusted:
        try:
            stack = account.client("cloudformation").describe_stacks(StackName=toolkit)["Stacks"][0]
        except ClientError as error:
            if error_code(error) != "ValidationError":
                raise
            stack = {"Parameters": [], "StackStatus": "missing"}
        parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters") or []}
        accounts = [a.strip() for a in parameters.get("TrustedAccounts", "").split(",") if a.strip()]
        if trusted not in accounts:
            results.append(
                failed(
                    "bootstrap",
                    ErrorCode.CONFIG_INVALID,
                    f"{toolkit} ({stack.get('StackStatus')}) trusts {accounts or 'no account'}, not the pipeline "
                    f"account {trusted}: its deploy roles would refuse the pipeline",
                    fix=command,
                )
            )
        else:
            results.append(Result("bootstrap", OK, f"{account.label} trusts the pipeline account {trusted}"))
    return results


def secret(account: Account, name: str) -> list[Result]:
    """A secret the stack reads by dynamic reference: it must exist before the first deploy."""
    fix = (
        f"aws secretsmanager create-secret --name {name} --region {account.region} --profile <{account.label} profile> "
        "--secret-string 'https://events.pagerduty.com/integration/<integration key>/enqueue' (docs/monitoring.md)"
    )
    try:
        described = account.client("secretsmanager").describe_secret(SecretId=name)
    except ClientError as error:
        if error_code(error) == "AccessDeniedException":
            return [failed("secrets", ErrorCode.SECRET_ACCESS_DENIED, f"{name}: access denied", fix=READ_ACCESS)]
        if error_code(error) != "ResourceNotFoundException":
            raise
        return [failed("secrets", ErrorCode.CONFIG_INVALID, f"{name} does not exist", field=name, fix=fix)]
    if described.get("DeletedDate"):
        restore = f"aws secretsmanager restore-secret --secret-id {name} --profile <{account.label} profile>"
        return [
            failed("secrets", ErrorCode.CONFIG_INVALID, f"{name} is scheduled for deletion", field=name, fix=restore)
        ]
    return [Result("secrets", OK, f"{name} exists")]


def _covers(names: Sequence[str], host: str) -> bool:
    return any(name == host or (name.startswith("*.") and host.split(".", 1)[-1] == name[2:]) for name in names)


def tls(account: Account, endpoint: EndpointConfig, environment: str) -> list[Result]:
    """The imported certificate is issued and covers the hosts, or the hosted zone exists and is public."""
    if endpoint.plain_http:
        return [Result("tls", OK, f"{environment} runs plain HTTP by its config")]
    if endpoint.certificate_arn:
        return _certificate(account, endpoint, environment)
    zone = endpoint.hosted_zone
    assert zone is not None  # EndpointConfig.validate guarantees one of the two
    fix = f"-c hosted-zone-id.{environment}=<the public zone of {zone.zone_name} in account {account.whoami()}>"
    try:
        found = account.client("route53", GLOBAL_REGION).get_hosted_zone(Id=zone.zone_id)
    except ClientError as error:
        if error_code(error) != "NoSuchHostedZone":
            raise
        return [failed("tls", ErrorCode.CONFIG_INVALID, f"hosted zone {zone.zone_id} does not exist", fix=fix)]
    config = found["HostedZone"].get("Config") or {}
    if config.get("PrivateZone") or found["HostedZone"]["Name"].rstrip(".") != zone.zone_name:
        name = found["HostedZone"]["Name"]
        return [
            failed(
                "tls",
                ErrorCode.CONFIG_INVALID,
                f"{zone.zone_id} is {name}, private={config.get('PrivateZone')}",
                fix=fix,
            )
        ]
    servers = sorted((found.get("DelegationSet") or {}).get("NameServers") or [])
    return [
        Result("tls", OK, f"public hosted zone {zone.zone_name} ({zone.zone_id}): the stack issues the certificate"),
        Result(
            "dns",
            NOTE,
            f"no AWS API shows whether the registrar delegates {zone.zone_name} to this zone; until it does, the "
            "certificate's DNS validation never completes and the deploy waits on it",
            fix=f"dig +short NS {zone.zone_name} must list {', '.join(servers) or 'the zone name servers'}",
        ),
    ]


def _certificate(account: Account, endpoint: EndpointConfig, environment: str) -> list[Result]:
    arn = str(endpoint.certificate_arn)
    names = " and ".join(endpoint.certificate_names)
    fix = f"request it in {account.region} for {names} and validate it, then -c certificate-arn.{environment}=<arn>"
    try:
        certificate = account.client("acm").describe_certificate(CertificateArn=arn)["Certificate"]
    except ClientError as error:
        if error_code(error) not in ("ResourceNotFoundException", "ValidationException"):
            raise
        return [
            failed(
                "tls",
                ErrorCode.CONFIG_INVALID,
                f"{arn} does not exist",
                field=f"{environment}.endpoint.certificate_arn",
                fix=fix,
            )
        ]
    status = certificate.get("Status")
    covered = [certificate.get("DomainName", ""), *certificate.get("SubjectAlternativeNames", [])]
    missing = [host for host in endpoint.certificate_names if not _covers(covered, host)]
    expires = certificate.get("NotAfter")
    problems = [f"status {status}"] if status != "ISSUED" else []
    problems += [f"does not cover {', '.join(missing)}"] if missing else []
    problems += ["expired"] if isinstance(expires, datetime) and expires <= datetime.now(UTC) else []
    if problems:
        return [
            failed(
                "tls",
                ErrorCode.CONFIG_INVALID,
                f"certificate {arn}: {'; '.join(problems)}",
                field=f"{environment}.endpoint.certificate_arn",
                fix=fix,
            )
        ]
    return [Result("tls", OK, f"certificate issued for {', '.join(endpoint.certificate_names)}")]
