"""Cloud assemblies for the evidence tests: a copy of the session's, or small hand-written ones."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tools.evidence.assembly import Assembly, Stack


def copy_of(app_outdir: Path, target: Path) -> Path:
    """The session's cdk.out without its asset directories (templates, manifests and metadata only)."""
    shutil.copytree(app_outdir, target, ignore=shutil.ignore_patterns("asset.*"))
    return target


def rewrite_template(outdir: Path, environment: str, change: Any) -> None:
    """Applies `change(template)` to the top-level stack of `environment` in `outdir`."""
    stack = Assembly.load(outdir).stack_for(environment)
    template = json.loads(stack.template_path.read_text())
    change(template)
    stack.template_path.write_text(json.dumps(template))


def write_assembly(outdir: Path, stacks: Mapping[str, tuple[dict[str, Any], Mapping[str, str]]]) -> Path:
    """A minimal assembly: stack name -> (template, logical id -> construct path)."""
    outdir.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, Any] = {}
    for name, (template, paths) in stacks.items():
        (outdir / f"{name}.template.json").write_text(json.dumps(template))
        metadata = {f"/{name}/{path}": [{"type": "aws:cdk:logicalId", "data": lid}] for lid, path in paths.items()}
        (outdir / f"{name}.metadata.json").write_text(json.dumps(metadata))
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "environment": "aws://123456789012/af-south-1",
            "properties": {"templateFile": f"{name}.template.json", "tags": {"environment": name.lower()}},
            "additionalMetadataFile": f"{name}.metadata.json",
        }
    (outdir / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))
    return outdir


def stack_of(template: dict[str, Any], *, region: str = "af-south-1", metadata: Any = None) -> Stack:
    return Stack(
        hierarchical_id="Test",
        stack_name="Test",
        template=template,
        account="123456789012",
        region=region,
        tags={"environment": "test"},
        template_path=Path("Test.template.json"),
        metadata=metadata or {},
    )
