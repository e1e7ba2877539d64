"""What scans the app and with what result: cdk-nag packs, our rules, the security gate, and the timing budgets."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cashtrace_constructs.checks import Rule
from scripts.security_scan import TOOLS, Policy
from tools.budgets import budgets, within_budget
from tools.evidence.assembly import ROOT, Assembly, Stack

OUR_PLUGIN = "CashTraceChecks"


@dataclass(frozen=True)
class PackResult:
    name: str
    conclusion: str
    violations: int
    suppressed: int


@dataclass(frozen=True)
class ScannerSummary:
    nag_packs: tuple[PackResult, ...]
    rules: tuple[str, ...]
    security_tools: tuple[str, ...]
    security_fail_at: str
    security_exceptions: tuple[dict[str, str], ...]
    security_commands: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _in_stack(path: str, stack: Stack, nested: tuple[str, ...]) -> bool:
    return path.startswith(f"{stack.hierarchical_id}/") and not path.startswith(nested)


def nag_packs(assembly: Assembly, stack: Stack) -> list[PackResult]:
    """Each validation plugin's findings on `stack` (a plugin with none may be absent from the report)."""
    nested = tuple(
        f"{s.hierarchical_id}/" for s in assembly.stacks if s.hierarchical_id.startswith(f"{stack.hierarchical_id}/")
    )
    packs = []

    def count(report: Mapping[str, Any], key: str) -> int:
        return sum(
            1
            for violation in report.get(key, [])
            for construct in violation.get("violatingConstructs", [])
            if _in_stack(str(construct.get("constructPath", "")), stack, nested)
        )

    for report in assembly.validation_report.get("pluginReports", []):
        if report.get("pluginName") == OUR_PLUGIN:
            continue
        violations = count(report, "violations")
        packs.append(
            PackResult(
                str(report["pluginName"]),
                "failed" if violations else "passed",
                violations,
                count(report, "suppressedViolations"),
            )
        )
    return packs


def _make_recipe(target: str, makefile: Path) -> list[str]:
    lines = makefile.read_text().splitlines()
    start = next((i for i, line in enumerate(lines) if re.match(rf"^{re.escape(target)}:", line)), None)
    if start is None:
        return []
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def summary(assembly: Assembly, stack: Stack, rules: Sequence[Rule], root: Path = ROOT) -> ScannerSummary:
    policy = Policy.load(root / "security" / "policy.yaml")
    return ScannerSummary(
        nag_packs=tuple(nag_packs(assembly, stack)),
        rules=tuple(f"{rule.rule_id}: {rule.description}" for rule in rules),
        security_tools=TOOLS,
        security_fail_at=policy.fail_at,
        security_exceptions=tuple(
            {"tool": item.tool, "rule": item.rule, "resource": item.resource, "reason": " ".join(item.reason.split())}
            for item in policy.exceptions
        ),
        security_commands=tuple(_make_recipe("security", root / "Makefile")),
    )


def timing(stack: Stack) -> dict[str, Any]:
    """`make budgets` for this environment: worst-case rollback and scale-out seconds against their budgets."""
    result: dict[str, Any] = dict(budgets(stack.template))
    result["within_budget"] = within_budget(result)
    return result
