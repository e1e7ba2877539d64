"""Generated deployment histories with their known delivery metrics.

A history is a list of releases; each goes through staging and then, behind an approval, prod, with
one outcome. The records are what the deployment record holds for them (pipeline stage items and
CodeDeploy rollout items); the expected metrics are worked out from the releases' own timeline,
not from the records.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
GAP = timedelta(hours=24)
STAGING_START, STAGING_END, PROD_START = timedelta(minutes=5), timedelta(minutes=15), timedelta(minutes=20)
OUTCOMES = ("ok", "rollback", "fix_forward", "rejected", "running")


@dataclass(frozen=True)
class Release:
    outcome: str
    lead_minutes: int = 120  # commit -> prod stage finished
    rollback_minutes: int = 7  # failed rollout -> its automatic rollback succeeded (< 15)


def stamp(time: datetime) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ")


def sha(index: int) -> str:
    return f"{index:040x}"


@dataclass
class History:
    releases: list[Release]
    items: list[dict[str, Any]] = field(default_factory=list)
    commits: dict[str, datetime] = field(default_factory=dict)
    # Everything the expected values are computed from, in the releases' own terms.
    prod_successes: list[datetime] = field(default_factory=list)
    prod_failures: list[tuple[datetime, Release]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for index, release in enumerate(self.releases):
            self._add(index, release)

    def _item(self, **values: Any) -> None:
        self.items.append({key: value for key, value in values.items() if value is not None})

    def _add(self, index: int, release: Release) -> None:
        committed = START + index * GAP
        self.commits[sha(index)] = committed
        execution, version = f"exec-{index}", f"s3-version-{index}"
        common = {"version": version, "commitSha": sha(index), "strategy": "canary", "initiatedBy": "ci"}
        self._item(
            id=f"{execution}:staging",
            environment="staging",
            status="succeeded",
            startedAt=stamp(committed + STAGING_START),
            completedAt=stamp(committed + STAGING_END),
            **common,
        )
        done = committed + timedelta(minutes=release.lead_minutes)
        prod = {"id": f"{execution}:prod", "environment": "prod", "startedAt": stamp(committed + PROD_START), **common}
        if release.outcome == "rejected":
            self._item(**prod, status="failed", completedAt=stamp(committed + timedelta(minutes=30)))
            return
        if release.outcome == "running":
            self._item(**prod, status="in_progress", approvedBy="alice")
            return
        status = "succeeded" if release.outcome == "ok" else "failed"
        self._item(**prod, status=status, completedAt=stamp(done), approvedBy="alice")
        rollout = {"environment": "prod", "deploymentGroup": "cashtrace-prod/api", "strategy": "canary"}
        if release.outcome == "ok":
            self._item(
                id=f"d-ok-{index}",
                status="succeeded",
                startedAt=stamp(done - timedelta(minutes=10)),
                completedAt=stamp(done - timedelta(minutes=1)),
                **rollout,
            )
            self.prod_successes += [done - timedelta(minutes=1), done]
        elif release.outcome == "rollback":
            failed = done - timedelta(minutes=15)
            restored = failed + timedelta(minutes=release.rollback_minutes)
            self._item(
                id=f"d-bad-{index}",
                status="rolled_back",
                startedAt=stamp(done - timedelta(minutes=20)),
                completedAt=stamp(failed),
                **rollout,
            )
            self._item(
                id=f"d-back-{index}",
                status="succeeded",
                startedAt=stamp(failed + timedelta(seconds=10)),
                completedAt=stamp(restored),
                rollbackOf=f"d-bad-{index}",
                **rollout,
            )
            self.prod_successes.append(restored)
            self.prod_failures.append((failed, release))
        else:  # fix_forward: the stage failed without a rollout; the next success restores
            self.prod_failures.append((done, release))

    # ---- the known answers ----

    @property
    def since(self) -> datetime:
        return START - timedelta(hours=1)

    @property
    def until(self) -> datetime:
        return START + len(self.releases) * GAP + timedelta(days=1)

    @property
    def window_days(self) -> float:
        return (self.until - self.since).total_seconds() / 86400

    def expected(self, environment: str) -> dict[str, Any]:
        if environment == "staging":
            count = len(self.releases)
            return {
                "deployments": count,
                "finished_changes": count,
                "failed_changes": 0,
                "lead_time_median_seconds": statistics.median([STAGING_END.total_seconds()] * count) if count else None,
            }
        finished = [r for r in self.releases if r.outcome in ("ok", "rollback", "fix_forward")]
        ok = [r for r in self.releases if r.outcome == "ok"]
        restores, unrestored = [], 0
        for began, _ in self.prod_failures:
            later = [time for time in self.prod_successes if time >= began]
            if later:
                restores.append((min(later) - began).total_seconds())
            else:
                unrestored += 1
        failed = len(finished) - len(ok)
        lead = [r.lead_minutes * 60.0 for r in ok]
        pipeline_lead = [(timedelta(minutes=r.lead_minutes) - STAGING_START).total_seconds() for r in ok]
        return {
            "deployments": len(ok),
            "deployments_per_week": len(ok) * 7 / self.window_days,
            "finished_changes": len(finished),
            "failed_changes": failed,
            "change_failure_rate": failed / len(finished) if finished else None,
            "lead_time_median_seconds": statistics.median(lead) if lead else None,
            "pipeline_lead_time_median_seconds": statistics.median(pipeline_lead) if pipeline_lead else None,
            "restore_median_seconds": statistics.median(restores) if restores else None,
            "restores": len(restores),
            "unrestored": unrestored,
        }
