"""`python -m stacks.budgets`: worst-case rollback and scale-out seconds per environment, from a fresh synth.

Same timing paths as the Property 5 and 9 rules (cashtrace_constructs/checks/timing_paths.py); exits 1 when
a budget is exceeded.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cashtrace_constructs.checks.timing_paths import ecs_scalable_targets, rollback_paths, scale_out_paths
from cashtrace_constructs.timing import SCALE_OUT_BUDGET_SECONDS
from stacks.app import build_app, new_app


def budgets(template: Mapping[str, Any]) -> dict[str, int | None]:
    """Worst-case seconds of one environment template (None where it has no such path)."""
    rollbacks = rollback_paths(template)
    scale_outs = [
        path
        for target, service in ecs_scalable_targets(template)
        for path in scale_out_paths(template, target, service)
    ]
    return {
        "rollback_seconds": max((p.seconds for p in rollbacks), default=None),
        "rollback_budget_seconds": min((p.budget_seconds for p in rollbacks), default=None),
        # Each scale-out alarm is its own path; the slowest one bounds the promise.
        "scale_out_seconds": max((p.seconds for p in scale_outs), default=None),
        "scale_out_budget_seconds": SCALE_OUT_BUDGET_SECONDS,
    }


def main() -> int:
    with tempfile.TemporaryDirectory() as outdir:
        app = new_app(
            outdir=outdir,
            context={"@aws-cdk/core:failSynthOnValidationErrors": False},
            builtin_cloud_formation_validation=False,
        )
        stacks = build_app(app)
        assembly = app.synth()
        results = {}
        for name, stack in stacks.items():
            template = json.loads(Path(assembly.get_stack_by_name(stack.stack_name).template_full_path).read_text())
            results[name] = budgets(template)
    within = True
    print(f"{'environment':<12}{'rollback':>10}{'budget':>8}{'scale-out':>11}{'budget':>8}")
    for name, result in results.items():
        rollback, rollback_budget = result["rollback_seconds"], result["rollback_budget_seconds"]
        scale_out = result["scale_out_seconds"]
        ok = (rollback is None or rollback_budget is None or rollback <= rollback_budget) and (
            scale_out is not None and scale_out <= SCALE_OUT_BUDGET_SECONDS
        )
        within &= ok
        print(
            f"{name:<12}{rollback if rollback is not None else '-':>9}s{rollback_budget or '-':>7}s"
            f"{scale_out if scale_out is not None else '-':>10}s{SCALE_OUT_BUDGET_SECONDS:>7}s"
            f"  {'ok' if ok else 'OVER BUDGET'}"
        )
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
