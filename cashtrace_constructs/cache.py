"""`RedisCache`: an ElastiCache (Redis OSS) replication group in the data subnets, encrypted and AUTH-protected."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from cashtrace_constructs.config import DataConfig
from cashtrace_constructs.log_retention import retention
from cashtrace_constructs.secrets import EnvironmentSecrets

ENGINE_VERSION = "7.1"
PARAMETER_GROUP_FAMILY = "redis7"
# Not 6379: cdk-nag (AEC5) asks for a non-default port, and scanners try the default first.
CACHE_PORT = 6380
# UTC, away from the database's backup and maintenance windows.
SNAPSHOT_WINDOW = "01:30-02:30"
MAINTENANCE_WINDOW = "sun:23:00-mon:00:00"


@dataclass(frozen=True, kw_only=True)
class RedisCacheProps:
    environment_name: str
    vpc: ec2.IVpc
    subnets: ec2.SubnetSelection
    encryption_key: kms.IKey
    config: DataConfig
    # Makes and isolates the AUTH token.
    secrets: EnvironmentSecrets
    log_retention_days: int = 365


@dataclass(frozen=True)
class CacheEndpoint:
    """Where clients connect: TLS on `port`, AUTH token from `RedisCache.auth_token`."""

    hostname: str
    port: int


class RedisCache(Construct):
    """One replication group; `endpoint`, `auth_token` (made by `EnvironmentSecrets`), `allow_from`."""

    def __init__(self, scope: Construct, construct_id: str, *, props: RedisCacheProps) -> None:
        super().__init__(scope, construct_id)
        config = props.config
        name = props.environment_name
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=props.vpc,
            description=f"Redis of CashTrace {name}: clients are added one by one",
            allow_all_outbound=False,
        )
        self.connections = ec2.Connections(security_groups=[self.security_group], default_port=ec2.Port.tcp(CACHE_PORT))
        subnet_ids = props.vpc.select_subnets(
            subnet_group_name=props.subnets.subnet_group_name, subnet_type=props.subnets.subnet_type
        ).subnet_ids
        self.subnet_group = elasticache.CfnSubnetGroup(
            self,
            "Subnets",
            description=f"Isolated data subnets of CashTrace {name}",
            subnet_ids=subnet_ids,
        )
        self.auth_token = props.secrets.generated_secret(
            "cache-auth-token",
            description=f"Redis AUTH token of CashTrace {name}",
            # Named cashtrace/<env>/... like every secret; deleted (CloudFormation deletes secrets
            # without a recovery window) when the create that made it fails, so the retry can reuse the name.
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
            generate=secretsmanager.SecretStringGenerator(
                # ElastiCache accepts 16-128 printable characters without @, " or /.
                password_length=64,
                exclude_punctuation=True,
            ),
        )
        self.slow_log_group = logs.LogGroup(
            self,
            "SlowLog",
            retention=retention(props.log_retention_days),
            encryption_key=props.encryption_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.replication_group = elasticache.CfnReplicationGroup(
            self,
            "ReplicationGroup",
            replication_group_description=f"CashTrace {name} cache",
            engine="redis",
            engine_version=ENGINE_VERSION,
            cache_parameter_group_name=f"default.{PARAMETER_GROUP_FAMILY}",
            cache_node_type=config.cache_node_type,
            num_node_groups=1,
            replicas_per_node_group=config.cache_replicas,
            automatic_failover_enabled=config.multi_az,
            multi_az_enabled=config.multi_az,
            port=CACHE_PORT,
            cache_subnet_group_name=self.subnet_group.ref,
            security_group_ids=[self.security_group.security_group_id],
            at_rest_encryption_enabled=True,
            kms_key_id=props.encryption_key.key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=self.auth_token.secret_value.unsafe_unwrap(),
            snapshot_retention_limit=config.cache_snapshot_retention_days,
            snapshot_window=SNAPSHOT_WINDOW,
            preferred_maintenance_window=MAINTENANCE_WINDOW,
            auto_minor_version_upgrade=True,
            log_delivery_configurations=[
                elasticache.CfnReplicationGroup.LogDeliveryConfigurationRequestProperty(
                    destination_type="cloudwatch-logs",
                    destination_details=elasticache.CfnReplicationGroup.DestinationDetailsProperty(
                        cloud_watch_logs_details=elasticache.CfnReplicationGroup.CloudWatchLogsDestinationDetailsProperty(
                            log_group=self.slow_log_group.log_group_name
                        )
                    ),
                    log_format="json",
                    log_type="slow-log",
                )
            ],
        )
        # Snapshots are the cache's only backup; keep a final one when the group is deleted.
        self.replication_group.apply_removal_policy(RemovalPolicy.SNAPSHOT)

    @property
    def endpoint(self) -> CacheEndpoint:
        return CacheEndpoint(hostname=self.replication_group.attr_primary_end_point_address, port=CACHE_PORT)

    def allow_from(self, peer: ec2.IConnectable, description: str = "Redis from a CashTrace client") -> None:
        self.connections.allow_default_port_from(peer, description)
