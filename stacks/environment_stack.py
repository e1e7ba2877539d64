"""`CashTraceEnvironmentStack`: one environment (dev, staging or prod) composed from the constructs."""

from __future__ import annotations

from typing import Any

from aws_cdk import Environment, Stack
from constructs import Construct

from cashtrace_constructs.backup import DatabaseBackups, DatabaseBackupsProps
from cashtrace_constructs.cache import RedisCache, RedisCacheProps
from cashtrace_constructs.config import EnvironmentConfig
from cashtrace_constructs.database import PostgresDatabase, PostgresDatabaseProps
from cashtrace_constructs.encryption import EnvironmentKey
from cashtrace_constructs.network import Network
from cashtrace_constructs.storage import (
    ApplicationStorage,
    ApplicationStorageProps,
    StaticAssetsCdn,
    StaticAssetsCdnProps,
)
from stacks import nag_acknowledgments


class CashTraceEnvironmentStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: Any) -> None:
        infrastructure = config.infrastructure
        super().__init__(
            scope,
            construct_id,
            env=Environment(account=infrastructure.account, region=infrastructure.region),
            stack_name=config.stack_name,
            description=f"CashTrace {config.name}: network, service, data, secrets and monitoring",
            termination_protection=config.is_production,
            # Stack tags: CloudFormation propagates them to every resource, so cost allocation
            # reports see them without each construct tagging itself.
            tags={
                "environment": config.name,
                "service": config.ownership.service,
                "owner": config.ownership.owner,
                "cost-center": config.ownership.cost_center,
            },
            **kwargs,
        )
        self.config = config

        self.encryption = EnvironmentKey(self, "EnvironmentKey", environment_name=config.name)
        self.network = Network(self, "Network", config=infrastructure.networking, encryption_key=self.encryption.key)

        # Data layer (issue 4): the service (issue 3) connects with database.allow_from / cache.allow_from.
        vpc, data_key = self.network.vpc, self.encryption.key
        self.database = PostgresDatabase(
            self,
            "Database",
            props=PostgresDatabaseProps(
                environment_name=config.name,
                vpc=vpc,
                subnets=self.network.data_subnets,
                encryption_key=data_key,
                config=config.data,
            ),
        )
        self.backups = DatabaseBackups(
            self,
            "Backups",
            props=DatabaseBackupsProps(
                environment_name=config.name,
                database=self.database,
                vpc=vpc,
                encryption_key=data_key,
                config=config.data,
            ),
        )
        self.cache = RedisCache(
            self,
            "Cache",
            props=RedisCacheProps(
                environment_name=config.name,
                vpc=vpc,
                subnets=self.network.data_subnets,
                encryption_key=data_key,
                config=config.data,
            ),
        )
        self.storage = ApplicationStorage(
            self,
            "Storage",
            props=ApplicationStorageProps(environment_name=config.name, encryption_key=data_key, config=config.data),
        )
        self.static_assets = StaticAssetsCdn(
            self, "StaticAssets", props=StaticAssetsCdnProps(environment_name=config.name)
        )

        nag_acknowledgments.acknowledge(self, config.name)

    @property
    def availability_zones(self) -> list[str]:
        # The AZs are fixed by config, so synth needs no AZ lookup (and no AWS credentials).
        return list(self.config.infrastructure.availability_zones)
