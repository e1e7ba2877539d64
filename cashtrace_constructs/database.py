"""`PostgresDatabase`: the environment's RDS PostgreSQL instance, encrypted, backed up and TLS-only."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from cashtrace_constructs.config import DataConfig
from cashtrace_constructs.log_retention import retention
from cashtrace_constructs.naming import per_stack_name
from cashtrace_constructs.secrets import EnvironmentSecrets

ENGINE_VERSION = rds.PostgresEngineVersion.VER_18
# Not 5432: scanners probe the default port first, and cdk-nag (RDS11) asks for another one.
DATABASE_PORT = 5433
DATABASE_NAME = "cashtrace"
MASTER_USERNAME = "cashtrace_admin"
LOG_EXPORTS: tuple[str, ...] = ("postgresql", "upgrade")
# UTC. RDS's own snapshot window stays clear of AWS Backup's jobs (which start at 02:00) and
# of the maintenance window, as AWS Backup asks.
BACKUP_WINDOW = "00:30-01:00"
MAINTENANCE_WINDOW = "sun:22:00-sun:22:30"


@dataclass(frozen=True, kw_only=True)
class PostgresDatabaseProps:
    environment_name: str
    vpc: ec2.IVpc
    subnets: ec2.SubnetSelection
    encryption_key: kms.IKey
    config: DataConfig
    # Makes, isolates and rotates the master login.
    secrets: EnvironmentSecrets
    log_retention_days: int = 365


class PostgresDatabase(Construct):
    """One PostgreSQL instance, TLS only; the API connects as its own user (`DatabaseAccess`), never as the master.

    `instance`, `endpoint`, `secret` (the master login, made by `EnvironmentSecrets`, administration
    only), `rotation` (its schedule) and `security_group` are the outputs; `allow_from` opens the
    database port to a client without exposing the security group's rules to callers.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: PostgresDatabaseProps) -> None:
        super().__init__(scope, construct_id)
        config = props.config
        # RDS names the log groups of an instance after its identifier, and they are created (and
        # retained) before it; an identifier new for every stack created means neither a retained
        # instance (deletion protection) nor its retained log groups can block a retried first deploy.
        self.instance_identifier = per_stack_name(f"cashtrace-{props.environment_name}-postgres")
        self.port = DATABASE_PORT
        # Named, so a restored copy can be told to use it and the restore check can expect it; per
        # stack too, because it cannot be deleted while a retained instance still uses it.
        self.parameter_group_name = per_stack_name(
            f"cashtrace-{props.environment_name}-postgres{ENGINE_VERSION.postgres_major_version}"
        )
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=props.vpc,
            description=f"PostgreSQL of CashTrace {props.environment_name}: clients are added one by one",
            allow_all_outbound=False,
        )
        self.subnet_group = rds.SubnetGroup(
            self,
            "Subnets",
            vpc=props.vpc,
            vpc_subnets=props.subnets,
            description=f"Isolated data subnets of CashTrace {props.environment_name}",
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.parameter_group = rds.ParameterGroup(
            self,
            "Parameters",
            engine=rds.DatabaseInstanceEngine.postgres(version=ENGINE_VERSION),
            name=self.parameter_group_name,
            description=f"CashTrace {props.environment_name}: TLS 1.2+ only",
            parameters={
                "rds.force_ssl": "1",
                "ssl_min_protocol_version": "TLSv1.2",
                # Slow statements and lock waits are what an operator looks for first.
                "log_min_duration_statement": "1000",
                "log_lock_waits": "1",
            },
        )
        # RDS creates these groups unencrypted and kept forever unless they exist first.
        self.log_groups = [
            logs.LogGroup(
                self,
                f"{export.capitalize()}Logs",
                log_group_name=f"/aws/rds/instance/{self.instance_identifier}/{export}",
                retention=retention(props.log_retention_days),
                encryption_key=props.encryption_key,
                removal_policy=RemovalPolicy.RETAIN,
            )
            for export in LOG_EXPORTS
        ]
        master_login = props.secrets.database_credentials(username=MASTER_USERNAME)
        self.instance = rds.DatabaseInstance(
            self,
            "Instance",
            engine=rds.DatabaseInstanceEngine.postgres(version=ENGINE_VERSION),
            instance_identifier=self.instance_identifier,
            instance_type=ec2.InstanceType(config.database_instance_class),
            vpc=props.vpc,
            subnet_group=self.subnet_group,
            security_groups=[self.security_group],
            port=DATABASE_PORT,
            database_name=DATABASE_NAME,
            credentials=rds.Credentials.from_secret(master_login, MASTER_USERNAME),
            parameter_group=self.parameter_group,
            storage_type=rds.StorageType.GP3,
            allocated_storage=config.database_allocated_storage_gib,
            max_allocated_storage=config.database_max_allocated_storage_gib,
            storage_encrypted=True,
            storage_encryption_key=props.encryption_key,
            backup_retention=Duration.days(config.backup_retention_days),
            preferred_backup_window=BACKUP_WINDOW,
            preferred_maintenance_window=MAINTENANCE_WINDOW,
            delete_automated_backups=False,
            copy_tags_to_snapshot=True,
            multi_az=config.multi_az,
            deletion_protection=config.deletion_protection,
            removal_policy=RemovalPolicy.SNAPSHOT if config.snapshot_on_delete else RemovalPolicy.DESTROY,
            iam_authentication=True,
            ca_certificate=rds.CaCertificate.RDS_CA_RSA2048_G1,
            cloudwatch_logs_exports=list(LOG_EXPORTS),
            monitoring_interval=Duration.seconds(60),
            enable_performance_insights=True,
            performance_insight_encryption_key=props.encryption_key,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            publicly_accessible=False,
        )
        for log_group in self.log_groups:
            self.instance.node.add_dependency(log_group)
        self.rotation = props.secrets.rotate_database_credentials(self.instance, port=DATABASE_PORT)
        # The login as attached to the instance: its Ref waits for the attachment (host and port).
        attached = self.instance.secret
        if attached is None:  # pragma: no cover - from_secret always attaches
            raise RuntimeError("the database has no attached credentials secret")
        self.secret: secretsmanager.ISecret = attached

    @property
    def endpoint(self) -> rds.Endpoint:
        return self.instance.instance_endpoint

    def allow_from(self, peer: ec2.IConnectable, description: str = "PostgreSQL from a CashTrace client") -> None:
        """Open the database port to `peer` (a service, a function) and to nothing else."""
        # A literal port (not the endpoint's token) keeps the rule reviewable by cdk-nag.
        self.instance.connections.allow_from(peer, ec2.Port.tcp(self.port), description)
