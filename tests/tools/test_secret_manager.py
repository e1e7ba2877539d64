"""SecretManager and its CLI against moto (Secrets Manager) and a Stubber (CloudTrail LookupEvents)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from cashtrace_constructs.errors import DeploymentError, ErrorCode
from tools.secret_manager import SecretAccessLog, SecretManager
from tools.secret_manager.__main__ import main

REGION = "af-south-1"


@pytest.fixture(scope="module")
def _moto() -> Iterator[dict[str, Any]]:
    # One moto session for the module (starting one costs ~0.5 s); each test reseeds the secrets.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        with mock_aws():
            secrets = boto3.client("secretsmanager", region_name=REGION)
            calls: list[str] = []
            secrets.meta.events.register("before-call.*", lambda model, **_: calls.append(model.name))
            yield {"secrets": secrets, "cloudtrail": boto3.client("cloudtrail", region_name=REGION), "calls": calls}


@pytest.fixture
def aws(_moto: dict[str, Any]) -> dict[str, Any]:
    secrets = _moto["secrets"]
    for entry in secrets.list_secrets()["SecretList"]:
        secrets.delete_secret(SecretId=entry["Name"], ForceDeleteWithoutRecovery=True)
    for env in ("staging", "prod"):
        secrets.create_secret(Name=f"cashtrace/{env}/api-keys", SecretString=f"{env}-value")
    secrets.create_secret(Name="cashtrace/staging/database", SecretString="db")
    _moto["calls"].clear()
    return _moto


def _manager(aws: dict[str, Any], env: str = "staging") -> SecretManager:
    return SecretManager(env, secrets_client=aws["secrets"], cloudtrail_client=aws["cloudtrail"])


def test_get_and_set_by_short_name_full_name_or_arn(aws: dict[str, Any]) -> None:
    manager = _manager(aws)
    assert manager.get_secret("api-keys") == "staging-value"
    manager.set_secret("cashtrace/staging/api-keys", "new-value")
    arn = aws["secrets"].describe_secret(SecretId="cashtrace/staging/api-keys")["ARN"]
    assert json.loads(manager.get_secret(arn)) == {"key": "new-value"}
    versions = aws["secrets"].list_secret_version_ids(SecretId="cashtrace/staging/api-keys")["Versions"]
    assert len(versions) == 2, "set_secret adds a version and keeps the previous one"


@pytest.mark.parametrize(
    "name",
    [
        "cashtrace/prod/api-keys",
        "arn:aws:secretsmanager:af-south-1:333333333333:secret:cashtrace/prod/api-keys-AbCdEf",
        "cashtrace/dev/api-keys",
        "cashtrace/staging/",
    ],
)
def test_another_environments_secret_is_refused_before_any_aws_call(aws: dict[str, Any], name: str) -> None:
    manager = _manager(aws)
    for operation in (
        lambda: manager.get_secret(name),
        lambda: manager.set_secret(name, "x"),
        lambda: manager.rotate_secret(name),
        lambda: manager.audit_access(name),
    ):
        with pytest.raises(DeploymentError) as refused:
            operation()
        assert refused.value.code is ErrorCode.SECRET_ACCESS_DENIED
    assert aws["calls"] == []
    assert aws["secrets"].get_secret_value(SecretId="cashtrace/prod/api-keys")["SecretString"] == "prod-value"


def test_aws_access_denied_maps_to_the_same_code(aws: dict[str, Any]) -> None:
    client = boto3.client("secretsmanager", region_name=REGION)
    manager = SecretManager("staging", secrets_client=client, cloudtrail_client=aws["cloudtrail"])
    with Stubber(client) as stub:
        stub.add_client_error("get_secret_value", "AccessDeniedException", "not authorized", 400)
        with pytest.raises(DeploymentError) as denied:
            manager.get_secret("api-keys")
    assert denied.value.code is ErrorCode.SECRET_ACCESS_DENIED
    assert "not authorized" in str(denied.value)


def test_a_missing_secret_is_a_config_error_not_a_crash(aws: dict[str, Any]) -> None:
    with pytest.raises(DeploymentError) as missing:
        _manager(aws).get_secret("nothing-here")
    assert missing.value.code is ErrorCode.CONFIG_INVALID


def test_list_secrets_returns_this_environment_only_with_versions_and_rotation_dates(aws: dict[str, Any]) -> None:
    # moto, without a rotation Lambda, promotes a new version at once (the service would run the Lambda).
    aws["secrets"].rotate_secret(SecretId="cashtrace/staging/api-keys", RotationRules={"AutomaticallyAfterDays": 30})
    secrets = _manager(aws).list_secrets()
    assert [s.name for s in secrets] == ["cashtrace/staging/api-keys", "cashtrace/staging/database"]
    rotated, never_rotated = secrets
    stages = aws["secrets"].describe_secret(SecretId="cashtrace/staging/api-keys")["VersionIdsToStages"]
    assert stages[rotated.version] == ["AWSCURRENT"] and len(stages) == 2
    assert rotated.expires_at is not None and rotated.expires_at - rotated.rotated_at >= timedelta(days=29)
    assert never_rotated.expires_at is None and never_rotated.rotated_at >= never_rotated.created_at


def test_rotate_secret_starts_the_configured_rotation(aws: dict[str, Any]) -> None:
    client = boto3.client("secretsmanager", region_name=REGION)
    manager = SecretManager("staging", secrets_client=client, cloudtrail_client=aws["cloudtrail"])
    with Stubber(client) as stub:
        arn = "arn:aws:secretsmanager:af-south-1:222222222222:secret:cashtrace/staging/api-keys-AbCdEf"
        name = "cashtrace/staging/api-keys"
        stub.add_response("rotate_secret", {"ARN": arn, "Name": name}, {"SecretId": name})
        manager.rotate_secret("api-keys")
        stub.assert_no_pending_responses()


def _event(name: str, event_name: str, principal: str, when: datetime, error: str | None = None) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "eventName": event_name,
        "userIdentity": {"arn": principal},
        "requestParameters": {"secretId": name},
    }
    if error:
        detail["errorCode"] = error
    return {"EventId": "e", "EventName": event_name, "EventTime": when, "CloudTrailEvent": json.dumps(detail)}


def test_audit_access_reads_cloudtrail_for_one_secret(aws: dict[str, Any]) -> None:
    cloudtrail = boto3.client("cloudtrail", region_name=REGION)
    manager = SecretManager("staging", secrets_client=aws["secrets"], cloudtrail_client=cloudtrail)
    now = datetime.now(UTC).replace(microsecond=0)
    task = "arn:aws:sts::222222222222:assumed-role/api-task/1"
    intruder = "arn:aws:sts::222222222222:assumed-role/prod-tagged/2"
    arn = "arn:aws:secretsmanager:af-south-1:222222222222:secret:cashtrace/staging/api-keys-AbCdEf"
    expected = {
        "LookupAttributes": [{"AttributeKey": "EventSource", "AttributeValue": "secretsmanager.amazonaws.com"}],
        "StartTime": ANY,
        "EndTime": ANY,
    }
    with Stubber(cloudtrail) as stub:
        stub.add_response(
            "lookup_events",
            {
                "Events": [
                    _event("cashtrace/staging/api-keys", "GetSecretValue", task, now - timedelta(minutes=3)),
                    _event(arn, "GetSecretValue", intruder, now - timedelta(minutes=2), error="AccessDenied"),
                    _event("cashtrace/staging/database", "GetSecretValue", task, now),
                    _event("cashtrace/staging/api-keys", "ListSecrets", task, now),
                ],
                "NextToken": "page-2",
            },
            expected,
        )
        stub.add_response(
            "lookup_events",
            {"Events": [_event(arn, "RotateSecret", "secretsmanager.amazonaws.com", now - timedelta(minutes=1))]},
            {**expected, "NextToken": "page-2"},
        )
        logs = manager.audit_access("api-keys")
        stub.assert_no_pending_responses()
    assert logs == [
        SecretAccessLog(now - timedelta(minutes=3), task, "read", True),
        SecretAccessLog(now - timedelta(minutes=2), intruder, "read", False),
        SecretAccessLog(now - timedelta(minutes=1), "secretsmanager.amazonaws.com", "rotate", True),
    ]


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(DeploymentError) as refused:
        SecretManager("qa", secrets_client=object(), cloudtrail_client=object())
    assert refused.value.code is ErrorCode.CONFIG_INVALID and refused.value.field == "environment"


# ---- CLI ----


def _cli(aws: dict[str, Any], *argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        list(argv),
        manager_factory=lambda env, region: _manager(aws, env),
        stdin=io.StringIO(stdin),
        stdout=out,
        stderr=err,
    )
    return code, out.getvalue(), err.getvalue()


def test_cli_set_reads_stdin_then_get_and_list(aws: dict[str, Any]) -> None:
    assert _cli(aws, "--env", "staging", "set", "api-keys", stdin="from-stdin\n")[0] == 0
    assert _cli(aws, "--env", "staging", "get", "api-keys") == (0, '{"key": "from-stdin"}\n', "")
    code, out, _ = _cli(aws, "--env", "staging", "list")
    assert code == 0
    assert [json.loads(line)["name"] for line in out.splitlines()] == [
        "cashtrace/staging/api-keys",
        "cashtrace/staging/database",
    ]


def test_cli_refuses_another_environment_with_the_code_and_exit_2(aws: dict[str, Any]) -> None:
    code, out, err = _cli(aws, "--env", "staging", "get", "cashtrace/prod/api-keys")
    assert (code, out) == (2, "")
    assert err.startswith("DEPLOY_SECRET_ACCESS_DENIED")
    assert aws["calls"] == []


def test_cli_set_without_a_value_is_refused(aws: dict[str, Any]) -> None:
    code, _, err = _cli(aws, "--env", "staging", "set", "api-keys", stdin="")
    assert code == 2 and "DEPLOY_CONFIG_INVALID" in err


def test_cli_requires_a_known_environment(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--env", "qa", "list"])
    assert "invalid choice" in capsys.readouterr().err


# ---- set writes the shape rotation and the application read ----


def test_set_keeps_the_other_fields_and_puts_a_plain_value_under_key(aws: dict[str, Any]) -> None:
    secrets = aws["secrets"]
    secrets.put_secret_value(SecretId="cashtrace/staging/api-keys", SecretString='{"key": "old", "issuer": "psp"}')
    manager = _manager(aws)
    manager.set_secret("api-keys", "sk_live_from_the_provider")
    assert json.loads(manager.get_secret("api-keys")) == {"key": "sk_live_from_the_provider", "issuer": "psp"}
    manager.set_secret("api-keys", '{"key": "sk_2", "issuer": "psp-2"}')
    assert json.loads(manager.get_secret("api-keys")) == {"key": "sk_2", "issuer": "psp-2"}


def test_what_set_writes_passes_the_rotation_lambdas_test_step(aws: dict[str, Any]) -> None:
    from cashtrace_constructs.secrets import SECRET_VALUE_KEY
    from tools.secret_manager.manager import VALUE_KEY

    assert VALUE_KEY == SECRET_VALUE_KEY
    manager = _manager(aws)
    manager.set_secret("api-keys", "x" * 48)
    value = json.loads(manager.get_secret("api-keys"))
    # The rotation Lambda's _version refuses anything but a JSON object, and replaces `key`.
    assert isinstance(value, dict) and isinstance(value[VALUE_KEY], str)


@pytest.mark.parametrize("value", ['{"other": "x"}', '{"key": 42}', '{"key": ""}'])
def test_set_refuses_an_object_without_a_string_key(aws: dict[str, Any], value: str) -> None:
    with pytest.raises(DeploymentError) as refused:
        _manager(aws).set_secret("api-keys", value)
    assert refused.value.code is ErrorCode.CONFIG_INVALID and refused.value.field == "value"


def test_set_refuses_a_database_login(aws: dict[str, Any]) -> None:
    login = {"SecretId": "cashtrace/staging/database"}  # pragma: allowlist secret
    login["SecretString"] = json.dumps({"username": "cashtrace_admin", "password": "p"})  # pragma: allowlist secret
    aws["secrets"].put_secret_value(**login)
    with pytest.raises(DeploymentError, match="rotate"):
        _manager(aws).set_secret("database", "new-password")  # pragma: allowlist secret
    assert json.loads(_manager(aws).get_secret("database"))["password"] == "p"
