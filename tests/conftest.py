"""Session-wide synthesis of the real app: every test reads these templates, none re-synthesizes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.loaders
import botocore.session
import pytest
from aws_cdk.cx_api import CloudAssembly
from hypothesis import HealthCheck, settings

from tests.synth import templates_of, unacknowledged, validation_report

# The pipeline's synth step sets the TLS values and addresses it was deployed with
# (stacks/pipeline_steps.py::deployment_values); the suite tests the shipped configs and snapshots.
for _variable in [
    name
    for name in os.environ
    if name.startswith("CASHTRACE_") and name.endswith(("_HOSTED_ZONE_ID", "_CERTIFICATE_ARN"))
]:
    os.environ.pop(_variable)
os.environ.pop("CASHTRACE_NOTIFICATION_EMAILS", None)

# One loader of botocore's service models for every session a test makes: each new boto3.Session
# (the promotion gate makes one per request for its assumed role, the preflight one per account)
# would read the models again, about 75 ms per client. The models are read-only data.
_MODELS = botocore.loaders.create_loader()
_create_loader = botocore.session.create_loader
botocore.session.create_loader = lambda search_path_string=None: (  # type: ignore[assignment]
    _create_loader(search_path_string) if search_path_string else _MODELS
)

settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


# The real app is synthesized once per run, in a process of its own started here (tests/session_app.py);
# pytest-xdist workers, started after this hook, inherit the variables and read the same cdk.out.
# Beside it, the real app with one injected violation per check (tests/violations_app.py).
_SESSION_OUTDIR = "CASHTRACE_TEST_CDK_OUT"
_VIOLATIONS_OUTDIR = "CASHTRACE_TEST_VIOLATIONS_CDK_OUT"
_BACKGROUND_SYNTHS = {_SESSION_OUTDIR: "tests.session_app", _VIOLATIONS_OUTDIR: "tests.violations_app"}
_SYNTH_TIMEOUT_SECONDS = 600
_synth_key = pytest.StashKey[list["subprocess.Popen[bytes]"]]()


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or config.option.collectonly or os.environ.get(_SESSION_OUTDIR):
        return
    config.stash[_synth_key] = []
    for variable, module in _BACKGROUND_SYNTHS.items():
        outdir = Path(tempfile.mkdtemp(prefix="cashtrace-session-")) / "cdk.out"
        os.environ[variable] = str(outdir)
        with outdir.with_suffix(".log").open("w") as log:
            config.stash[_synth_key].append(
                subprocess.Popen(
                    [sys.executable, "-m", module, str(outdir)],
                    cwd=Path(__file__).resolve().parent.parent,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )


def pytest_unconfigure(config: pytest.Config) -> None:
    synths = config.stash.get(_synth_key, None)
    if synths is None:
        return
    for synth in synths:
        if synth.poll() is None:  # a run that needed no templates does not wait for them
            synth.kill()
            synth.wait()
    for variable in _BACKGROUND_SYNTHS:
        shutil.rmtree(Path(os.environ.pop(variable)).parent, ignore_errors=True)


_TEMPLATE_FIXTURES = frozenset(
    {"app_outdir", "cloud_assembly", "templates", "app_validation_report", "violations_outcome"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests of the real app's templates run last, so the workers spend the synth's first seconds
    # on everything else instead of waiting for it (a stable sort keeps each group's order).
    items.sort(key=lambda item: bool(_TEMPLATE_FIXTURES & set(getattr(item, "fixturenames", ()))))


def _background_status(outdir: Path) -> str:
    status = outdir.with_suffix(".status")
    deadline = time.monotonic() + _SYNTH_TIMEOUT_SECONDS
    while not status.exists():
        if time.monotonic() > deadline:
            pytest.fail(f"the background synth wrote nothing in {_SYNTH_TIMEOUT_SECONDS} s: see {outdir}.log")
        time.sleep(0.1)
    return status.read_text()


@pytest.fixture(scope="session")
def app_outdir() -> Path:
    return Path(os.environ[_SESSION_OUTDIR])


@pytest.fixture(scope="session")
def cloud_assembly(app_outdir: Path) -> CloudAssembly:
    """The real app as `cdk synth` writes it, once per run, shared by every worker."""
    outcome = _background_status(app_outdir)
    if outcome != "ok":
        pytest.fail(f"the session synth of the real app failed:\n{outcome}", pytrace=False)
    return CloudAssembly(str(app_outdir))


@pytest.fixture(scope="session")
def templates(cloud_assembly: CloudAssembly) -> dict[str, dict[str, Any]]:
    """Stack name (CashTrace-Dev, CashTrace-Staging, CashTrace-Prod, ...) -> template JSON."""
    return templates_of(cloud_assembly)


@pytest.fixture(scope="session")
def app_validation_report(cloud_assembly: CloudAssembly, app_outdir: Path) -> dict[str, Any]:
    return validation_report(app_outdir)


@dataclass(frozen=True)
class ViolationsOutcome:
    """How synthesis of the real app with every injected violation ended, and what it reported."""

    refused: bool
    findings: list[str]


@pytest.fixture(scope="session")
def violations_outcome() -> ViolationsOutcome:
    outdir = Path(os.environ[_VIOLATIONS_OUTDIR])
    outcome = _background_status(outdir)
    if outcome.split("\n", 1)[0] not in ("refused", "accepted"):
        pytest.fail(f"the violations app could not be built:\n{outcome}", pytrace=False)
    return ViolationsOutcome(
        refused=outcome.startswith("refused") and "ValidationFailed" in outcome,
        findings=unacknowledged(validation_report(outdir)),
    )


ENVIRONMENT_STACKS = ("CashTrace-Dev", "CashTrace-Staging", "CashTrace-Prod")
