"""Publishes how many days each third-party key has gone unchanged (`CashTrace/Secrets SecretAgeDays`).

Invoked daily by EventBridge. A secret it cannot read is logged and skipped so the others are
still measured; the invocation then fails (EventBridge retries, the Errors alarm fires) and the
skipped secret's age alarm, which treats a missing day as breaching, fires too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "CashTrace/Secrets")
METRIC = "SecretAgeDays"
CURRENT = "AWSCURRENT"
logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "secret_age"))


class AgeUnknown(Exception):
    """At least one secret could not be measured; raised after the others were published."""


def current_since(client: Any, secret_id: str) -> datetime:
    """When the AWSCURRENT version of `secret_id` was stored."""
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"SecretId": secret_id}
        if token:
            kwargs["NextToken"] = token
        page = client.list_secret_version_ids(**kwargs)
        for version in page.get("Versions", []):
            if CURRENT in (version.get("VersionStages") or []):
                created: datetime = version["CreatedDate"]
                return created
        token = page.get("NextToken")
        if not token:
            raise AgeUnknown(f"{secret_id} has no {CURRENT} version")


def secrets_from(environ: Mapping[str, str]) -> dict[str, str]:
    """`SECRETS`: a JSON object of secret name -> ARN."""
    value = json.loads(environ["SECRETS"])
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError("SECRETS must be a JSON object of secret name -> ARN")
    return value


def publish(name: str, days: float) -> None:
    with single_metric(
        name=METRIC, unit=MetricUnit.Count, value=days, namespace=NAMESPACE, default_dimensions={"SecretName": name}
    ):
        pass


def measure(
    client: Any,
    secrets: Mapping[str, str],
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    emit: Callable[[str, float], None] = publish,
) -> dict[str, float]:
    """Age in days of each secret; raises `AgeUnknown` naming the ones it could not measure."""
    ages: dict[str, float] = {}
    failures: list[str] = []
    for name, arn in secrets.items():
        try:
            days = (now() - current_since(client, arn)).total_seconds() / 86400
        except Exception as error:  # one unreadable secret must not hide the others' ages
            logger.exception("cannot measure the age of a secret", extra={"secret": name})
            failures.append(f"{name}: {type(error).__name__}: {error}")
            continue
        ages[name] = round(days, 2)
        emit(name, ages[name])
        logger.info("secret age", extra={"secret": name, "days": ages[name]})
    if failures:
        raise AgeUnknown("; ".join(failures))
    return ages


def handler(event: Mapping[str, Any], context: Any) -> dict[str, float]:
    return measure(boto3.client("secretsmanager"), secrets_from(os.environ))
