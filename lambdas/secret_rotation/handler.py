"""Rotation of CashTrace application secrets: Secrets Manager's four steps, each safe to repeat.

The secret is a JSON object; rotation replaces the value under `SECRET_VALUE_KEY` and keeps the
other keys. Until `finishSecret` moves the AWSCURRENT label, readers keep getting the current
version, so a failure in any step loses nothing and the next attempt resumes with the same token.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from typing import Any

import boto3
from botocore.exceptions import ClientError

logger = logging.getLogger()
logger.setLevel(logging.INFO)

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"
MIN_VALUE_LENGTH = 32


class RotationError(Exception):
    """A rotation step refused to continue; Secrets Manager retries the step later."""


@functools.cache
def _client() -> Any:
    # One client per container: Lambda reuses it across invocations.
    return boto3.client("secretsmanager")


def _value_key() -> str:
    return os.environ.get("SECRET_VALUE_KEY", "key")


def _version(client: Any, arn: str, stage: str, token: str | None = None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"SecretId": arn, "VersionStage": stage}
    if token:
        kwargs["VersionId"] = token
    value = json.loads(client.get_secret_value(**kwargs)["SecretString"])
    if not isinstance(value, dict):
        raise RotationError(f"secret {arn} ({stage}) is not a JSON object")
    return value


def create_secret(client: Any, arn: str, token: str) -> None:
    current = _version(client, arn, CURRENT)
    try:
        _version(client, arn, PENDING, token)
        logger.info("createSecret: %s already has a pending value for %s", arn, token)
        return
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
    password = client.get_random_password(PasswordLength=48, ExcludePunctuation=True)["RandomPassword"]
    pending = {**current, _value_key(): password}
    # The token makes the put idempotent: a retry with the same token and value is a no-op.
    client.put_secret_value(
        SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(pending), VersionStages=[PENDING]
    )
    logger.info("createSecret: put a pending value for %s version %s", arn, token)


def set_secret(client: Any, arn: str, token: str) -> None:
    # The keys are issued by CashTrace itself: no external system holds a copy to update.
    # A secret issued by a third party would push the pending value to that party here.
    logger.info("setSecret: nothing to propagate for %s version %s", arn, token)


def verify_secret(client: Any, arn: str, token: str) -> None:
    pending = _version(client, arn, PENDING, token)
    current = _version(client, arn, CURRENT)
    value = pending.get(_value_key())
    if not isinstance(value, str) or len(value) < MIN_VALUE_LENGTH:
        raise RotationError(f"pending value of {arn} is missing or shorter than {MIN_VALUE_LENGTH}")
    if value == current.get(_value_key()):
        raise RotationError(f"pending value of {arn} equals the current one")
    if set(pending) != set(current):
        raise RotationError(f"pending value of {arn} lost keys {sorted(set(current) - set(pending))}")


def finish_secret(client: Any, arn: str, token: str) -> None:
    versions = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    current_version = next((version for version, stages in versions.items() if CURRENT in stages), None)
    if current_version == token:
        logger.info("finishSecret: %s version %s is already current", arn, token)
        return
    client.update_secret_version_stage(
        SecretId=arn, VersionStage=CURRENT, MoveToVersionId=token, RemoveFromVersionId=current_version
    )
    logger.info("finishSecret: %s version %s is now current", arn, token)


STEPS = {
    "createSecret": create_secret,
    "setSecret": set_secret,
    "testSecret": verify_secret,
    "finishSecret": finish_secret,
}


def handler(event: dict[str, Any], context: Any) -> None:
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    if step not in STEPS:
        raise RotationError(f"unknown rotation step {step!r}")
    client = _client()
    metadata = client.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise RotationError(f"rotation is not enabled for {arn}")
    versions = metadata.get("VersionIdsToStages", {})
    if token not in versions:
        raise RotationError(f"version {token} of {arn} is not staged for rotation")
    if CURRENT in versions[token]:
        logger.info("%s: version %s of %s is already current", step, token, arn)
        return
    if PENDING not in versions[token]:
        raise RotationError(f"version {token} of {arn} is not AWSPENDING")
    STEPS[step](client, arn, token)
