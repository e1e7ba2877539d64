"""CloudFormation custom resource: the API's least-privilege database user, created and granted as the master.

Idempotent, so every create or update simply makes the database match the secrets: a NOLOGIN
group role holds the API's privileges (DML on the schema's tables and sequences, now and for
tables the master creates later); the login in `cashtrace/<env>/database-api` (whichever of the
two alternating users is current) gets that password and the group. Delete keeps the roles: a
retained database keeps its users. Whatever goes wrong, CloudFormation gets a FAILED response
with the reason before the Lambda's deadline, never an hour of silence.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from custom_resource import (
    RESPONSE_RESERVE_SECONDS,
    Respond,
    answer,
    failed_answer,
    remaining_seconds,
    require_response_url,
    send_response,
)

logger = logging.getLogger()
logger.setLevel(logging.INFO)

AUTHENTICATION_FAILED = frozenset({"28P01", "28000"})
# Serializes concurrent bootstraps of one database (any int8 key unique to this purpose).
ADVISORY_LOCK_KEY = 0x6361736874726163  # "cashtrac"


@dataclass(frozen=True)
class Settings:
    master_secret_arn: str
    login_secret_arn: str
    group_role: str
    schema: str
    connect_timeout_seconds: float = 10.0
    # verify-full (RDS: rds.force_ssl=1) or, for a local test server only, disable.
    tls: str = "verify-full"
    ca_bundle: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        tls = environ.get("DATABASE_TLS", "verify-full")
        if tls not in ("verify-full", "disable"):
            raise ValueError(f"DATABASE_TLS must be verify-full or disable, got {tls!r}")
        return cls(
            master_secret_arn=environ["MASTER_SECRET_ARN"],
            login_secret_arn=environ["LOGIN_SECRET_ARN"],
            group_role=environ["GROUP_ROLE"],
            schema=environ.get("SCHEMA", "public"),
            connect_timeout_seconds=float(environ.get("CONNECT_TIMEOUT_SECONDS", "10")),
            tls=tls,
            ca_bundle=environ.get("DATABASE_CA_BUNDLE") or None,
        )


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    host: str
    port: int
    dbname: str

    @classmethod
    def from_secret(cls, value: Mapping[str, Any]) -> Login:
        """From a login secret as RDS's attachment completes it (host, port) and `DatabaseSecret` makes it."""
        missing = [name for name in ("username", "password", "host", "port", "dbname") if value.get(name) in (None, "")]
        if missing:
            raise ValueError(f"the login secret lacks {missing}")
        return cls(
            username=str(value["username"]),
            password=str(value["password"]),
            host=str(value["host"]),
            port=int(value["port"]),
            dbname=str(value["dbname"]),
        )


def secret_value(client: Any, arn: str, stage: str = "AWSCURRENT") -> dict[str, Any]:
    value = json.loads(client.get_secret_value(SecretId=arn, VersionStage=stage)["SecretString"])
    if not isinstance(value, dict):
        raise ValueError(f"secret {arn} ({stage}) is not a JSON object")
    return value


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    if settings.tls == "disable":
        return None
    return ssl.create_default_context(cafile=settings.ca_bundle)


def connect(login: Login, settings: Settings, timeout: float) -> Any:
    import pg8000.native  # from the driver layer; imported late so a missing layer is a reported failure

    return pg8000.native.Connection(
        user=login.username,
        password=login.password,
        host=login.host,
        port=login.port,
        database=login.dbname,
        ssl_context=ssl_context(settings),
        timeout=timeout,
        application_name="cashtrace-database-bootstrap",
    )


def sql_state(error: BaseException) -> str:
    detail = error.args[0] if error.args else None
    return str(detail.get("C", "")) if isinstance(detail, dict) else ""


def _as_master(value: Mapping[str, Any], login: Login) -> Login:
    # The master's name and password, in the API's database: grants are per database.
    return Login(
        username=str(value["username"]),
        password=str(value["password"]),
        host=login.host,
        port=login.port,
        dbname=login.dbname,
    )


def connect_as_master(
    client: Any, settings: Settings, login: Login, timeout: float, connector: Callable[..., Any] = connect
) -> tuple[Any, Login]:
    """The master's connection: AWSCURRENT, or AWSPENDING when a rotation changed the password meanwhile."""
    master = _as_master(secret_value(client, settings.master_secret_arn), login)
    try:
        return connector(master, settings, timeout), master
    except Exception as error:
        if sql_state(error) not in AUTHENTICATION_FAILED:
            raise
        logger.warning("master login refused; trying the pending value of a rotation in progress")
        try:
            pending = _as_master(secret_value(client, settings.master_secret_arn, "AWSPENDING"), login)
        except Exception:
            raise error from None
        return connector(pending, settings, timeout), pending


def statements(settings: Settings, login: Login, master_username: str, existing: set[str]) -> list[str]:
    """The DDL that makes the database match: roles, membership, grants (identifiers and literals quoted)."""
    from pg8000.native import identifier, literal

    group, user, schema = identifier(settings.group_role), identifier(login.username), identifier(settings.schema)
    master, database = identifier(master_username), identifier(login.dbname)
    sql: list[str] = []
    if settings.group_role not in existing:
        sql.append(f"CREATE ROLE {group} NOLOGIN")
    if login.username not in existing:
        sql.append(f"CREATE ROLE {user} LOGIN PASSWORD {literal(login.password)}")
    else:
        sql.append(f"ALTER ROLE {user} WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD {literal(login.password)}")
    dml = "SELECT, INSERT, UPDATE, DELETE"
    sequences = "USAGE, SELECT, UPDATE"
    sql += [
        f"GRANT {group} TO {user}",
        f"GRANT CONNECT ON DATABASE {database} TO {group}",
        f"GRANT USAGE ON SCHEMA {schema} TO {group}",
        f"GRANT {dml} ON ALL TABLES IN SCHEMA {schema} TO {group}",
        f"GRANT {sequences} ON ALL SEQUENCES IN SCHEMA {schema} TO {group}",
        # Tables the master (migrations) creates later are the API's too, without another bootstrap.
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {master} IN SCHEMA {schema} GRANT {dml} ON TABLES TO {group}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {master} IN SCHEMA {schema} GRANT {sequences} ON SEQUENCES TO {group}",
    ]
    return sql


def bootstrap(
    client: Any, settings: Settings, *, timeout: float, connector: Callable[..., Any] = connect
) -> dict[str, str]:
    """Create or update the group role and the current API login; returns what CloudFormation records."""
    login = Login.from_secret(secret_value(client, settings.login_secret_arn))
    connection, master = connect_as_master(client, settings, login, timeout, connector)
    try:
        connection.run("BEGIN")
        connection.run("SELECT pg_advisory_xact_lock(:key)", key=ADVISORY_LOCK_KEY)
        rows = connection.run(
            "SELECT rolname FROM pg_roles WHERE rolname = ANY(:names)", names=[settings.group_role, login.username]
        )
        for statement in statements(settings, login, master.username, {str(row[0]) for row in rows}):
            connection.run(statement)
        connection.run("COMMIT")
    except Exception:
        try:
            connection.run("ROLLBACK")
        except Exception:  # the connection itself failed: nothing was committed either way
            logger.warning("rollback after a failed bootstrap failed too")
        raise
    finally:
        connection.close()
    logger.info("bootstrapped %s for %s on %s/%s", settings.group_role, login.username, login.host, login.dbname)
    return {"GroupRole": settings.group_role, "Username": login.username, "Database": login.dbname}


def handler(
    event: Mapping[str, Any],
    context: Any,
    *,
    secrets: Any = None,
    connector: Callable[..., Any] = connect,
    respond: Respond = send_response,
) -> dict[str, Any]:
    require_response_url(event)
    physical_id = str(event.get("PhysicalResourceId") or f"{event.get('LogicalResourceId', 'Bootstrap')}-pending")
    body = failed_answer(event, physical_id)
    try:
        request_type = event.get("RequestType")
        if request_type == "Delete":
            body |= {"Status": "SUCCESS", "Reason": "roles are kept with the database"}
        elif request_type in ("Create", "Update"):
            settings = Settings.from_environment(os.environ)
            remaining = remaining_seconds(context)
            budget = min(settings.connect_timeout_seconds, remaining - RESPONSE_RESERVE_SECONDS)
            if budget <= 0:
                raise TimeoutError(f"{remaining:.0f} s left: too little to reach the database and answer")
            client = secrets or boto3.client("secretsmanager")
            data = bootstrap(client, settings, timeout=budget, connector=connector)
            body |= {
                "Status": "SUCCESS",
                "PhysicalResourceId": f"{settings.group_role}@{data['Database']}",
                "Data": data,
            }
        else:
            raise ValueError(f"unknown RequestType {request_type!r}")
    except Exception as error:
        logger.exception("database bootstrap failed")
        # CloudFormation shows the reason in the stack events; it never carries a secret value.
        body["Reason"] = f"{type(error).__name__}: {error}"[:1000]
    answer(event, body, respond)
    return body
