"""Every acknowledged finding of one stack, grouped by the capability whose module acknowledges it.

Two records in cdk.out meet here: the stack's `cashtrace:acknowledgments` metadata (each entry of
stacks/acknowledgments/ with its capability, path pattern, rule and reason) and the findings the
validation report lists as suppressed (which construct, which rule, acknowledged where, why).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from tools.evidence.assembly import Assembly, Stack

# Written by stacks/acknowledgments/apply.py (a literal: importing it would start the jsii runtime).
ACKNOWLEDGMENTS_METADATA = "cashtrace:acknowledgments"
UNOWNED = "not in stacks/acknowledgments"


@dataclass(frozen=True)
class Acknowledged:
    capability: str
    rule: str
    path: str
    reason: str
    suppressed: int  # findings this acknowledgment suppressed in this synth

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _matches(pattern: str, path: str) -> bool:
    """`*` matches one path segment, as stacks/acknowledgments/apply.py resolves it."""
    pattern_segments, path_segments = pattern.split("/"), path.split("/")
    return len(pattern_segments) == len(path_segments) and all(
        fnmatch.fnmatchcase(segment, glob) for segment, glob in zip(path_segments, pattern_segments, strict=True)
    )


def _entries(stack: Stack) -> list[Mapping[str, str]]:
    return [entry for _, data in stack.metadata_of(ACKNOWLEDGMENTS_METADATA) for entry in data or []]


def acknowledged(assembly: Assembly, stack: Stack) -> dict[str, list[Acknowledged]]:
    """Capability -> its acknowledgments on `stack`, each with the number of findings it suppressed."""
    entries = _entries(stack)
    prefix = f"{stack.hierarchical_id}/"
    # Stacks inside this one's stages (the pipeline's) report their own acknowledgments.
    nested = tuple(f"{s.hierarchical_id}/" for s in assembly.stacks if s.hierarchical_id.startswith(prefix))
    counts: dict[tuple[str, str, str], int] = {}
    reasons: dict[tuple[str, str], str] = {}
    for report in assembly.validation_report.get("pluginReports", []):
        for violation in report.get("suppressedViolations", []):
            where = str(violation.get("acknowledgedAt", ""))
            if not where.startswith(prefix) or where.startswith(nested):
                continue
            relative = where.removeprefix(prefix)
            rule = str(violation.get("acknowledgedId") or f"{report['pluginName']}::{violation['ruleName']}")
            owner = next(
                (
                    entry
                    for entry in entries
                    if entry.get("rule") == rule and _matches(str(entry.get("path")), relative)
                ),
                None,
            )
            key = (owner["capability"] if owner else UNOWNED, rule, owner["path"] if owner else relative)
            counts[key] = counts.get(key, 0) + len(violation.get("violatingConstructs") or [None])
            reasons[(rule, key[2])] = str(violation.get("reason", ""))
    for entry in entries:
        key = (str(entry.get("capability") or UNOWNED), str(entry["rule"]), str(entry["path"]))
        counts.setdefault(key, 0)
        reasons.setdefault((key[1], key[2]), str(entry.get("reason", "")))
    grouped: dict[str, list[Acknowledged]] = {}
    for (capability, rule, path), count in sorted(counts.items()):
        grouped.setdefault(capability, []).append(Acknowledged(capability, rule, path, reasons[(rule, path)], count))
    return grouped
