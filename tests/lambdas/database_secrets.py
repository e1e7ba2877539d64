"""The database's two secrets in moto, shaped as `EnvironmentSecrets` and RDS's attachment make them."""

from __future__ import annotations

import contextlib
import json
import secrets as random
from typing import Any

from tests.postgres import PostgresServer

MASTER_NAME = "cashtrace/staging/database"
LOGIN_NAME = "cashtrace/staging/database-api"
API_USERNAME = "cashtrace_api"
GROUP_ROLE = "cashtrace_api_access"


def create_database_secrets(client: Any, server: PostgresServer) -> tuple[str, str]:
    """(master ARN, login ARN): the master login, and the API's login carrying `masterarn`."""
    endpoint = {"engine": "postgres", "host": server.host, "port": server.port}
    master_arn = client.create_secret(
        Name=MASTER_NAME,
        SecretString=json.dumps(
            {**endpoint, "username": server.master_username, "password": server.master_password, "dbname": "postgres"}
        ),
    )["ARN"]
    login_arn = client.create_secret(
        Name=LOGIN_NAME,
        SecretString=json.dumps(
            {
                **endpoint,
                "username": API_USERNAME,
                "password": random.token_urlsafe(24),
                "dbname": server.database,
                "masterarn": master_arn,
            }
        ),
    )["ARN"]
    return master_arn, login_arn


def delete_database_secrets(client: Any) -> None:
    for name in (MASTER_NAME, LOGIN_NAME):
        with contextlib.suppress(client.exceptions.ResourceNotFoundException):
            client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def drop_roles(server: PostgresServer) -> None:
    """Back to a database without the API's roles (each test bootstraps its own)."""
    admin = server.admin()
    try:
        admin.run("DROP TABLE IF EXISTS public.accounts")
        for role in (f"{API_USERNAME}_clone", API_USERNAME, GROUP_ROLE):
            if admin.run("SELECT 1 FROM pg_roles WHERE rolname = :r", r=role):
                admin.run(f"DROP OWNED BY {role}")
                admin.run(f"DROP ROLE {role}")
    finally:
        admin.close()
