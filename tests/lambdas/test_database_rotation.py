"""Issue 15's "Done when": a rotation (all four steps) leaves the credentials a running task holds valid.

A real PostgreSQL on 127.0.0.1, Secrets Manager in moto. The stack's own bootstrap Lambda creates
the API's user from `cashtrace/<env>/database-api`; moto's RotateSecret then drives the four steps
of the alternating-users rotation (`alternating_users.py`, the hosted function's protocol) in order,
as Secrets Manager does. A "task" is what ECS gives a container: the username and password of
AWSCURRENT at start, and the connections it opened with them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from lambdas.database_bootstrap import handler as bootstrap
from tests.lambdas import alternating_users
from tests.lambdas.database_secrets import (
    API_USERNAME,
    GROUP_ROLE,
    LOGIN_NAME,
    create_database_secrets,
    delete_database_secrets,
    drop_roles,
)
from tests.postgres import PostgresServer

FUNCTION_ARN = "arn:aws:lambda:af-south-1:123456789012:function:cashtrace-staging-database-api-rotation"


class _HostedRotation:
    """Stands in for moto's Lambda backend: each invocation runs one step of the alternating-users protocol."""

    def __init__(self, client: Any, server: PostgresServer) -> None:
        self.client, self.server, self.steps = client, server, []

    def get_function(self, arn: str) -> None:
        assert arn == FUNCTION_ARN

    def invoke(self, arn: str, qualifier: Any, body: str, headers: Any, response_headers: Any) -> None:
        event = json.loads(body)
        self.steps.append(event["Step"])
        alternating_users.run_step(
            self.client, lambda login: self.server.connect(login["username"], login["password"]), event
        )


@pytest.fixture
def aws(postgres: PostgresServer, moto_secrets: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str, str]]:
    client = moto_secrets
    master_arn, login_arn = create_database_secrets(client, postgres)
    monkeypatch.setenv("MASTER_SECRET_ARN", master_arn)
    monkeypatch.setenv("LOGIN_SECRET_ARN", login_arn)
    monkeypatch.setenv("GROUP_ROLE", GROUP_ROLE)
    monkeypatch.setenv("DATABASE_CA_BUNDLE", postgres.ca_file)
    yield client, master_arn, login_arn
    delete_database_secrets(client)
    drop_roles(postgres)


def _bootstrap(client: Any) -> dict[str, Any]:
    event = {"RequestType": "Create", "ResponseURL": "https://example.invalid/", "LogicalResourceId": "Bootstrap"}
    answered: list[dict[str, Any]] = []
    body = bootstrap.handler(event, None, secrets=client, respond=lambda _, body: answered.append(dict(body)))
    assert answered == [body]
    return body


def _task_start(client: Any) -> dict[str, str]:
    """What ECS injects at task start: DATABASE_USER and DATABASE_PASSWORD from AWSCURRENT."""
    value = json.loads(client.get_secret_value(SecretId=LOGIN_NAME)["SecretString"])
    return {"user": value["username"], "password": value["password"]}


def _rotate(client: Any, server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    hosted = _HostedRotation(client, server)
    monkeypatch.setattr("moto.awslambda.utils.get_backend", lambda account, region: hosted)
    # moto refuses a new rotation while AWSPENDING sits on the AWSCURRENT version, which AWS allows
    # (a finished rotation may leave it there); take it off as AWS would not need us to.
    for version, stages in client.describe_secret(SecretId=LOGIN_NAME)["VersionIdsToStages"].items():
        if {"AWSPENDING", "AWSCURRENT"} <= set(stages):
            client.update_secret_version_stage(
                SecretId=LOGIN_NAME, VersionStage="AWSPENDING", RemoveFromVersionId=version
            )
    client.rotate_secret(
        SecretId=LOGIN_NAME, RotationLambdaARN=FUNCTION_ARN, RotationRules={"AutomaticallyAfterDays": 30}
    )
    return hosted.steps


def _works(server: PostgresServer, task: dict[str, str]) -> bool:
    """The task's credentials open a new connection and use the API's table (read and write)."""
    try:
        connection = server.connect(task["user"], task["password"])
    except Exception:
        return False
    try:
        connection.run("INSERT INTO public.accounts (name) VALUES (:n)", n=task["user"])
        return bool(connection.run("SELECT count(*) FROM public.accounts")[0][0] >= 1)
    finally:
        connection.close()


def test_a_rotation_leaves_a_running_tasks_credentials_and_connections_valid(
    postgres: PostgresServer, aws: tuple[Any, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _, _ = aws
    assert _bootstrap(client)["Status"] == "SUCCESS"
    migration = postgres.admin()  # the master runs migrations; the bootstrap's default privileges cover them
    migration.run("CREATE TABLE public.accounts (id serial PRIMARY KEY, name text NOT NULL)")
    migration.close()

    task = _task_start(client)
    assert task["user"] == API_USERNAME and _works(postgres, task)
    open_connection = postgres.connect(task["user"], task["password"])

    steps = _rotate(client, postgres, monkeypatch)

    assert steps == ["createSecret", "setSecret", "testSecret", "finishSecret"]
    rotated = _task_start(client)
    assert rotated["user"] == f"{API_USERNAME}_clone" and rotated["password"] != task["password"]
    # The running task: its open connection and a reconnect with what it read at start both work.
    assert open_connection.run("SELECT count(*) FROM public.accounts")[0][0] >= 1
    open_connection.close()
    assert _works(postgres, task), "the rotation invalidated the credentials a running task holds"
    # A task started after the rotation gets the other user, with the same privileges and no more.
    assert _works(postgres, rotated)
    clone = postgres.connect(rotated["user"], rotated["password"])
    with pytest.raises(Exception, match="permission denied"):
        clone.run("CREATE TABLE public.not_allowed (id int)")
    clone.close()


def test_the_window_is_one_rotation_period_and_a_rerun_bootstrap_keeps_it(
    postgres: PostgresServer, aws: tuple[Any, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _, _ = aws
    _bootstrap(client)
    migration = postgres.admin()
    migration.run("CREATE TABLE public.accounts (id serial PRIMARY KEY, name text NOT NULL)")
    migration.close()
    before_first = _task_start(client)
    _rotate(client, postgres, monkeypatch)
    before_second = _task_start(client)

    # A stack update re-runs the bootstrap after a rotation: it must not reset either user.
    assert _bootstrap(client)["Data"]["Username"] == f"{API_USERNAME}_clone"
    assert _works(postgres, before_first) and _works(postgres, before_second)

    _rotate(client, postgres, monkeypatch)
    # The second rotation gives the first user a new password: a task must have restarted within
    # one rotation period (docs/secrets.md says how the API re-reads on an authentication failure).
    assert _works(postgres, before_second), "the previous rotation's user must survive this one"
    assert not _works(postgres, before_first)
    assert _works(postgres, _task_start(client))
