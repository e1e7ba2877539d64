"""Our correctness-property rules, one per module, run as one policy-validation plugin."""

from __future__ import annotations

from collections.abc import Sequence

from cashtrace_constructs.checks.cost_allocation_tags import CostAllocationTags
from cashtrace_constructs.checks.data_residency import DataResidency
from cashtrace_constructs.checks.every_alarm_has_action import EveryAlarmHasAction
from cashtrace_constructs.checks.plugin import CashTraceChecks, evaluate
from cashtrace_constructs.checks.rule import Finding, Rule, StackRule, SynthesizedStack
from cashtrace_constructs.config import DEFAULT_ALLOWED_REGIONS


def default_rules(allowed_regions: Sequence[str] = DEFAULT_ALLOWED_REGIONS) -> list[Rule]:
    """Every rule the CashTrace app is held to."""
    return [
        DataResidency(allowed_regions),
        CostAllocationTags(),
        EveryAlarmHasAction(),
    ]


__all__ = [
    "CashTraceChecks",
    "CostAllocationTags",
    "DataResidency",
    "EveryAlarmHasAction",
    "Finding",
    "Rule",
    "StackRule",
    "SynthesizedStack",
    "default_rules",
    "evaluate",
]
