"""The rotation Lambda against moto: Secrets Manager's own RotateSecret drives the four steps."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambdas.secret_rotation import handler as rotation

NAME = "cashtrace/staging/api-keys"
FUNCTION_ARN = "arn:aws:lambda:af-south-1:123456789012:function:rotation"


class _InProcessLambda:
    """Stands in for moto's Lambda backend (which needs Docker): runs our handler in-process.

    moto's RotateSecret stages the AWSPENDING version, then invokes the four steps in order,
    exactly as the service does.
    """

    def __init__(self, fail_on: Callable[[str], bool]) -> None:
        self.fail_on = fail_on
        self.steps: list[str] = []

    def get_function(self, arn: str) -> None:
        assert arn == FUNCTION_ARN

    def invoke(self, arn: str, qualifier: Any, body: str, headers: Any, response_headers: Any) -> None:
        event = json.loads(body)
        self.steps.append(event["Step"])
        if self.fail_on(event["Step"]):
            raise rotation.RotationError(f"injected failure in {event['Step']}")
        rotation.handler(event, None)


@pytest.fixture(scope="module")
def _aws() -> Iterator[Any]:
    # One moto session for the module (starting one costs ~0.5 s); each test recreates the secret.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "af-south-1")
        patch.setenv("SECRET_VALUE_KEY", "key")
        with mock_aws():
            rotation._client.cache_clear()
            yield boto3.client("secretsmanager", region_name="af-south-1")
            rotation._client.cache_clear()


@pytest.fixture
def client(_aws: Any) -> Any:
    _aws.delete_secret(SecretId=NAME, ForceDeleteWithoutRecovery=True)
    _aws.create_secret(Name=NAME, SecretString=json.dumps({"key": "k" * 48, "issuer": "cashtrace"}))
    return _aws


def _lambda(monkeypatch: pytest.MonkeyPatch, fail_on: Callable[[str], bool] = lambda step: False) -> _InProcessLambda:
    fake = _InProcessLambda(fail_on)
    monkeypatch.setattr("moto.awslambda.utils.get_backend", lambda account, region: fake)
    return fake


def _rotate(client: Any) -> None:
    client.rotate_secret(SecretId=NAME, RotationLambdaARN=FUNCTION_ARN, RotationRules={"AutomaticallyAfterDays": 30})


def _current_version(client: Any) -> dict[str, Any]:
    # By label: moto's UpdateSecretVersionStage moves the label but not its unlabelled default.
    return dict(client.get_secret_value(SecretId=NAME, VersionStage="AWSCURRENT"))


def _current(client: Any) -> dict[str, Any]:
    return dict(json.loads(_current_version(client)["SecretString"]))


def _stages(client: Any) -> dict[str, list[str]]:
    return dict(client.describe_secret(SecretId=NAME)["VersionIdsToStages"])


def test_rotation_replaces_the_key_and_keeps_the_other_fields(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _lambda(monkeypatch)
    before = _current(client)
    _rotate(client)
    after = _current(client)
    assert fake.steps == ["createSecret", "setSecret", "testSecret", "finishSecret"]
    assert after["key"] != before["key"] and len(after["key"]) >= rotation.MIN_VALUE_LENGTH
    assert after["issuer"] == "cashtrace"
    current = [version for version, stages in _stages(client).items() if "AWSCURRENT" in stages]
    assert len(current) == 1


@pytest.mark.parametrize("failing_step", ["setSecret", "testSecret", "finishSecret"])
def test_a_failure_midway_leaves_the_current_secret_readable_and_unchanged(
    client: Any, monkeypatch: pytest.MonkeyPatch, failing_step: str
) -> None:
    _lambda(monkeypatch, fail_on=lambda step: step == failing_step)
    before = _current(client)
    current_version = _current_version(client)["VersionId"]
    with pytest.raises(Exception, match="injected failure"):
        _rotate(client)
    assert _current(client) == before
    assert _current_version(client)["VersionId"] == current_version
    pending = [version for version, stages in _stages(client).items() if "AWSPENDING" in stages]
    assert len(pending) == 1 and pending[0] != current_version

    # Secrets Manager retries the same token; every step picks up where the failure left it.
    token = pending[0]
    pending_before_retry = client.get_secret_value(SecretId=NAME, VersionStage="AWSPENDING")["SecretString"]
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        rotation.handler({"SecretId": NAME, "ClientRequestToken": token, "Step": step}, None)
    after = _current(client)
    assert after["key"] != before["key"]
    assert json.dumps(after) == pending_before_retry, "the retry reused the pending value instead of a new one"
    assert _current_version(client)["VersionId"] == token


def test_a_failure_in_create_leaves_no_pending_value_and_current_intact(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _lambda(monkeypatch, fail_on=lambda step: step == "createSecret")
    before = _current(client)
    with pytest.raises(Exception, match="injected failure"):
        _rotate(client)
    assert _current(client) == before


def test_every_step_is_idempotent(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _lambda(monkeypatch, fail_on=lambda step: step == "finishSecret")
    with pytest.raises(Exception, match="injected failure"):
        _rotate(client)
    token = next(version for version, stages in _stages(client).items() if "AWSPENDING" in stages)
    event = {"SecretId": NAME, "ClientRequestToken": token}
    rotation.handler({**event, "Step": "createSecret"}, None)
    pending = client.get_secret_value(SecretId=NAME, VersionStage="AWSPENDING")["SecretString"]
    rotation.handler({**event, "Step": "createSecret"}, None)
    assert client.get_secret_value(SecretId=NAME, VersionStage="AWSPENDING")["SecretString"] == pending
    rotation.handler({**event, "Step": "finishSecret"}, None)
    rotation.handler({**event, "Step": "finishSecret"}, None)
    assert _current_version(client)["VersionId"] == token
    # Once current, any further step for that token is a no-op rather than an error.
    rotation.handler({**event, "Step": "testSecret"}, None)


def test_refuses_a_token_that_is_not_staged(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _lambda(monkeypatch)
    _rotate(client)
    with pytest.raises(rotation.RotationError, match="not staged"):
        rotation.handler(
            {"SecretId": NAME, "ClientRequestToken": "00000000-0000-0000-0000-000000000000", "Step": "createSecret"},
            None,
        )


def test_test_step_refuses_a_pending_value_equal_to_the_current_one(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _lambda(monkeypatch, fail_on=lambda step: step == "setSecret")
    with pytest.raises(Exception, match="injected failure"):
        _rotate(client)
    token = next(version for version, stages in _stages(client).items() if "AWSPENDING" in stages)
    current = _current_version(client)["SecretString"]
    client.put_secret_value(SecretId=NAME, ClientRequestToken=token, SecretString=current, VersionStages=["AWSPENDING"])
    with pytest.raises(rotation.RotationError, match="equals the current"):
        rotation.handler({"SecretId": NAME, "ClientRequestToken": token, "Step": "testSecret"}, None)
    assert _current_version(client)["SecretString"] == current


def test_unknown_step_and_disabled_rotation_are_refused(client: Any) -> None:
    with pytest.raises(rotation.RotationError, match="unknown rotation step"):
        rotation.handler({"SecretId": NAME, "ClientRequestToken": "t", "Step": "dance"}, None)
    with pytest.raises(rotation.RotationError, match="not enabled"):
        rotation.handler({"SecretId": NAME, "ClientRequestToken": "t", "Step": "createSecret"}, None)


def test_test_step_refuses_a_pending_value_that_lost_fields_or_is_not_an_object(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _lambda(monkeypatch, fail_on=lambda step: step == "setSecret")
    with pytest.raises(Exception, match="injected failure"):
        _rotate(client)
    token = next(version for version, stages in _stages(client).items() if "AWSPENDING" in stages)
    event = {"SecretId": NAME, "ClientRequestToken": token, "Step": "testSecret"}
    for pending, message in ((json.dumps({"key": "n" * 48}), "lost keys"), ('"just a string"', "not a JSON object")):
        client.put_secret_value(
            SecretId=NAME, ClientRequestToken=token, SecretString=pending, VersionStages=["AWSPENDING"]
        )
        with pytest.raises(rotation.RotationError, match=message):
            rotation.handler(event, None)
    assert _current(client)["issuer"] == "cashtrace"
