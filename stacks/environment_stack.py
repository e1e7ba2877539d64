"""`CashTraceEnvironmentStack`: one environment (dev, staging or prod) composed from the constructs."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Environment, Fn, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from cashtrace_constructs.backup import DatabaseBackups, DatabaseBackupsProps
from cashtrace_constructs.cache import RedisCache, RedisCacheProps
from cashtrace_constructs.config import EnvironmentConfig, ResourceType
from cashtrace_constructs.database import PostgresDatabase, PostgresDatabaseProps
from cashtrace_constructs.database_access import DatabaseAccess, DatabaseAccessProps
from cashtrace_constructs.deployment_record import DeploymentEventForwarder, DeploymentEventForwarderProps
from cashtrace_constructs.domain import EnvironmentDomain, EnvironmentDomainProps
from cashtrace_constructs.encryption import EnvironmentKey, EnvironmentKeyProps
from cashtrace_constructs.grafana import GrafanaService, GrafanaServiceProps
from cashtrace_constructs.logical_ids import keep_logical_ids, stabilize_logical_ids
from cashtrace_constructs.monitoring import Monitoring, MonitoringProps, redis_member_cluster_ids
from cashtrace_constructs.monitoring.functions import handler_alarms, watch_functions
from cashtrace_constructs.network import Network, NetworkProps
from cashtrace_constructs.prometheus import PrometheusWorkspace, PrometheusWorkspaceProps
from cashtrace_constructs.promotion_gate import PromotionGate, PromotionGateProps
from cashtrace_constructs.release_manifest import is_placeholder
from cashtrace_constructs.retention import retain_stateful_resources
from cashtrace_constructs.secrets import EnvironmentSecrets, EnvironmentSecretsProps
from cashtrace_constructs.service import BlueGreenService, BlueGreenServiceProps
from cashtrace_constructs.storage import (
    ApplicationStorage,
    ApplicationStorageProps,
    StaticAssetsCdn,
    StaticAssetsCdnProps,
)
from stacks.acknowledgments import acknowledge_environment
from stacks.release_required import refuse_deployment_without_release

# Secrets `EnvironmentSecrets` took over from the constructs that first made them (new path ->
# path they were deployed under): they keep their logical ids, since CloudFormation would replace
# a secret whose id changes (a new database password, a new Redis AUTH token).
SECRETS_DEPLOYED_ELSEWHERE = {
    "Secrets/DatabaseSecret": "Database/Instance/Secret",
    "Secrets/CacheAuthTokenSecret": "Cache/AuthToken",
    "Secrets/GrafanaAdminSecret": "Grafana/AdminSecret",
}


class CashTraceEnvironmentStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        deployment_events_account: str | None = None,
        break_glass_reason: str | None = None,
        **kwargs: Any,
    ) -> None:
        infrastructure = config.infrastructure
        super().__init__(
            scope,
            construct_id,
            env=Environment(account=infrastructure.account, region=infrastructure.region),
            stack_name=config.stack_name,
            description=f"CashTrace {config.name}: network, service, data, secrets and monitoring",
            # Deleting a stack whose stateful resources are kept is a deliberate act: make it one.
            termination_protection=config.data.retain_on_delete,
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

        self.encryption = EnvironmentKey(
            self, "EnvironmentKey", props=EnvironmentKeyProps(environment_name=config.name)
        )
        self.network = Network(
            self,
            "Network",
            props=NetworkProps(config=infrastructure.networking, encryption_key=self.encryption.key),
        )

        # Secrets first: the database, the cache and Grafana ask it for theirs.
        self.secrets = EnvironmentSecrets(
            self,
            "Secrets",
            props=EnvironmentSecretsProps(
                environment_name=config.name,
                application_secrets=config.settings.secrets,
                config=config.secrets,
                encryption_key=self.encryption.key,
                vpc=self.network.vpc,
                rotation_subnets=self.network.application_subnets,
            ),
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
                secrets=self.secrets,
            ),
        )
        self.database_access = DatabaseAccess(
            self,
            "DatabaseAccess",
            props=DatabaseAccessProps(
                environment_name=config.name,
                database=self.database,
                secrets=self.secrets,
                vpc=vpc,
                subnets=self.network.application_subnets,
                encryption_key=data_key,
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
                secrets=self.secrets,
                login_secret_name=f"cashtrace/{config.name}/database-api",
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
                secrets=self.secrets,
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

        # TLS for the API and Grafana: a certificate and, with a hosted zone, their DNS names.
        self.domain = (
            EnvironmentDomain(self, "Domain", props=EnvironmentDomainProps(config=config.endpoint))
            if config.endpoint.tls
            else None
        )
        self.service = self._service(config)
        # Tasks start once their database user exists.
        self.service.service.node.add_dependency(self.database_access.resource)
        self.database.allow_from(self.service.service, "PostgreSQL from the API tasks")
        self.cache.allow_from(self.service.service, "Redis from the API tasks")
        self.service.task_definition.task_role.add_managed_policy(self._application_data_access())

        self._promotion_gate(config, break_glass_reason)
        self._monitoring(config)
        if self.domain is not None:
            self.domain.alias("ApiAlias", self.domain.api, self.service.load_balancer)
            self.domain.alias("GrafanaAlias", self.domain.grafana, self.grafana.load_balancer)
        self._outputs(config)
        # Environments the pipeline deploys report their CodeDeploy rollouts to its deployment record.
        if deployment_events_account:
            DeploymentEventForwarder(
                self,
                "DeploymentEvents",
                props=DeploymentEventForwarderProps(target_account=deployment_events_account),
            )

        if is_placeholder(config.service.image_digest):
            refuse_deployment_without_release(self, config.service.image_digest)

        self._watch_functions()
        retain_stateful_resources(self, retain=config.data.retain_on_delete)
        keep_logical_ids(self, SECRETS_DEPLOYED_ELSEWHERE)
        # The same logical ids whether this stack is top-level or inside a pipeline Stage.
        stabilize_logical_ids(self)
        acknowledge_environment(self, config)

    def _promotion_gate(self, config: EnvironmentConfig, break_glass_reason: str | None) -> None:
        """Property 4 in the stack itself (`cdk deploy` included): the release and the stateful resources
        wait for the gate, which accepts only what staging verified, or a recorded break-glass reason."""
        self.promotion_gate: PromotionGate | None = None
        if not config.settings.requires_approval:
            return
        self.promotion_gate = PromotionGate(
            self,
            "PromotionGate",
            props=PromotionGateProps(
                environment_name=config.name,
                service=config.service,
                vpc=self.network.vpc,
                subnets=self.network.application_subnets,
                encryption_key=self.encryption.key,
                break_glass_reason=break_glass_reason,
            ),
        )
        data = (self.database.instance, self.cache.replication_group, self.storage.bucket)
        self.promotion_gate.guard(self.service.task_definition, *data)

    def _outputs(self, config: EnvironmentConfig) -> None:
        # The base URL the pipeline's integration and smoke tests call and the deployment record
        # keeps: the HTTPS domain, or the load balancer's own name where plain HTTP is allowed (dev).
        self.service_url = CfnOutput(
            self,
            "ServiceUrl",
            value=(
                config.endpoint.service_url
                if config.endpoint.tls
                else f"http://{self.service.load_balancer.load_balancer_dns_name}"
            ),
            description="Base URL of the CashTrace API",
        )
        dashboard = self.monitoring.dashboard
        if dashboard is not None:
            self.dashboard_url = CfnOutput(
                self,
                "DashboardUrl",
                value=(
                    f"https://{self.region}.console.aws.amazon.com/cloudwatch/home?region={self.region}"
                    f"#dashboards/dashboard/{dashboard.dashboard_name}"
                ),
                description="CloudWatch dashboard of this environment",
            )
        self.grafana_url = CfnOutput(
            self,
            "GrafanaUrl",
            value=self.grafana.url,
            description="Grafana (internal load balancer: from inside the VPC, over the VPN or SSM)",
        )
        gate = self.promotion_gate
        if gate is not None:
            CfnOutput(
                self, "PromotionEvidence", value=gate.evidence, description="Why the promotion gate let it deploy"
            )
            if reason := gate.break_glass_reason:
                CfnOutput(self, "BreakGlassReason", value=reason, description="Deployed without staging's verification")

    def _monitoring(self, config: EnvironmentConfig) -> None:
        """Dashboards, alarms and paging for everything above; the rollback alarms page as they are."""
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            props=MonitoringProps(
                environment_name=config.name, config=config.monitoring, encryption_key=self.encryption.key
            ),
        )
        self.prometheus = PrometheusWorkspace(
            self,
            "Prometheus",
            props=PrometheusWorkspaceProps(
                environment_name=config.name,
                encryption_key=self.encryption.key,
                log_retention_days=config.monitoring.log_retention_days,
            ),
        )
        self.grafana = GrafanaService(
            self,
            "Grafana",
            props=GrafanaServiceProps(
                environment_name=config.name,
                config=config.monitoring,
                vpc=self.network.vpc,
                vpc_cidr=config.infrastructure.networking.cidr,
                subnets=self.network.application_subnets,
                encryption_key=self.encryption.key,
                prometheus=self.prometheus,
                secrets=self.secrets,
                tls=self.domain.grafana if self.domain else None,
                readable_log_groups=(self.service.task.log_group,),
            ),
        )
        self.monitoring.monitor_internal_service(service=self.grafana.service, name="Grafana")
        scaling = config.resource(ResourceType.COMPUTE, config.service.name).auto_scaling
        assert scaling is not None  # EnvironmentConfig.validate guarantees it
        self.monitoring.monitor_service(
            service=self.service.service,
            load_balancer=self.service.load_balancer,
            min_tasks=scaling.min_replicas,
            max_tasks=scaling.max_replicas,
        )
        self.monitoring.page_on(self.service.rollback_alarms, title="Rollback alarms (blue-green)")
        self.service.add_metrics_collector(self.prometheus, config=config.monitoring)
        self.monitoring.monitor_database(instance=self.database.instance)
        self.monitoring.monitor_cache(cluster_ids=redis_member_cluster_ids(self.cache.replication_group))
        self.monitoring.page_on(list(self.backups.alarms.all), title="Backups and restore tests")
        self.monitoring.page_on(self.secrets.alarms, title="Denied secret access")

    def _watch_functions(self) -> None:
        """Errors, throttles and dead letters of every function and queue here; secret rotation and key age."""
        self.monitoring.warn_on(
            handler_alarms(self) + watch_functions(self),
            title="Functions and dead-letter queues",
        )
        self.monitoring.warn_on(self.secrets.rotation_alarms, title="Secret rotation and third-party key age")

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
        api = config.resource(ResourceType.COMPUTE, config.service.name)
        assert api.auto_scaling is not None  # EnvironmentConfig.validate guarantees it
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
                tls=self.domain.api if self.domain else None,
                environment={
                    **{variable.name: variable.value for variable in config.settings.variables},
                    "DATABASE_HOST": self.database.endpoint.hostname,
                    "DATABASE_PORT": str(self.database.port),
                    "REDIS_HOST": self.cache.endpoint.hostname,
                    "REDIS_PORT": str(self.cache.endpoint.port),
                    "ASSETS_BUCKET": self.storage.bucket.bucket_name,
                },
                # Injected by ECS at task start (the execution role reads them); never in the template.
                secrets={
                    **{
                        reference.env_var: self.secrets.container_secret(reference)
                        for reference in config.settings.secrets
                    },
                    # The API's own login, never the master's: alternating users keep the pair a
                    # running task read at start valid through the next rotation (docs/secrets.md).
                    "DATABASE_USER": self.secrets.container_secret(self.database_access.login, "username"),
                    "DATABASE_PASSWORD": self.secrets.container_secret(self.database_access.login, "password"),
                    "REDIS_AUTH_TOKEN": self.secrets.container_secret(self.cache.auth_token),
                },
                vpc=self.network.vpc,
                encryption_key=self.encryption.key,
                task_subnets=self.network.application_subnets,
                load_balancer_subnets=self.network.public_subnets,
                test_client_cidrs=nat_addresses,
            ),
        )

    @property
    def availability_zones(self) -> list[str]:
        # The AZs are fixed by config, so synth needs no AZ lookup (and no AWS credentials).
        return list(self.config.infrastructure.availability_zones)
