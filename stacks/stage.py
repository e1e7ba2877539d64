"""`CashTraceStage`: one environment as a deployable unit for the CD pipeline."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aspects, Environment, Stage
from constructs import Construct

from cashtrace_constructs.config import EnvironmentConfig
from cashtrace_constructs.region_lock import RegionLock
from stacks.environment_stack import CashTraceEnvironmentStack


class CashTraceStage(Stage):
    """The same stack `cdk deploy CashTrace-<Env>` deploys, wrapped for CDK Pipelines.

    Aspects do not cross Stage boundaries, so the stage carries its own RegionLock.
    """

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
            **kwargs,
        )
        self.environment_stack = CashTraceEnvironmentStack(
            self, "Environment", config=config, deployment_events_account=deployment_events_account
        )
        Aspects.of(self).add(RegionLock(infrastructure.security.allowed_regions))
