"""The validator's login to a restored copy, against a real PostgreSQL on 127.0.0.1 (TLS, SCRAM, as RDS).

It logs in as the API's user (AWSCURRENT, else AWSPREVIOUS: the snapshot may predate the last
rotation), read only, and finds the configured tables, or at least one user table. What AWS
Backup then records is the verdict `validate` builds from this report (test_restore_validation.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from lambdas.restore_validation import handler
from tests.lambdas.database_secrets import (
    API_USERNAME,
    create_database_secrets,
    delete_database_secrets,
    drop_roles,
)
from tests.postgres import PostgresServer


@pytest.fixture
def login(postgres: PostgresServer, moto_secrets: Any) -> Iterator[tuple[Any, str, dict[str, Any]]]:
    client = moto_secrets
    _, login_arn = create_database_secrets(client, postgres)
    value = json.loads(client.get_secret_value(SecretId=login_arn)["SecretString"])
    admin = postgres.admin()
    admin.run(f"CREATE ROLE {API_USERNAME} LOGIN PASSWORD '{value['password']}'")
    admin.run(f"GRANT CONNECT ON DATABASE {postgres.database} TO {API_USERNAME}")
    admin.close()
    yield client, login_arn, value
    delete_database_secrets(client)
    drop_roles(postgres)


def _settings(postgres: PostgresServer, login_arn: str, *tables: str) -> handler.Settings:
    return handler.Settings(
        expected_parameter_group="g", login_secret_arn=login_arn, expected_tables=tables, ca_bundle=postgres.ca_file
    )


def _check(postgres: PostgresServer, client: Any, settings: handler.Settings) -> handler.SchemaReport:
    return handler.check_schema(postgres.host, postgres.port, settings, secrets=client, timeout=5)


def _create_accounts(postgres: PostgresServer, rows: int) -> None:
    admin = postgres.admin()
    admin.run("CREATE TABLE public.accounts (id serial PRIMARY KEY, name text)")
    admin.run(f"GRANT SELECT ON public.accounts TO {API_USERNAME}")
    for index in range(rows):
        admin.run("INSERT INTO public.accounts (name) VALUES (:n)", n=f"account-{index}")
    admin.close()


def test_an_empty_restored_database_fails(postgres: PostgresServer, login: tuple[Any, str, dict[str, Any]]) -> None:
    client, login_arn, _ = login
    report = _check(postgres, client, _settings(postgres, login_arn))
    assert report.problems == ["the restored database has no user tables"]


def test_the_configured_tables_are_found_and_counted(
    postgres: PostgresServer, login: tuple[Any, str, dict[str, Any]]
) -> None:
    client, login_arn, _ = login
    _create_accounts(postgres, rows=3)
    report = _check(postgres, client, _settings(postgres, login_arn, "public.accounts"))
    assert report.problems == [] and "rows {'public.accounts': 3}" in report.summary


def test_a_missing_configured_table_fails(postgres: PostgresServer, login: tuple[Any, str, dict[str, Any]]) -> None:
    client, login_arn, _ = login
    _create_accounts(postgres, rows=1)
    report = _check(postgres, client, _settings(postgres, login_arn, "public.accounts", "public.ledger"))
    assert report.problems == ["tables ['public.ledger'] are missing"]


def test_a_copy_older_than_the_last_rotation_accepts_the_previous_login(
    postgres: PostgresServer, login: tuple[Any, str, dict[str, Any]]
) -> None:
    client, login_arn, value = login
    _create_accounts(postgres, rows=1)
    # A rotation after the snapshot: AWSCURRENT names a user the copy does not have yet.
    client.put_secret_value(
        SecretId=login_arn, SecretString=json.dumps({**value, "username": f"{API_USERNAME}_clone", "password": "new"})
    )
    assert _check(postgres, client, _settings(postgres, login_arn)).problems == []


def test_a_copy_refusing_every_login_fails(postgres: PostgresServer, login: tuple[Any, str, dict[str, Any]]) -> None:
    client, login_arn, value = login
    client.put_secret_value(SecretId=login_arn, SecretString=json.dumps({**value, "password": "wrong"}))
    client.put_secret_value(SecretId=login_arn, SecretString=json.dumps({**value, "password": "also-wrong"}))
    report = _check(postgres, client, _settings(postgres, login_arn))
    assert report.problems and "refused" in report.problems[0]
    assert "wrong" not in report.problems[0]


def test_the_check_is_read_only(postgres: PostgresServer, login: tuple[Any, str, dict[str, Any]]) -> None:
    client, login_arn, _ = login
    _create_accounts(postgres, rows=1)
    statements: list[str] = []

    def recording(*args: Any, **kwargs: Any) -> Any:
        connection = handler.connect(*args, **kwargs)
        run = connection.run

        def run_and_record(sql: str, **params: Any) -> Any:
            statements.append(sql.strip().split()[0].upper())
            return run(sql, **params)

        connection.run = run_and_record
        return connection

    report = handler.check_schema(
        postgres.host,
        postgres.port,
        _settings(postgres, login_arn, "public.accounts"),
        secrets=client,
        timeout=5,
        connector=recording,
    )
    assert report.problems == []
    assert statements[0] == "SET" and set(statements) <= {"SET", "SELECT"}
