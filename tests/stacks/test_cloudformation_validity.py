"""The templates are valid CloudFormation: one synth with CDK's built-in validator.

cfn-lint judges every template of `cdk.out` in the security gate (`make security`, blocking in
`.ci/run` and CI), where its warnings fail too; tests/ci/test_security_scan.py shows that gate
fails on a template with a cfn-lint error.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks import environments
from stacks.app import build_app, new_app


@pytest.mark.synth
def test_app_synthesizes_with_the_builtin_cloudformation_validation_on(tmp_path: Path) -> None:
    # The other tests switch CDK's validator off for speed; this one keeps the default, as `cdk synth` runs.
    # One environment keeps it to a few seconds; every environment is the same composition.
    app = new_app(outdir=str(tmp_path))
    build_app(app, [environments.prod()], with_pipeline=False)
    app.synth()
    assert (tmp_path / "CashTrace-Prod.template.json").exists()
