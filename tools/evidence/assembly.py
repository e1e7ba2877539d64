"""Reading a cloud assembly (cdk.out) for the evidence: stacks, their construct paths, and a fresh synth when needed.

Templates of an in-process synth carry no `aws:cdk:path`, so construct paths come from each
stack's metadata file (`aws:cdk:logicalId` entries), which every synth writes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from cashtrace_constructs.checks.rule import SynthesizedStack
from cashtrace_constructs.checks.template import Resource, Template, resources_of

ROOT = Path(__file__).resolve().parent.parent.parent
# What the app is built from: cdk.out older than any of these is stale.
APP_SOURCES = ("app.py", "cdk.json", "package.json", "pyproject.toml", "cashtrace_constructs", "stacks", "lambdas")
LOGICAL_ID = "aws:cdk:logicalId"


@dataclass(frozen=True)
class Stack:
    """One synthesized stack as the evidence reads it."""

    hierarchical_id: str
    stack_name: str
    template: Template
    account: str
    region: str
    tags: Mapping[str, str]
    template_path: Path
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def resources(self) -> Mapping[str, Resource]:
        return resources_of(self.template)

    @property
    def environment(self) -> str:
        return str(self.tags.get("environment", self.stack_name))

    @cached_property
    def paths(self) -> dict[str, str]:
        """Logical id -> construct path relative to the stack (`Database/Instance/Resource`)."""
        found: dict[str, str] = {}
        prefix = f"/{self.hierarchical_id}/"
        for path, entries in self.metadata.items():
            for entry in entries:
                if entry.get("type") == LOGICAL_ID:
                    found[str(entry["data"])] = path.removeprefix(prefix)
        return found

    def path_of(self, logical_id: str) -> str:
        return self.paths.get(logical_id, logical_id)

    def name_of(self, logical_id: str) -> str:
        """The construct a person knows the resource by: its path without CDK's trailing `/Resource`."""
        return self.path_of(logical_id).removesuffix("/Resource")

    def metadata_of(self, entry_type: str) -> Iterator[tuple[str, Any]]:
        """(construct path relative to the stack, data) of every metadata entry of `entry_type`."""
        prefix = f"/{self.hierarchical_id}"
        for path, entries in self.metadata.items():
            for entry in entries:
                if entry.get("type") == entry_type:
                    yield path.removeprefix(prefix).removeprefix("/"), entry.get("data")

    def synthesized(self) -> SynthesizedStack:
        """The stack as our rules see it."""
        return SynthesizedStack(
            name=self.stack_name,
            construct_path=self.hierarchical_id,
            template=self.template,
            region=self.region,
            account=self.account,
            tags=dict(self.tags),
            template_path=str(self.template_path),
        )


@dataclass(frozen=True)
class Assembly:
    outdir: Path
    stacks: tuple[Stack, ...]

    @classmethod
    def load(cls, outdir: Path) -> Assembly:
        return cls(outdir, tuple(_stacks(outdir)))

    def stack_for(self, environment: str) -> Stack:
        """The top-level stack of `environment` (its `environment` tag), not a pipeline-staged copy."""
        for stack in self.stacks:
            if "/" not in stack.hierarchical_id and stack.environment == environment:
                return stack
        known = sorted({s.environment for s in self.stacks if "/" not in s.hierarchical_id})
        raise LookupError(f"no stack of environment {environment!r} in {self.outdir} (have {known})")

    @cached_property
    def validation_report(self) -> Mapping[str, Any]:
        path = self.outdir / "validation-report.json"
        return json.loads(path.read_text()) if path.exists() else {"pluginReports": []}


def _stacks(outdir: Path) -> Iterator[Stack]:
    manifest = json.loads((outdir / "manifest.json").read_text())
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        properties = artifact.get("properties", {})
        if artifact.get("type") == "cdk:cloud-assembly":
            yield from _stacks(outdir / properties["directoryName"])
        elif artifact.get("type") == "aws:cloudformation:stack":
            account, region = str(artifact.get("environment", "aws:///")).removeprefix("aws://").split("/", 1)
            template_path = outdir / properties["templateFile"]
            metadata_file = artifact.get("additionalMetadataFile")
            yield Stack(
                hierarchical_id=str(artifact.get("displayName", artifact_id)),
                stack_name=str(properties.get("stackName", artifact_id)),
                template=json.loads(template_path.read_text()),
                account=account,
                region=region,
                tags=dict(properties.get("tags") or {}),
                template_path=template_path,
                metadata=json.loads((outdir / metadata_file).read_text()) if metadata_file else {},
            )


def _newest_source(root: Path) -> float:
    newest = 0.0
    for name in APP_SOURCES:
        path = root / name
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for directory, _, files in os.walk(path):
                if "__pycache__" in directory:
                    continue
                for file in files:
                    newest = max(newest, (Path(directory) / file).stat().st_mtime)
    return newest


def is_fresh(outdir: Path, root: Path = ROOT) -> bool:
    """cdk.out exists and was written after the last change to anything the app is built from."""
    manifest = outdir / "manifest.json"
    return manifest.exists() and manifest.stat().st_mtime >= _newest_source(root)


def synthesize(outdir: Path) -> None:
    """The whole app into `outdir`, as `cdk synth` builds it, reporting findings instead of failing on them.

    The evidence states each finding; the CLI synth (`make synth`) and the pipeline still fail on them.
    """
    # Imported here: building the app starts the jsii runtime, which reading cdk.out never needs.
    from stacks.app import build_app, new_app

    # A report left by an earlier synth would otherwise pass for this one's.
    (outdir / "validation-report.json").unlink(missing_ok=True)
    app = new_app(
        outdir=str(outdir),
        context={"@aws-cdk/core:failSynthOnValidationErrors": False},
        builtin_cloud_formation_validation=False,
    )
    build_app(app)
    app.synth()


def load(outdir: Path, *, synth: bool | None = None) -> Assembly:
    """The assembly in `outdir`, synthesized first when it is missing or stale (or when `synth` is True)."""
    if synth or (synth is None and not is_fresh(outdir)):
        synthesize(outdir)
    return Assembly.load(outdir)
