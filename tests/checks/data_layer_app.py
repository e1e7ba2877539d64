"""A small app with just the database and its backups, for synth-level tests of the data-layer rules."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import App, Aspects, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms

from cashtrace_constructs.backup import DatabaseBackups, DatabaseBackupsProps
from cashtrace_constructs.checks import CashTraceChecks, DataResidency
from cashtrace_constructs.checks.backup_verification import BackupVerification
from cashtrace_constructs.checks.data_store_residency import DataStoreResidency
from cashtrace_constructs.config import DataConfig, SecretsConfig
from cashtrace_constructs.database import PostgresDatabase, PostgresDatabaseProps
from cashtrace_constructs.region_lock import RegionLock
from cashtrace_constructs.secrets import EnvironmentSecrets, EnvironmentSecretsProps
from tests.synth import TEST_ENV, make_app, unacknowledged, validation_report


@dataclass
class DataLayerApp:
    app: App
    stack: Stack
    database: PostgresDatabase
    backups: DatabaseBackups
    outdir: Path

    def failed_synth_findings(self) -> list[str]:
        """Synthesize, require the in-process synth to fail, and return what the report says."""
        try:
            self.app.synth()
        except RuntimeError as error:
            assert "ValidationFailed" in str(error)
        else:
            raise AssertionError("synthesis succeeded, a violation was expected")
        return unacknowledged(validation_report(self.outdir))


def data_layer_app(outdir: Path, *, config: DataConfig | None = None) -> DataLayerApp:
    """Database + backups in af-south-1, with the region lock and our rules (no cdk-nag: speed)."""
    app = make_app(outdir)
    stack = Stack(
        app, "DataLayer", env=TEST_ENV, tags={"environment": "test", "service": "cashtrace", "owner": "platform-team"}
    )
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        availability_zones=["af-south-1a", "af-south-1b"],
        nat_gateways=1,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC),
            ec2.SubnetConfiguration(name="application", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            ec2.SubnetConfiguration(name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        ],
    )
    config = config or DataConfig()
    secrets = EnvironmentSecrets(
        stack,
        "Secrets",
        props=EnvironmentSecretsProps(
            environment_name="test", application_secrets=(), config=SecretsConfig(), encryption_key=key, vpc=vpc
        ),
    )
    database = PostgresDatabase(
        stack,
        "Database",
        props=PostgresDatabaseProps(
            environment_name="test",
            vpc=vpc,
            subnets=ec2.SubnetSelection(subnet_group_name="data"),
            encryption_key=key,
            config=config,
            secrets=secrets,
        ),
    )
    # The API's login, which the restore validator reads to check the schema of each copy.
    secrets.database_login(username="cashtrace_api", master=database.secret, dbname="cashtrace")
    backups = DatabaseBackups(
        stack,
        "Backups",
        props=DatabaseBackupsProps(
            environment_name="test",
            database=database,
            vpc=vpc,
            encryption_key=key,
            config=config,
            secrets=secrets,
            login_secret_name="cashtrace/test/database-api",  # pragma: allowlist secret (a name)
        ),
    )
    Aspects.of(app).add(RegionLock())
    # The data-layer properties only: secret isolation (Property 6) is the secrets tests' business.
    Validations.of(app).add_plugins(CashTraceChecks([BackupVerification(), DataResidency(), DataStoreResidency()]))
    return DataLayerApp(app, stack, database, backups, outdir)
