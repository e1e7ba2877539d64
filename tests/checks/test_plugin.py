"""The checks plugin inside a real synth: a violation makes in-process synthesis fail and is reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import Validations
from aws_cdk import aws_s3 as s3

from cashtrace_constructs.checks import CashTraceChecks, default_rules
from tests.synth import make_app, stack_in_region


def test_untagged_stack_in_ireland_fails_synthesis_and_lands_in_the_report(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    Validations.of(app).add_plugins(CashTraceChecks(default_rules()))
    stack = stack_in_region(app, "Ireland", region="eu-west-1")
    s3.Bucket(stack, "Data")
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    (plugin,) = [p for p in report["pluginReports"] if p["pluginName"] == "CashTraceChecks"]
    rules = {v["ruleName"] for v in plugin["violations"]}
    assert {"CT-P7-DataResidency", "CT-CostAllocationTags"} <= rules
    paths = {c["constructPath"] for v in plugin["violations"] for c in v["violatingConstructs"]}
    assert "Ireland" in paths


def test_compliant_app_synthesizes() -> None:
    app = make_app()
    Validations.of(app).add_plugins(CashTraceChecks(default_rules()))
    tagged = stack_in_region(app, "Tagged")
    for key in ("environment", "service", "owner"):
        tagged.tags.set_tag(key, "x")
    s3.Bucket(
        tagged, "Data", encryption=s3.BucketEncryption.S3_MANAGED, block_public_access=s3.BlockPublicAccess.BLOCK_ALL
    )
    app.synth()
