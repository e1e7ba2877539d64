"""The session's synthesized app, read the way `make evidence` reads cdk.out."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk.cx_api import CloudAssembly

from tools.evidence.assembly import Assembly


@pytest.fixture(scope="session")
def assembly(cloud_assembly: CloudAssembly, app_outdir: Path) -> Assembly:
    # cloud_assembly waits for the session synth to finish.
    return Assembly.load(app_outdir)
