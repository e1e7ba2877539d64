"""The PostgreSQL driver layer: pg8000 and its pure-Python dependencies, from committed, hash-pinned wheels.

No Docker and no network at synth: a wheel of pure Python is a zip that installing only unpacks,
so the layer's local bundling checks each wheel against `requirements.txt` (name, version, sha256)
and unpacks it into `python/`. A fresh clone synthesizes the same layer as CI and the pipeline.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.function import stack_layer

LAYER_DIR = Path(__file__).resolve().parent.parent / "lambdas" / "layers" / "postgres"
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)==(?P<version>\S+)\s+--hash=sha256:(?P<sha256>[0-9a-f]{64})\s*$")


@dataclass(frozen=True)
class PinnedWheel:
    name: str
    version: str
    sha256: str

    @property
    def file_prefix(self) -> str:
        # Wheel file names normalise the project name's dashes to underscores (PEP 427).
        return f"{self.name.replace('-', '_')}-{self.version}-"


def pinned_wheels(layer_dir: Path = LAYER_DIR) -> list[PinnedWheel]:
    """The pins of `requirements.txt`; any line but a comment or `name==version --hash=sha256:...` is refused."""
    pins: list[PinnedWheel] = []
    for number, line in enumerate((layer_dir / "requirements.txt").read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _PIN.match(line.strip())
        if match is None:
            raise DeploymentError(
                ErrorCode.CONFIG_INVALID,
                f"{layer_dir}/requirements.txt:{number} is not 'name==version --hash=sha256:<64 hex>'",
                field="postgres_driver.requirements",
            )
        pins.append(PinnedWheel(match["name"], match["version"], match["sha256"]))
    return pins


def install_wheels(output_dir: Path, layer_dir: Path = LAYER_DIR) -> list[str]:
    """Unpack every pinned wheel into `output_dir/python` after checking its hash; returns the files unpacked."""
    target = output_dir / "python"
    target.mkdir(parents=True, exist_ok=True)
    installed: list[str] = []
    for pin in pinned_wheels(layer_dir):
        candidates = sorted((layer_dir / "wheels").glob(f"{pin.file_prefix}*.whl"))
        if len(candidates) != 1:
            raise DeploymentError(
                ErrorCode.CONFIG_INVALID,
                f"expected one wheel {pin.file_prefix}*.whl in {layer_dir}/wheels, found {len(candidates)}",
                field="postgres_driver.wheels",
            )
        wheel = candidates[0]
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != pin.sha256:
            raise DeploymentError(
                ErrorCode.CI_FAILED,
                f"{wheel.name} has sha256 {digest}, requirements.txt pins {pin.sha256}",
                field="postgres_driver.wheels",
            )
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                # Only pure-Python wheels are pinned: a .data/ directory would need pip's install scheme.
                if member.split("/", 1)[0].endswith(".data"):
                    raise DeploymentError(
                        ErrorCode.CONFIG_INVALID,
                        f"{wheel.name} carries {member}; only plain pure-Python wheels can be unpacked",
                        field="postgres_driver.wheels",
                    )
            archive.extractall(target)  # nosec B202 (our own hash-pinned wheels)
            installed.extend(archive.namelist())
    return installed


@jsii.implements(ILocalBundling)
class _WheelInstall:
    # jsii hands the bundling options over positionally or as keywords; neither is needed here.
    def try_bundle(self, output_dir: str, *_options: Any, **_keywords: Any) -> bool:
        install_wheels(Path(output_dir))
        return True


def postgres_driver_layer(scope: Construct) -> lambda_.ILayerVersion:
    """The stack's one driver layer (made on first use), for functions that speak PostgreSQL."""
    return stack_layer(
        scope,
        "PostgresDriverLayer",
        description="pg8000 (pure-Python PostgreSQL driver) and its dependencies, from hash-pinned wheels",
        code=lambda_.Code.from_asset(
            str(LAYER_DIR),
            exclude=["__pycache__"],
            bundling=BundlingOptions(
                # Never pulled: local bundling always succeeds or raises.
                image=DockerImage.from_registry("scratch"),
                local=_WheelInstall(),
            ),
        ),
    )
