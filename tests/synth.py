"""Synthesizing apps for tests: once per session for the real app, small apps for rule tests."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, Stack
from aws_cdk.cx_api import CloudAssembly

from stacks.app import new_app

# Report validation findings instead of raising, so one test can name them all.
REPORT_ONLY = {"@aws-cdk/core:failSynthOnValidationErrors": False}
TEST_ENV = Environment(account="123456789012", region="af-south-1")


def make_app(outdir: Path | None = None, *, report_only: bool = False, **context: Any) -> App:
    """An App as `cdk synth` builds it (cdk.json flags), minus the slow built-in CFN validation."""
    return new_app(
        outdir=str(outdir) if outdir else None,
        context={**(REPORT_ONLY if report_only else {}), **context},
        builtin_cloud_formation_validation=False,
    )


def stack_in_region(app: App, construct_id: str = "Test", region: str = "af-south-1") -> Stack:
    return Stack(app, construct_id, env=Environment(account="123456789012", region=region))


def templates_of(assembly: CloudAssembly) -> dict[str, dict[str, Any]]:
    """Stack name -> template, for every stack of the assembly and its nested stage assemblies."""
    found: dict[str, dict[str, Any]] = {}
    for stack in assembly.stacks_recursively:
        found[stack.hierarchical_id] = json.loads(Path(stack.template_full_path).read_text())
    return found


def validation_report(outdir: Path) -> dict[str, Any]:
    path = outdir / "validation-report.json"
    return json.loads(path.read_text()) if path.exists() else {"pluginReports": []}


def unacknowledged(report: Mapping[str, Any]) -> list[str]:
    """Every finding of every plugin as 'plugin rule path' lines (empty when all is green)."""
    return [
        f"{plugin['pluginName']} {violation['ruleName']} {construct.get('constructPath')}: {violation['description']}"
        for plugin in report.get("pluginReports", [])
        for violation in plugin.get("violations", [])
        for construct in violation.get("violatingConstructs", [])
    ]
