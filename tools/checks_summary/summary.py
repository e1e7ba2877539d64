"""The summary `make synth` prints after `cdk synth`: every check that ran, over how much, with what verdict.

Fails (exit 1) when a stack was not region-locked, or when no plugin recorded a run over this
synthesis's templates; which plugins must be there is the tests' business (tests/stacks/test_app.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cashtrace_constructs.checks.ran import PluginRun, read_runs, region_locked_stacks, templates_of


@dataclass(frozen=True)
class Summary:
    templates: int
    runs: tuple[PluginRun, ...]
    region_locks: dict[str, list[str] | None]

    @property
    def unlocked(self) -> list[str]:
        return sorted(name for name, regions in self.region_locks.items() if regions is None)

    @property
    def passed(self) -> bool:
        return bool(self.runs) and not self.unlocked and all(run.passed for run in self.runs)

    def lines(self) -> list[str]:
        lines = [f"Synth-time checks over {self.templates} templates:"]
        locked = len(self.region_locks) - len(self.unlocked)
        regions = sorted({r for found in self.region_locks.values() if found for r in found})
        verdict = "passed" if not self.unlocked else f"MISSING on {', '.join(self.unlocked)}"
        lines.append(f"  {'RegionLock':18} {locked}/{len(self.region_locks)} stacks in {regions}: {verdict}")
        for run in self.runs:
            rules = f"{run.rules} rules over " if run.rules else ""
            outcome = (
                f"{run.findings} findings, all acknowledged ({run.acknowledgments} acknowledgments): passed"
                if run.passed
                else f"{run.findings} findings, {run.unsuppressed} not acknowledged: FAILED"
            )
            lines.append(f"  {run.plugin:18} {rules}{len(run.templates)} templates, {outcome}")
        if not self.runs:
            lines.append("  no validation plugin recorded a run over these templates: FAILED")
        return lines


def summarize(root: Path) -> Summary:
    return Summary(
        templates=len(templates_of(root)), runs=tuple(read_runs(root)), region_locks=region_locked_stacks(root)
    )
