"""The PostgreSQL driver layer: hash-pinned wheels, unpacked at synth, the same versions the tests import."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from cashtrace_constructs.checks.template import of_type
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.postgres_driver import LAYER_DIR, install_wheels, pinned_wheels
from tests.conftest import ENVIRONMENT_STACKS

ROOT = Path(__file__).resolve().parent.parent


def test_the_layer_pins_what_the_tests_import() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pinned = dict(entry.split("==") for entry in project["dependency-groups"]["test"] if "==" in entry)
    for pin in pinned_wheels():
        # Pinned in pyproject.toml when only the Lambdas need it, else whatever boto3 brought in.
        expected = pinned.get(pin.name) or importlib.metadata.version(pin.name)
        assert pin.version == expected, f"{pin.name}: layer {pin.version}, tests {expected}"
    assert {"pg8000", "scramp", "asn1crypto"} <= {pin.name for pin in pinned_wheels()}


def test_the_unpacked_layer_imports_on_its_own(tmp_path: Path) -> None:
    install_wheels(tmp_path)
    # -S: no site-packages, only the standard library and the layer, as Lambda adds /opt/python.
    probe = "import sys; sys.path.insert(0, sys.argv[1]); import pg8000.native, scramp, dateutil; print('ok')"
    result = subprocess.run(
        [sys.executable, "-S", "-c", probe, str(tmp_path / "python")], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_a_wheel_that_does_not_match_its_hash_stops_synthesis(tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    shutil.copytree(LAYER_DIR, layer)
    wheel = next((layer / "wheels").glob("pg8000-*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"tampered")
    with pytest.raises(DeploymentError) as refused:
        install_wheels(tmp_path / "out", layer)
    assert refused.value.code is ErrorCode.CI_FAILED and "sha256" in str(refused.value)


@pytest.mark.parametrize("line", ["pg8000>=1.31", "pg8000==1.31.6", "pg8000==1.31.6 --hash=md5:abc"])
def test_an_unpinned_or_unhashed_requirement_is_refused(tmp_path: Path, line: str) -> None:
    (tmp_path / "requirements.txt").write_text(f"# comment\n{line}\n")
    with pytest.raises(DeploymentError) as refused:
        pinned_wheels(tmp_path)
    assert refused.value.code is ErrorCode.CONFIG_INVALID


def test_the_functions_that_speak_postgresql_carry_the_layer(templates: dict[str, dict[str, Any]]) -> None:
    for name in ENVIRONMENT_STACKS:
        template = templates[name]
        (layer,) = [
            logical_id
            for logical_id, _ in of_type(template, "AWS::Lambda::LayerVersion")
            if logical_id.startswith("PostgresDriverLayer")
        ]
        carrying = {
            r["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
            for _, r in of_type(template, "AWS::Lambda::Function")
            if {"Ref": layer} in r["Properties"].get("Layers", [])
        }
        assert carrying == {"database_bootstrap", "restore_validation"}, name
