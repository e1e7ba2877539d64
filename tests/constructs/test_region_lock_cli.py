"""`cdk synth` (the CLI, not only in-process synth) refuses a stack outside the residency region."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.synth
@pytest.mark.skipif(shutil.which("cdk") is None, reason="the aws-cdk CLI is installed by `make` (node_modules/.bin)")
def test_cdk_cli_synth_fails_for_a_stack_in_eu_west_1(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            "cdk",
            "synth",
            "--quiet",
            "--no-notices",
            "--app",
            f"{sys.executable} tests/fixtures/residency_violation_app.py",
            "--output",
            str(tmp_path / "cdk.out"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "CDK_VALIDATION": "false", "PYTHONPATH": str(ROOT)},
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "DEPLOY_RESIDENCY_VIOLATION" in output
    assert "IrelandStack" in output and "eu-west-1" in output
