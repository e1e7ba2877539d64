"""CashTraceStage deploys the same stack `cdk deploy CashTrace-<Env>` does, and is region-locked itself."""

from __future__ import annotations

from aws_cdk import Aspects
from aws_cdk.cx_api import CloudAssembly

from cashtrace_constructs.region_lock import RegionLock
from stacks import environments
from stacks.stage import CashTraceStage
from tests.synth import make_app


def test_pipeline_stages_hold_the_environment_stacks_under_their_real_names(cloud_assembly: CloudAssembly) -> None:
    staged = {s.hierarchical_id: s for s in cloud_assembly.stacks_recursively if "/" in s.hierarchical_id}
    for environment, config in (("Staging", environments.staging()), ("Prod", environments.prod())):
        stack = staged[f"CashTrace-Pipeline/{environment}/Environment"]
        assert stack.stack_name == config.stack_name
        assert stack.environment.region == "af-south-1"
        assert stack.environment.account == config.infrastructure.account


def test_a_stage_carries_its_own_region_lock() -> None:
    # Aspects of the App stop at a Stage boundary; without its own lock a stage would escape it.
    stage = CashTraceStage(make_app(), "Staging", config=environments.staging())
    assert any(isinstance(aspect, RegionLock) for aspect in Aspects.of(stage).all)
