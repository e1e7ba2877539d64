"""Fixtures the Lambda tests share: one real PostgreSQL server per test process, the restore validator's AWS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from lambdas.restore_validation import handler as restore_validation
from tests.lambdas.restore_jobs import LOGIN_ARN, PARAMETER_GROUP, REGION, RESTORED, SOURCE, instance
from tests.postgres import PostgresServer, start_postgres


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    yield from start_postgres()


@pytest.fixture(scope="module")
def moto_secrets() -> Iterator[Any]:
    """Secrets Manager in moto, one backend per module (starting one costs about a second); tests clean up."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "af-south-1")
        with mock_aws():
            yield boto3.client("secretsmanager", region_name="af-south-1")


# ---- the restore validator: RDS in moto (one backend per module), AWS Backup through Stubber ----


@pytest.fixture(scope="module")
def moto_rds() -> Iterator[Any]:
    # One moto backend for the module: starting one costs about a second.
    with mock_aws():
        client = boto3.client("rds", region_name=REGION)
        for name, family in (
            (PARAMETER_GROUP, "postgres18"),
            ("default-postgres18", "postgres18"),
            ("old", "postgres17"),
        ):
            client.create_db_parameter_group(DBParameterGroupName=name, DBParameterGroupFamily=family, Description=name)
        client.create_db_instance(**instance(SOURCE, version="18.3"))
        yield client


@pytest.fixture
def rds(moto_rds: Any) -> Iterator[Any]:
    yield moto_rds
    restored = [i["DBInstanceIdentifier"] for i in moto_rds.describe_db_instances()["DBInstances"]]
    if RESTORED in restored:
        moto_rds.delete_db_instance(DBInstanceIdentifier=RESTORED, SkipFinalSnapshot=True)


@pytest.fixture(scope="module")
def backup_client() -> Any:
    return boto3.client("backup", region_name=REGION)


@pytest.fixture
def backup(backup_client: Any) -> Iterator[tuple[Any, Stubber]]:
    client = backup_client
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def fresh_metrics() -> Iterator[None]:
    restore_validation.metrics.clear_metrics()
    yield
    restore_validation.metrics.clear_metrics()


@pytest.fixture
def probes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every endpoint the handler probes and checks the schema of; reachable with 3 tables unless a test says otherwise.

    The schema check itself runs against a real PostgreSQL in test_restore_validation_schema.py.
    """
    seen: list[tuple[str, int]] = []

    def fake_probe(host: str, port: int, timeout: float) -> bool:
        seen.append((host, port))
        return True

    def fake_schema(
        host: str, port: int, settings: restore_validation.Settings, **_: Any
    ) -> restore_validation.SchemaReport:
        assert (host, port) == seen[-1] and settings.login_secret_arn == LOGIN_ARN
        return restore_validation.SchemaReport([], "3 user tables")

    monkeypatch.setattr(restore_validation, "probe", fake_probe)
    monkeypatch.setattr(restore_validation, "check_schema", fake_schema)
    return seen
