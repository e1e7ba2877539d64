"""`python -m tools.budgets` (`make budgets`): the budgets of every environment from a fresh synth; exit 1 when over."""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from cashtrace_constructs.timing import SCALE_OUT_BUDGET_SECONDS
from stacks.app import build_app, new_app
from tools.budgets import budgets, within_budget


def environment_templates() -> dict[str, dict[str, Any]]:
    """Environment name -> template, from a synth that reports findings instead of failing on them."""
    with tempfile.TemporaryDirectory() as outdir:
        app = new_app(
            outdir=outdir,
            context={"@aws-cdk/core:failSynthOnValidationErrors": False},
            builtin_cloud_formation_validation=False,
        )
        stacks = build_app(app)
        assembly = app.synth()
        return {
            name: json.loads(Path(assembly.get_stack_by_name(stack.stack_name).template_full_path).read_text())
            for name, stack in stacks.items()
        }


def report(results: Mapping[str, Mapping[str, int | None]], out: TextIO = sys.stdout) -> bool:
    """Prints one line per environment; whether every one is within its budgets."""
    within = True
    print(f"{'environment':<12}{'rollback':>10}{'budget':>8}{'scale-out':>11}{'budget':>8}", file=out)
    for name, result in results.items():
        rollback, rollback_budget = result["rollback_seconds"], result["rollback_budget_seconds"]
        scale_out = result["scale_out_seconds"]
        ok = within_budget(result)
        within &= ok
        print(
            f"{name:<12}{rollback if rollback is not None else '-':>9}s{rollback_budget or '-':>7}s"
            f"{scale_out if scale_out is not None else '-':>10}s{SCALE_OUT_BUDGET_SECONDS:>7}s"
            f"  {'ok' if ok else 'OVER BUDGET'}",
            file=out,
        )
    return within


def main() -> int:
    results = {name: budgets(template) for name, template in environment_templates().items()}
    return 0 if report(results) else 1


if __name__ == "__main__":
    sys.exit(main())
