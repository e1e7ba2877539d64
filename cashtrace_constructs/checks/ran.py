"""Proof that every synth-time check ran over every template: written during synthesis, read by
`make synth`'s summary (`python -m tools.checks_summary`) and the tests.

CDK leaves a plugin that passed out of `validation-report.json`, so there a deleted plugin and a
green one look alike. Each audited plugin therefore records its run under `<cdk.out>/cashtrace-checks/`
with a fingerprint of every template it judged (a record left by an earlier synth does not match
the templates of this one), and `RegionLock` marks each stack it checked in the stack's metadata.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

RECORD_DIR = "cashtrace-checks"
# Stack metadata entry RegionLock leaves on every stack it checked (data: the allowed regions).
REGION_LOCK_METADATA = "cashtrace:region-lock"


@dataclass(frozen=True)
class PluginRun:
    plugin: str
    version: str | None
    rules: int | None
    # Template path relative to the cloud assembly root -> sha256 of the file the plugin judged.
    templates: Mapping[str, str]
    findings: int
    unsuppressed: int
    acknowledgments: int

    @property
    def passed(self) -> bool:
        return self.unsuppressed == 0


def fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assembly_root(template_paths: Iterable[str]) -> Path:
    """The top cloud assembly directory: the shallowest directory holding one of the templates."""
    return min((Path(path).resolve().parent for path in template_paths), key=lambda p: len(p.parts))


def record_run(run: PluginRun, root: Path) -> None:
    directory = root / RECORD_DIR
    directory.mkdir(exist_ok=True)
    (directory / f"{run.plugin.replace('/', '_')}.json").write_text(json.dumps(asdict(run), indent=1))


def templates_of(root: Path) -> dict[str, Path]:
    """Every template of the assembly, stage assemblies included, by path relative to `root`."""
    return {str(path.relative_to(root)): path for path in sorted(root.rglob("*.template.json"))}


def read_runs(root: Path) -> list[PluginRun]:
    """The plugins that ran in the synthesis that wrote `root`'s templates (stale records ignored)."""
    current = {name: fingerprint(path) for name, path in templates_of(root).items()}
    runs = []
    for record in sorted((root / RECORD_DIR).glob("*.json")):
        run = PluginRun(**json.loads(record.read_text()))
        if dict(run.templates) == current:
            runs.append(run)
    return runs


def _stacks(directory: Path, prefix: str = "") -> Iterator[tuple[str, Path, Mapping[str, Any]]]:
    manifest = json.loads((directory / "manifest.json").read_text())
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        kind = artifact.get("type")
        if kind == "cdk:cloud-assembly":
            yield from _stacks(directory / artifact["properties"]["directoryName"], prefix)
        elif kind == "aws:cloudformation:stack":
            metadata = dict(artifact.get("metadata") or {})
            if artifact.get("additionalMetadataFile"):
                metadata.update(json.loads((directory / artifact["additionalMetadataFile"]).read_text()))
            yield artifact.get("displayName", artifact_id), directory, metadata


def region_locked_stacks(root: Path) -> dict[str, list[str] | None]:
    """Every stack of the assembly -> the allowed regions RegionLock checked it against (None: not checked)."""
    locked: dict[str, list[str] | None] = {}
    for name, _, metadata in _stacks(root):
        regions = [
            entry["data"]
            for entries in metadata.values()
            for entry in entries
            if entry.get("type") == REGION_LOCK_METADATA
        ]
        locked[name] = list(regions[0]) if regions else None
    return locked
