"""The templates are valid CloudFormation: cfn-lint over each, and one synth with CDK's built-in validator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk.cx_api import CloudAssembly

from stacks import environments
from stacks.app import build_app, new_app


def test_cfn_lint_reports_no_error_on_any_synthesized_template(cloud_assembly: CloudAssembly) -> None:
    errors = [
        f"{stack.hierarchical_id}: {match}"
        for stack in cloud_assembly.stacks_recursively
        for match in _lint_errors(Path(stack.template_full_path))
    ]
    assert errors == []


def _lint_errors(path: Path) -> list[Any]:
    from cfnlint.api import ManualArgs, lint_file

    # E3703 misreads the CAPABILITY_AUTO_EXPAND that CDK Pipelines adds to its CloudFormation deploy
    # actions (the database's hosted rotation is a transform, which needs it); it is the only exception.
    matches = lint_file(path, config=ManualArgs(regions=["af-south-1"], ignore_checks=["E3703"]))
    return [m for m in matches if m.rule.id.startswith("E")]


@pytest.mark.synth
def test_app_synthesizes_with_the_builtin_cloudformation_validation_on(tmp_path: Path) -> None:
    # The other tests switch CDK's validator off for speed; this one keeps the default, as `cdk synth` runs.
    # One environment keeps it to a few seconds; every environment is the same composition.
    app = new_app(outdir=str(tmp_path))
    build_app(app, [environments.prod()], with_pipeline=False)
    app.synth()
    assert (tmp_path / "CashTrace-Prod.template.json").exists()
