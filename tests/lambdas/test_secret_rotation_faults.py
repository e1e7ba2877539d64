"""Faults of the application-secret rotation: what Secrets Manager sees, and that the current value survives.

A failing step raises: Secrets Manager marks the rotation failed (the RotationFailed alarm fires)
and retries the same token later; AWSCURRENT stays readable and unchanged. moto for the secret,
botocore's Stubber for throttling and access denied.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from lambdas.secret_rotation import handler as rotation

NAME = "cashtrace/staging/signing-key"


class _Unreached:
    """A rotation function that never ran: RotateSecret leaves AWSPENDING on an empty new version."""

    def get_function(self, arn: str) -> None:
        return None

    def invoke(self, *args: Any, **kwargs: Any) -> None:
        return None


@pytest.fixture
def secret(moto_secrets: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    monkeypatch.setattr("moto.awslambda.utils.get_backend", lambda account, region: _Unreached())
    monkeypatch.setattr(rotation, "_client", lambda: moto_secrets)
    client = moto_secrets
    client.create_secret(Name=NAME, SecretString=json.dumps({"key": "k" * 48, "issuer": "cashtrace"}))
    token = "11111111-2222-3333-4444-555555555555"
    client.rotate_secret(
        SecretId=NAME,
        ClientRequestToken=token,
        RotationLambdaARN="arn:aws:lambda:af-south-1:123456789012:function:rotation",
        RotationRules={"AutomaticallyAfterDays": 30},
    )
    yield client, token
    client.delete_secret(SecretId=NAME, ForceDeleteWithoutRecovery=True)


def _current(client: Any) -> str:
    return str(client.get_secret_value(SecretId=NAME, VersionStage="AWSCURRENT")["SecretString"])


@pytest.mark.parametrize(
    "event",
    [{}, {"SecretId": NAME}, {"SecretId": NAME, "ClientRequestToken": "t"}, {"Step": "createSecret"}],
)
def test_a_malformed_event_raises_before_any_change(secret: tuple[Any, str], event: dict[str, Any]) -> None:
    client, _ = secret
    before = _current(client)
    # Secrets Manager records the step as failed (RotationFailed, alarmed) and keeps AWSCURRENT.
    with pytest.raises(KeyError):
        rotation.handler(event, None)
    assert _current(client) == before


@pytest.mark.parametrize("code", ["ThrottlingException", "AccessDeniedException", "InternalServiceError"])
def test_create_failing_on_aws_errors_leaves_current_and_raises(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client = boto3.client("secretsmanager", region_name="af-south-1", aws_access_key_id="x", aws_secret_access_key="x")
    token, current = "1" * 32, "0" * 32
    with Stubber(client) as stubber:
        stubber.add_response(
            "describe_secret",
            {"RotationEnabled": True, "VersionIdsToStages": {token: ["AWSPENDING"], current: ["AWSCURRENT"]}},
        )
        stubber.add_response("get_secret_value", {"SecretString": json.dumps({"key": "k" * 48})})
        stubber.add_client_error("get_secret_value", "ResourceNotFoundException")
        stubber.add_client_error("get_random_password", code)
        monkeypatch.setattr(rotation, "_client", lambda: client)
        # Secrets Manager sees createSecret fail and retries later with the same token; no
        # put_secret_value was made (the Stubber would refuse an unexpected call).
        with pytest.raises(ClientError, match=code):
            rotation.handler({"SecretId": NAME, "ClientRequestToken": token, "Step": "createSecret"}, None)


def test_a_create_that_timed_out_after_its_put_is_retried_without_a_second_value(secret: tuple[Any, str]) -> None:
    client, token = secret
    event = {"SecretId": NAME, "ClientRequestToken": token, "Step": "createSecret"}
    rotation.handler(event, None)
    # The Lambda hit its deadline right after the put: Secrets Manager invokes createSecret again.
    staged = client.get_secret_value(SecretId=NAME, VersionStage="AWSPENDING")["SecretString"]
    rotation.handler(event, None)
    assert client.get_secret_value(SecretId=NAME, VersionStage="AWSPENDING")["SecretString"] == staged


def test_a_superseded_token_is_refused_and_changes_nothing(secret: tuple[Any, str]) -> None:
    client, _ = secret
    before = _current(client)
    # A late retry for a rotation that a newer one replaced: its token is no longer staged.
    with pytest.raises(rotation.RotationError, match="not staged"):
        rotation.handler(
            {"SecretId": NAME, "ClientRequestToken": "99999999-0000-0000-0000-000000000000", "Step": "finishSecret"},
            None,
        )
    assert _current(client) == before


def test_finish_before_create_is_refused_and_current_stays(secret: tuple[Any, str]) -> None:
    client, token = secret
    before = _current(client)
    # Out of order (never from Secrets Manager, possible from a person): nothing was created to test.
    with pytest.raises(ClientError):
        rotation.handler({"SecretId": NAME, "ClientRequestToken": token, "Step": "testSecret"}, None)
    assert _current(client) == before
