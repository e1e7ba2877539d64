"""`CashTraceEnvironmentStack`: one environment (dev, staging or prod) composed from the constructs."""

from __future__ import annotations

from typing import Any

from aws_cdk import Environment, Stack
from constructs import Construct

from cashtrace_constructs.config import EnvironmentConfig
from cashtrace_constructs.encryption import EnvironmentKey
from cashtrace_constructs.grafana import GrafanaService
from cashtrace_constructs.monitoring import Monitoring
from cashtrace_constructs.network import Network
from cashtrace_constructs.prometheus import PrometheusWorkspace
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

        # Monitoring (issue 8). The service, data, secrets and pipeline join it through
        # monitor_service / monitor_database / monitor_cache / page_on / warn_on (docs/monitoring.md).
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
            vpc_cidr=infrastructure.networking.cidr,
            subnets=self.network.application_subnets,
            encryption_key=self.encryption.key,
            prometheus=self.prometheus,
        )
        self.monitoring.monitor_internal_service(service=self.grafana.service, name="Grafana")

        nag_acknowledgments.acknowledge(self, config.name)

    @property
    def availability_zones(self) -> list[str]:
        # The AZs are fixed by config, so synth needs no AZ lookup (and no AWS credentials).
        return list(self.config.infrastructure.availability_zones)
