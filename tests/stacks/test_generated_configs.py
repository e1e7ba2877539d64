"""Any valid environment config synthesizes into a stack that passes cdk-nag, the region lock and our rules."""

from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from hypothesis import HealthCheck, given, settings

from cashtrace_constructs.config import EnvironmentConfig
from stacks.app import build_app
from tests.config.strategies import environment_configs
from tests.synth import make_app, unacknowledged, validation_report


# Each example is a full synth (seconds): a few examples, different every run, cover the space over time.
@pytest.mark.synth
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=environment_configs())
def test_valid_configs_synthesize_and_pass_every_check(config: EnvironmentConfig) -> None:
    with TemporaryDirectory() as outdir:
        app = make_app(Path(outdir), report_only=True)
        build_app(app, [config], with_pipeline=False)
        assembly = app.synth()
        assert [s.stack_name for s in assembly.stacks] == [config.stack_name]
        assert unacknowledged(validation_report(Path(outdir))) == []
