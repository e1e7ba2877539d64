"""Every module a handler imports from a layer comes with a layer attached to that handler's function.

In Lambda, `from custom_resource import ...` or `import pg8000` works only when a layer of the
function carries the module. The handlers' own tests import the same code from the repository,
where it is always on the path, so they cannot show a missing layer: this reads the synthesized
assets of every stack (the code each function and each layer would upload) instead.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from aws_cdk.cx_api import CloudAssembly

from cashtrace_constructs.checks.template import of_type


def _asset_dirs(template_path: Path) -> dict[str, Path]:
    """S3 key of each file asset of a stack -> its staged directory in cdk.out."""
    manifest = json.loads(
        template_path.with_name(template_path.name.replace(".template.json", ".assets.json")).read_text()
    )
    return {
        f"{asset_hash}.zip": (template_path.parent / asset["source"]["path"]).resolve()
        for asset_hash, asset in manifest.get("files", {}).items()
        if asset["source"].get("packaging") == "zip"
    }


def _imports(code: Path) -> set[str]:
    """Top-level modules the code imports (absolute imports only)."""
    names: set[str] = set()
    for source in code.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def _provides(layer: Path) -> set[str]:
    """Top-level modules a Python layer puts on the path (/opt/python)."""
    root = layer / "python"
    if not root.is_dir():
        return set()
    return {entry.stem for entry in root.iterdir() if entry.suffix == ".py"} | {
        entry.name
        for entry in root.iterdir()
        if entry.is_dir() and not entry.name.endswith((".dist-info", "__pycache__"))
    }


def _code_key(properties: dict[str, Any], field: str) -> str | None:
    key = (properties.get(field) or {}).get("S3Key")
    return key if isinstance(key, str) else None


def test_each_function_has_the_layers_its_handler_imports_from(cloud_assembly: CloudAssembly) -> None:
    missing: list[str] = []
    satisfied: set[str] = set()
    for stack in cloud_assembly.stacks_recursively:
        template_path = Path(stack.template_full_path)
        template = json.loads(template_path.read_text())
        assets = _asset_dirs(template_path)
        layers = {
            logical_id: _provides(assets[key])
            for logical_id, layer in of_type(template, "AWS::Lambda::LayerVersion")
            if (key := _code_key(layer["Properties"], "Content")) in assets
        }
        from_layers = set().union(*layers.values()) if layers else set()
        for logical_id, function in of_type(template, "AWS::Lambda::Function"):
            key = _code_key(function["Properties"], "Code")
            if key not in assets:
                continue  # inline code (CDK's own providers)
            needed = _imports(assets[key]) & from_layers
            attached = function["Properties"].get("Layers") or []
            carried = set().union(*(layers.get(ref.get("Ref", ""), set()) for ref in attached if isinstance(ref, dict)))
            if needed - carried:
                missing.append(
                    f"{stack.hierarchical_id}/{logical_id} imports {sorted(needed - carried)} from no layer of its own"
                )
            satisfied |= needed & carried
    assert missing == []
    # Not vacuous: both layers of ours are imported by some function, and found attached.
    assert {"custom_resource", "pg8000"} <= satisfied
