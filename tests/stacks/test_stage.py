"""CashTraceStage deploys the same stack `cdk deploy CashTrace-<Env>` does, and is region-locked itself."""

from __future__ import annotations

from aws_cdk import Aspects

from cashtrace_constructs.region_lock import RegionLock
from stacks import environments
from stacks.stage import CashTraceStage
from tests.synth import make_app


def test_stage_holds_the_environment_stack_under_its_real_name() -> None:
    app = make_app()
    stage = CashTraceStage(app, "Staging", config=environments.staging())
    assert any(isinstance(aspect, RegionLock) for aspect in Aspects.of(stage).all)
    assembly = stage.synth()
    (stack,) = assembly.stacks
    assert stack.stack_name == "CashTrace-Staging"
    assert stack.environment.region == "af-south-1"
    assert stack.environment.account == environments.account_for("staging")
