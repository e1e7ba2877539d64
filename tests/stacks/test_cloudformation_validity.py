"""The templates are valid CloudFormation: cfn-lint over each, and one synth with CDK's built-in validator."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from aws_cdk.cx_api import CloudAssembly

from stacks import environments
from stacks.app import build_app, new_app

# The pipeline's stage templates equal CashTrace-Staging/-Prod but for cosmetic path-derived
# values (tests/stacks/test_pipeline.py proves it), so the top-level four cover every resource.
LINTED = ("CashTrace-Dev", "CashTrace-Staging", "CashTrace-Prod", "CashTrace-Pipeline")


def test_cfn_lint_reports_no_error_on_any_distinct_template(cloud_assembly: CloudAssembly) -> None:
    paths = {s.hierarchical_id: s.template_full_path for s in cloud_assembly.stacks_recursively}
    # cfn-lint's own CLI, two templates at a time: a separate process is not slowed by coverage
    # tracing and uses the second core. E3703 misreads the CAPABILITY_AUTO_EXPAND that CDK
    # Pipelines adds to its deploy actions (the database's hosted rotation is a transform).
    command = [
        str(Path(sys.executable).parent / "cfn-lint"),
        "--regions",
        "af-south-1",
        "--ignore-checks",
        "W",
        "E3703",
        "--",
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(
            pool.map(
                lambda stack: subprocess.run([*command, paths[stack]], capture_output=True, text=True, check=False),
                LINTED,
            )
        )
    errors = {stack: run.stdout + run.stderr for stack, run in zip(LINTED, runs, strict=True) if run.returncode}
    assert errors == {}


@pytest.mark.synth
def test_app_synthesizes_with_the_builtin_cloudformation_validation_on(tmp_path: Path) -> None:
    # The other tests switch CDK's validator off for speed; this one keeps the default, as `cdk synth` runs.
    # One environment keeps it to a few seconds; every environment is the same composition.
    app = new_app(outdir=str(tmp_path))
    build_app(app, [environments.prod()], with_pipeline=False)
    app.synth()
    assert (tmp_path / "CashTrace-Prod.template.json").exists()
