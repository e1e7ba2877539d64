"""`CashTraceEnvironmentStack`: one environment (dev, staging or prod) composed from the constructs."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Environment, Stack
from constructs import Construct

from cashtrace_constructs.config import EnvironmentConfig
from cashtrace_constructs.deployment_record import DeploymentEventForwarder
from cashtrace_constructs.encryption import EnvironmentKey
from cashtrace_constructs.network import Network
from stacks import nag_acknowledgments


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

        # CD pipeline (issue 6): the URL the pipeline's integration and smoke tests call. Issue 3
        # replaces the value with the load balancer's URL; the output's id stays.
        self.service_url = CfnOutput(
            self, "ServiceUrl", value=config.environment.url, description="Base URL of the CashTrace API"
        )
        # Environments the pipeline deploys report their CodeDeploy rollouts to its deployment record.
        if deployment_events_account:
            DeploymentEventForwarder(self, "DeploymentEvents", target_account=deployment_events_account)

        nag_acknowledgments.acknowledge(self, config.name)

    @property
    def availability_zones(self) -> list[str]:
        # The AZs are fixed by config, so synth needs no AZ lookup (and no AWS credentials).
        return list(self.config.infrastructure.availability_zones)
