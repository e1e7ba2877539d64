"""Worst-case rollback and scale-out seconds of an environment template (Properties 5 and 9).

The same timing paths the rules judge (cashtrace_constructs/checks/timing_paths.py), summed up
per environment for people; `python -m tools.budgets` prints them from a fresh synth.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cashtrace_constructs.checks.timing_paths import ecs_scalable_targets, rollback_paths, scale_out_paths
from cashtrace_constructs.timing import SCALE_OUT_BUDGET_SECONDS


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


def within_budget(result: Mapping[str, int | None]) -> bool:
    """Rollback within its budget (where there is one) and a scale-out path within 180 s."""
    rollback, rollback_budget = result["rollback_seconds"], result["rollback_budget_seconds"]
    scale_out = result["scale_out_seconds"]
    return (rollback is None or rollback_budget is None or rollback <= rollback_budget) and (
        scale_out is not None and scale_out <= SCALE_OUT_BUDGET_SECONDS
    )
