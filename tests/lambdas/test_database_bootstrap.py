"""The database bootstrap custom resource: its SQL against a real PostgreSQL, its answers to CloudFormation.

CloudFormation's pre-signed response URL is a real HTTP server on 127.0.0.1 that records each PUT;
Secrets Manager is moto, or botocore's Stubber for the errors moto cannot produce. Each test says
what CloudFormation sees: SUCCESS, or FAILED with a reason (the stack rolls back), never silence.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from lambdas.database_bootstrap import handler as bootstrap
from tests.lambdas.custom_resource import response_server
from tests.lambdas.database_secrets import (
    API_USERNAME,
    GROUP_ROLE,
    create_database_secrets,
    delete_database_secrets,
    drop_roles,
)
from tests.postgres import PostgresServer


@pytest.fixture
def cloudformation() -> Iterator[Any]:
    with response_server() as server:
        yield server


def _event(cloudformation: Any, request_type: str = "Create", **extra: Any) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "ResponseURL": cloudformation.url,
        "StackId": "arn:aws:cloudformation:af-south-1:123456789012:stack/CashTrace-Staging/1",
        "RequestId": "request-1",
        "LogicalResourceId": "DatabaseAccessResource",
        "ResourceType": "Custom::DatabaseBootstrap",
        **extra,
    }


@pytest.fixture
def secrets(
    postgres: PostgresServer, moto_secrets: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, str, str]]:
    client = moto_secrets
    master_arn, login_arn = create_database_secrets(client, postgres)
    for name, value in {
        "MASTER_SECRET_ARN": master_arn,
        "LOGIN_SECRET_ARN": login_arn,
        "GROUP_ROLE": GROUP_ROLE,
        "DATABASE_CA_BUNDLE": postgres.ca_file,
        "CONNECT_TIMEOUT_SECONDS": "3",
    }.items():
        monkeypatch.setenv(name, value)
    yield client, master_arn, login_arn
    delete_database_secrets(client)
    drop_roles(postgres)


@dataclass
class _Context:
    seconds: float

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


def _roles(postgres: PostgresServer) -> dict[str, dict[str, Any]]:
    admin = postgres.admin()
    try:
        rows = admin.run(
            "SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles "
            "WHERE rolname LIKE 'cashtrace_api%'"
        )
        members = admin.run(
            "SELECT m.rolname FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid "
            "JOIN pg_roles m ON m.oid = a.member WHERE g.rolname = :group",
            group=GROUP_ROLE,
        )
    finally:
        admin.close()
    roles = {r[0]: {"login": r[1], "super": r[2], "createdb": r[3], "createrole": r[4]} for r in rows}
    for (member,) in members:
        roles[member]["member"] = True
    return roles


def test_create_makes_a_least_privilege_user_and_answers_success(
    postgres: PostgresServer, secrets: tuple[Any, str, str], cloudformation: Any
) -> None:
    client, _, login_arn = secrets
    bootstrap.handler(_event(cloudformation), _Context(120), secrets=client)
    [answer] = cloudformation.answers
    assert answer["Status"] == "SUCCESS" and answer["PhysicalResourceId"] == f"{GROUP_ROLE}@{postgres.database}"
    assert answer["RequestId"] == "request-1" and answer["LogicalResourceId"] == "DatabaseAccessResource"
    roles = _roles(postgres)
    assert roles[GROUP_ROLE]["login"] is False
    assert roles[API_USERNAME] == {
        "login": True,
        "super": False,
        "createdb": False,
        "createrole": False,
        "member": True,
    }
    password = json.loads(client.get_secret_value(SecretId=login_arn)["SecretString"])["password"]
    connection = postgres.connect(API_USERNAME, password)
    with pytest.raises(Exception, match="permission denied"):
        connection.run("CREATE TABLE public.mine (id int)")
    connection.close()


def test_create_and_update_are_idempotent(
    postgres: PostgresServer, secrets: tuple[Any, str, str], cloudformation: Any
) -> None:
    client, _, _ = secrets
    for request in ("Create", "Update", "Update"):
        bootstrap.handler(_event(cloudformation, request), _Context(120), secrets=client)
    assert [a["Status"] for a in cloudformation.answers] == ["SUCCESS"] * 3
    assert set(_roles(postgres)) == {GROUP_ROLE, API_USERNAME}


def test_delete_keeps_the_roles_and_touches_nothing(
    postgres: PostgresServer, secrets: tuple[Any, str, str], cloudformation: Any
) -> None:
    client, _, _ = secrets

    def never(*args: Any) -> None:
        raise AssertionError("Delete must not connect")

    bootstrap.handler(_event(cloudformation, "Delete", PhysicalResourceId="x@y"), None, secrets=client, connector=never)
    # CloudFormation sees SUCCESS with the same physical id: a retained database keeps its users.
    assert cloudformation.answers == [{**cloudformation.answers[0], "Status": "SUCCESS", "PhysicalResourceId": "x@y"}]


def test_a_malformed_event_fails_the_invocation(cloudformation: Any) -> None:
    # No ResponseURL: nobody to answer; Lambda counts an error (its alarm) and CloudFormation was not the caller.
    for malformed in ({}, {"RequestType": "Create"}, "Create"):
        with pytest.raises(ValueError, match="not a CloudFormation custom resource event"):
            bootstrap.handler(malformed, None)  # type: ignore[arg-type]
    assert cloudformation.answers == []


def test_an_unknown_request_type_answers_failed(cloudformation: Any) -> None:
    bootstrap.handler(_event(cloudformation, "Replace"), None, secrets=object())
    assert cloudformation.answers[0]["Status"] == "FAILED" and "Replace" in cloudformation.answers[0]["Reason"]


@pytest.mark.parametrize("missing", ["MASTER_SECRET_ARN", "LOGIN_SECRET_ARN", "GROUP_ROLE"])
def test_missing_settings_answer_failed(
    secrets: tuple[Any, str, str], cloudformation: Any, monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    client, _, _ = secrets
    monkeypatch.delenv(missing)
    bootstrap.handler(_event(cloudformation), _Context(120), secrets=client)
    assert cloudformation.answers[0]["Status"] == "FAILED" and missing in cloudformation.answers[0]["Reason"]


@pytest.mark.parametrize("code", ["ThrottlingException", "AccessDeniedException"])
def test_secrets_manager_errors_answer_failed(cloudformation: Any, monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    for name in ("MASTER_SECRET_ARN", "LOGIN_SECRET_ARN", "GROUP_ROLE"):
        monkeypatch.setenv(name, f"arn:aws:secretsmanager:af-south-1:123456789012:secret:{name}")
    client = boto3.client("secretsmanager", region_name="af-south-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        stubber.add_client_error("get_secret_value", code)
        bootstrap.handler(_event(cloudformation), _Context(120), secrets=client)
    # CloudFormation sees FAILED naming the error; the stack rolls back instead of waiting an hour.
    assert cloudformation.answers[0]["Status"] == "FAILED" and code in cloudformation.answers[0]["Reason"]


def test_an_unreachable_database_answers_failed_within_the_budget(
    secrets: tuple[Any, str, str], cloudformation: Any
) -> None:
    client, _, login_arn = secrets
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    value = json.loads(client.get_secret_value(SecretId=login_arn)["SecretString"])
    client.put_secret_value(SecretId=login_arn, SecretString=json.dumps({**value, "port": closed_port}))
    bootstrap.handler(_event(cloudformation), _Context(120), secrets=client)
    assert cloudformation.answers[0]["Status"] == "FAILED"


def test_too_little_time_left_answers_failed_at_once(secrets: tuple[Any, str, str], cloudformation: Any) -> None:
    client, _, _ = secrets

    def never(*args: Any) -> None:
        raise AssertionError("no time to connect")

    bootstrap.handler(_event(cloudformation), _Context(9), secrets=client, connector=never)
    assert cloudformation.answers[0]["Status"] == "FAILED" and "too little" in cloudformation.answers[0]["Reason"]


def test_a_master_password_rotated_meanwhile_uses_the_pending_value(
    postgres: PostgresServer, secrets: tuple[Any, str, str], cloudformation: Any
) -> None:
    client, master_arn, _ = secrets
    value = json.loads(client.get_secret_value(SecretId=master_arn)["SecretString"])
    # The master's rotation staged a new password and has not yet set it: AWSCURRENT is refused...
    client.put_secret_value(SecretId=master_arn, SecretString=json.dumps({**value, "password": "already-changed"}))
    # ...and the value that works is staged AWSPENDING.
    client.put_secret_value(SecretId=master_arn, SecretString=json.dumps(value), VersionStages=["AWSPENDING"])
    bootstrap.handler(_event(cloudformation), _Context(120), secrets=client)
    assert cloudformation.answers[0]["Status"] == "SUCCESS"


def test_a_wrong_master_password_answers_failed_without_the_password(
    secrets: tuple[Any, str, str], cloudformation: Any
) -> None:
    client, master_arn, _ = secrets
    value = json.loads(client.get_secret_value(SecretId=master_arn)["SecretString"])
    client.put_secret_value(SecretId=master_arn, SecretString=json.dumps({**value, "password": "wrong-password-7"}))
    bootstrap.handler(_event(cloudformation), _Context(120), secrets=client)
    [answer] = cloudformation.answers
    assert answer["Status"] == "FAILED" and "28P01" in answer["Reason"] and "wrong-password-7" not in answer["Reason"]


def test_a_failed_answer_is_retried_once(secrets: tuple[Any, str, str], cloudformation: Any) -> None:
    client, _, _ = secrets
    cloudformation.statuses = [500]
    bootstrap.handler(_event(cloudformation, "Delete"), None, secrets=client)
    # The first PUT failed; CloudFormation got the second.
    assert [a["Status"] for a in cloudformation.answers] == ["SUCCESS", "SUCCESS"]
