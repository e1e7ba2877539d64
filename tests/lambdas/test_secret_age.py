"""The third-party key age watch against moto, with the failures moto cannot make through botocore's Stubber.

Its callers: EventBridge's daily schedule (a failed invocation is retried, then dead-lettered) and
the per-secret age alarms, which read `CashTrace/Secrets SecretAgeDays` and treat a missing day as
breaching.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from lambdas.secret_age import handler as age

NAMES = ("cashtrace/staging/api-keys", "cashtrace/staging/payments-key")


@pytest.fixture
def client(moto_secrets: Any) -> Iterator[tuple[Any, dict[str, str]]]:
    secrets = moto_secrets
    arns = {name: secrets.create_secret(Name=name, SecretString='{"key": "k"}')["ARN"] for name in NAMES}
    yield secrets, arns
    for name in NAMES:
        secrets.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def test_each_secret_publishes_its_age_in_days(client: tuple[Any, dict[str, str]]) -> None:
    secrets, arns = client
    emitted: list[tuple[str, float]] = []
    later = datetime.now(UTC) + timedelta(days=40)
    ages = age.measure(secrets, arns, now=lambda: later, emit=lambda name, days: emitted.append((name, days)))
    assert set(ages) == set(NAMES) and all(39.9 < days < 40.1 for days in ages.values())
    assert sorted(emitted) == sorted(ages.items())


def test_storing_a_new_value_resets_the_age(client: tuple[Any, dict[str, str]]) -> None:
    secrets, arns = client
    secrets.put_secret_value(SecretId=arns[NAMES[0]], SecretString='{"key": "from the issuer"}')
    ages = age.measure(secrets, arns, now=lambda: datetime.now(UTC) + timedelta(days=1), emit=lambda *_: None)
    assert all(0.9 < days < 1.1 for days in ages.values())


def test_one_unreadable_secret_still_lets_the_others_publish_then_fails(client: tuple[Any, dict[str, str]]) -> None:
    secrets, arns = client
    emitted: list[str] = []
    broken = {**arns, "cashtrace/staging/gone": arns[NAMES[0]].replace("api-keys", "gone")}
    # EventBridge sees a failed invocation (retried, then the DLQ); the unmeasured secret's alarm,
    # missing its datapoint, fires; the others keep their ages.
    with pytest.raises(age.AgeUnknown, match="cashtrace/staging/gone"):
        age.measure(secrets, broken, emit=lambda name, days: emitted.append(name))
    assert sorted(emitted) == sorted(NAMES)


@pytest.mark.parametrize("code", ["ThrottlingException", "AccessDeniedException"])
def test_throttling_and_access_denied_fail_the_invocation(code: str) -> None:
    secrets = boto3.client("secretsmanager", region_name="af-south-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(secrets) as stubber:
        stubber.add_client_error("list_secret_version_ids", code)
        with pytest.raises(age.AgeUnknown, match=code):
            age.measure(secrets, {NAMES[0]: "arn"}, emit=lambda *_: None)


def test_malformed_settings_fail_the_invocation() -> None:
    for value in ("[]", '{"a": 1}', "not json"):
        with pytest.raises(ValueError):
            age.secrets_from({"SECRETS": value})
    with pytest.raises(KeyError):
        age.secrets_from({})


def test_the_entry_point_emits_the_metric_the_alarms_read(
    client: tuple[Any, dict[str, str]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets, arns = client
    monkeypatch.setenv("SECRETS", json.dumps(arns))
    monkeypatch.setattr(age.boto3, "client", lambda name, **_: secrets)
    age.handler({"source": "aws.events"}, None)
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert {e["SecretName"] for e in emitted} == set(NAMES)
    directive = emitted[0]["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "CashTrace/Secrets" and directive["Metrics"][0]["Name"] == "SecretAgeDays"
    assert directive["Dimensions"] == [["SecretName"]]
