"""`CashTraceEnvironmentStack`: one environment (dev, staging or prod) composed from the constructs."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from aws_cdk import CfnOutput, Environment, Fn, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from constructs import Construct

from cashtrace_constructs.backup import DatabaseBackups, DatabaseBackupsProps
from cashtrace_constructs.cache import RedisCache, RedisCacheProps
from cashtrace_constructs.config import EnvironmentConfig, ResourceType
from cashtrace_constructs.database import PostgresDatabase, PostgresDatabaseProps
from cashtrace_constructs.deployment_record import DeploymentEventForwarder
from cashtrace_constructs.encryption import EnvironmentKey
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.grafana import GrafanaService
from cashtrace_constructs.logical_ids import stabilize_logical_ids
from cashtrace_constructs.monitoring import Monitoring, redis_member_cluster_ids
from cashtrace_constructs.network import Network
from cashtrace_constructs.prometheus import PrometheusWorkspace, add_prometheus_collector
from cashtrace_constructs.secrets import EnvironmentSecrets
from cashtrace_constructs.service import BlueGreenService, BlueGreenServiceProps
from cashtrace_constructs.storage import (
    ApplicationStorage,
    ApplicationStorageProps,
    StaticAssetsCdn,
    StaticAssetsCdnProps,
)
from stacks.acknowledgments import acknowledge_environment


class CashTraceEnvironmentStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        deployment_events_account: str | None = None,
        **kwargs: Any,
    ) -> None:
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

        # Secrets first: every secret made below is adopted into this environment's isolation policy.
        self.secrets = EnvironmentSecrets(
            self,
            "Secrets",
            environment_name=config.name,
            secrets=config.environment.secrets,
            config=config.secrets,
            encryption_key=self.encryption.key,
            vpc=self.network.vpc,
            rotation_subnets=self.network.application_subnets,
        )

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
        self.secrets.adopt_database_secret(self.database.secret, self.database.instance, port=self.database.port)
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
        self.secrets.adopt_secret(self.cache.auth_token)
        self.storage = ApplicationStorage(
            self,
            "Storage",
            props=ApplicationStorageProps(environment_name=config.name, encryption_key=data_key, config=config.data),
        )
        self.static_assets = StaticAssetsCdn(
            self, "StaticAssets", props=StaticAssetsCdnProps(environment_name=config.name)
        )

        self.service = self._service(config)
        self.database.allow_from(self.service.service, "PostgreSQL from the API tasks")
        self.cache.allow_from(self.service.service, "Redis from the API tasks")
        self.service.task_definition.task_role.add_managed_policy(self._application_data_access())

        self._monitoring(config)

        # The base URL the pipeline's integration and smoke tests call: the public host once a
        # certificate is configured, the load balancer's own name (plain HTTP) until then.
        self.service_url = CfnOutput(
            self,
            "ServiceUrl",
            value=(
                config.environment.url
                if config.service.certificate_arn
                else f"http://{self.service.load_balancer.load_balancer_dns_name}"
            ),
            description="Base URL of the CashTrace API",
        )
        # Environments the pipeline deploys report their CodeDeploy rollouts to its deployment record.
        if deployment_events_account:
            DeploymentEventForwarder(self, "DeploymentEvents", target_account=deployment_events_account)

        # The same logical ids whether this stack is top-level or inside a pipeline Stage.
        stabilize_logical_ids(self)
        acknowledge_environment(self, config)

    def _monitoring(self, config: EnvironmentConfig) -> None:
        """Dashboards, alarms and paging for everything above; the rollback alarms page as they are."""
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            environment_name=config.name,
            config=config.monitoring,
            encryption_key=self.encryption.key,
        )
        self.prometheus = PrometheusWorkspace(
            self,
            "Prometheus",
            environment_name=config.name,
            encryption_key=self.encryption.key,
            log_retention_days=config.monitoring.log_retention_days,
        )
        self.grafana = GrafanaService(
            self,
            "Grafana",
            environment_name=config.name,
            config=config.monitoring,
            vpc=self.network.vpc,
            vpc_cidr=config.infrastructure.networking.cidr,
            subnets=self.network.application_subnets,
            encryption_key=self.encryption.key,
            prometheus=self.prometheus,
        )
        self.secrets.adopt_secret(self.grafana.admin_secret)
        self.monitoring.monitor_internal_service(service=self.grafana.service, name="Grafana")
        scaling = config.infrastructure.resource(ResourceType.COMPUTE, config.service.name).auto_scaling
        assert scaling is not None  # EnvironmentConfig.validate guarantees it
        self.monitoring.monitor_service(
            service=self.service.service,
            load_balancer=self.service.load_balancer,
            min_tasks=scaling.min_replicas,
            max_tasks=scaling.max_replicas,
        )
        self.monitoring.page_on(self.service.rollback_alarms, title="Rollback alarms (blue-green)")
        add_prometheus_collector(
            self.service.task_definition, self.prometheus, config=config.monitoring, log_group=self.service.log_group
        )
        self.monitoring.monitor_database(instance=self.database.instance)
        self.monitoring.monitor_cache(cluster_ids=redis_member_cluster_ids(self.cache.replication_group))
        self.monitoring.page_on(list(self.backups.alarms.all), title="Backups and restore tests")
        self.monitoring.page_on(self.secrets.alarms, title="Denied secret access")

    def _application_data_access(self) -> iam.ManagedPolicy:
        # Exact actions in a managed policy: grant_read_write would add wildcard actions inline.
        bucket = self.storage.bucket
        return iam.ManagedPolicy(
            self,
            "ApiDataAccess",
            description="The API's objects in the application bucket, and the key they are encrypted with",
            statements=[
                iam.PolicyStatement(actions=["s3:GetObject", "s3:PutObject"], resources=[bucket.arn_for_objects("*")]),
                iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn]),
                iam.PolicyStatement(
                    actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[self.encryption.key.key_arn]
                ),
            ],
        )

    def _service(self, config: EnvironmentConfig) -> BlueGreenService:
        api = config.infrastructure.resource(ResourceType.COMPUTE, config.service.name)
        if api.auto_scaling is None:  # EnvironmentConfig.validate refuses this; mypy cannot know
            raise DeploymentError(
                ErrorCode.RESOURCE_LIMIT, "the API needs auto_scaling", field=f"{config.name}.service"
            )
        # The load balancer is internet-facing, so the in-VPC deploy hook reaches its test listener
        # through the NAT gateways: their Elastic IPs are the only sources the test port admits.
        nat_addresses = [
            Fn.join("", [eip.attr_public_ip, "/32"])
            for subnet in self.network.vpc.public_subnets
            if isinstance(eip := subnet.node.try_find_child("EIP"), ec2.CfnEIP)
        ]
        return BlueGreenService(
            self,
            "Api",
            props=BlueGreenServiceProps(
                environment_name=config.name,
                service=config.service,
                size=api.size,
                scaling=api.auto_scaling,
                strategy=config.deployment_strategy,
                rollback=config.rollback,
                public_host=urlparse(config.environment.url).hostname,
                environment={
                    **{variable.name: variable.value for variable in config.environment.variables},
                    "DATABASE_HOST": self.database.endpoint.hostname,
                    "DATABASE_PORT": str(self.database.port),
                    "REDIS_HOST": self.cache.endpoint.hostname,
                    "REDIS_PORT": str(self.cache.endpoint.port),
                    "ASSETS_BUCKET": self.storage.bucket.bucket_name,
                },
                # Injected by ECS at task start (the execution role reads them); never in the template.
                secrets={
                    **{
                        reference.env_var: ecs.Secret.from_secrets_manager(self.secrets.secret(reference.name))
                        for reference in config.environment.secrets
                    },
                    "DATABASE_USER": ecs.Secret.from_secrets_manager(self.database.secret, "username"),
                    "DATABASE_PASSWORD": ecs.Secret.from_secrets_manager(self.database.secret, "password"),
                    "REDIS_AUTH_TOKEN": ecs.Secret.from_secrets_manager(self.cache.auth_token),
                },
            ),
            vpc=self.network.vpc,
            encryption_key=self.encryption.key,
            task_subnets=self.network.application_subnets,
            load_balancer_subnets=self.network.public_subnets,
            test_client_cidrs=nat_addresses,
        )

    @property
    def availability_zones(self) -> list[str]:
        # The AZs are fixed by config, so synth needs no AZ lookup (and no AWS credentials).
        return list(self.config.infrastructure.availability_zones)
