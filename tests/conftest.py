"""Session-wide synthesis of the real app: every test reads these templates, none re-synthesizes."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.cx_api import CloudAssembly
from hypothesis import HealthCheck, settings

from stacks.app import build_app
from tests.synth import make_app, templates_of, validation_report

settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def app_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Under pytest-xdist every worker has its own base temp; their parent is shared by the run.
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    return shared / "cdk.out"


@pytest.fixture(scope="session")
def cloud_assembly(app_outdir: Path) -> CloudAssembly:
    """The real app, synthesized once per run: the first worker synthesizes, the others read it."""
    with (app_outdir.parent / "cdk.out.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        complete = app_outdir.parent / "cdk.out.complete"
        if not complete.exists():
            app = make_app(app_outdir, report_only=True)
            build_app(app)
            app.synth()
            complete.touch()
    return CloudAssembly(str(app_outdir))


@pytest.fixture(scope="session")
def templates(cloud_assembly: CloudAssembly) -> dict[str, dict[str, Any]]:
    """Stack name (CashTrace-Dev, CashTrace-Staging, CashTrace-Prod, ...) -> template JSON."""
    return templates_of(cloud_assembly)


@pytest.fixture(scope="session")
def app_validation_report(cloud_assembly: CloudAssembly, app_outdir: Path) -> dict[str, Any]:
    return validation_report(app_outdir)


ENVIRONMENT_STACKS = ("CashTrace-Dev", "CashTrace-Staging", "CashTrace-Prod")
