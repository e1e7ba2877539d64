"""The four steps of AWS's hosted `PostgreSQLMultiUser` rotation, restated for tests against a real server.

AWS deploys that function for us (a CloudFormation transform), so its code is not in this
repository; this model follows the alternating-users strategy as Secrets Manager documents it:
createSecret stages the *other* user (`<user>` <-> `<user>_clone`) with a new password,
setSecret (as the master from `masterarn`) creates that user as a member of the current one
(`GRANT <current> TO <clone>`) or changes its password, testSecret logs in with it, finishSecret
moves AWSCURRENT. A rotation therefore never changes the password of the user that is current.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pg8000.native import identifier, literal

CLONE_SUFFIX = "_clone"
Connect = Callable[[dict[str, Any]], Any]


def alternate(username: str) -> str:
    if username.endswith(CLONE_SUFFIX):
        return username[: -len(CLONE_SUFFIX)]
    return (username + CLONE_SUFFIX)[:63]


def _value(client: Any, secret_id: str, stage: str, token: str | None = None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"SecretId": secret_id, "VersionStage": stage}
    if token:
        kwargs["VersionId"] = token
    return dict(json.loads(client.get_secret_value(**kwargs)["SecretString"]))


def _can_log_in(connect: Connect, login: dict[str, Any]) -> bool:
    try:
        connect(login).close()
    except Exception:
        return False
    return True


def run_step(client: Any, connect: Connect, event: dict[str, Any]) -> None:
    secret_id, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    current = _value(client, secret_id, "AWSCURRENT")
    if step == "createSecret":
        try:
            _value(client, secret_id, "AWSPENDING", token)
            return
        except client.exceptions.ResourceNotFoundException:
            pass
        password = client.get_random_password(ExcludeCharacters=" %+~`#$&*()|[]{}:;<>?!'/@\"\\")["RandomPassword"]
        pending = {**current, "username": alternate(current["username"]), "password": password}
        client.put_secret_value(
            SecretId=secret_id, ClientRequestToken=token, SecretString=json.dumps(pending), VersionStages=["AWSPENDING"]
        )
    elif step == "setSecret":
        pending = _value(client, secret_id, "AWSPENDING", token)
        if _can_log_in(connect, pending):
            return
        if not _can_log_in(connect, current):
            raise RuntimeError("setSecret: the current login does not work")
        master = _value(client, current["masterarn"], "AWSCURRENT")
        connection = connect({**current, "username": master["username"], "password": master["password"]})
        try:
            exists = connection.run("SELECT 1 FROM pg_roles WHERE rolname = :name", name=pending["username"])
            if not exists:
                connection.run(
                    f"CREATE ROLE {identifier(pending['username'])} WITH LOGIN PASSWORD {literal(pending['password'])}"
                )
                connection.run(f"GRANT {identifier(current['username'])} TO {identifier(pending['username'])}")
            else:
                connection.run(
                    f"ALTER USER {identifier(pending['username'])} WITH PASSWORD {literal(pending['password'])}"
                )
        finally:
            connection.close()
    elif step == "testSecret":
        connection = connect(_value(client, secret_id, "AWSPENDING", token))
        try:
            connection.run("SELECT now()")
        finally:
            connection.close()
    elif step == "finishSecret":
        versions = client.describe_secret(SecretId=secret_id)["VersionIdsToStages"]
        current_version = next(version for version, stages in versions.items() if "AWSCURRENT" in stages)
        if current_version != token:
            client.update_secret_version_stage(
                SecretId=secret_id,
                VersionStage="AWSCURRENT",
                MoveToVersionId=token,
                RemoveFromVersionId=current_version,
            )
    else:
        raise ValueError(f"unknown step {step!r}")
