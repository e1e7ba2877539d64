"""Delivery metrics per environment from the deployment record, published as CloudWatch metrics.

Deployment frequency, lead time (commit -> environment, and pipeline start -> environment), change
failure rate and time to restore, over a trailing window. The Lambda runs on a schedule and
writes them as CloudWatch embedded-metric-format log lines (no CloudWatch API call, so no endpoint
in the record's NAT-less VPC); `make delivery-report` (tools/delivery_report) prints the same numbers.

What counts:
- A change is a pipeline stage deployment of a release to an environment (an item without a
  `deploymentGroup`); where an environment has none, each CodeDeploy rollout that is not a rollback.
- A failed approval never deployed anything: in an approval-gated environment, a failed change
  without an approver is a rejection, not a change.
- A failure starts when the first CodeDeploy rollout of the failed change failed (a rollout that
  failed after the previous change finished), else when the change failed; it ends when any later
  deployment of that environment succeeded: the automatic rollback, or a fix rolled forward.
  Records are state, not events, so the order they were written in does not matter.
"""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

# The one adapter between the deployment record and these metrics: metric name -> item attribute.
# A renamed attribute is a one-line change here.
FIELDS = {
    "id": "id",
    "environment": "environment",
    "status": "status",
    "started_at": "startedAt",
    "completed_at": "completedAt",
    # CodeDeploy rollouts that failed: the failure's own time (completedAt moves to a rollback's end).
    "failed_at": "failedAt",
    "commit_sha": "commitSha",
    # Not written by the recorder today; used when present, else commit times come from git (the report).
    "committed_at": "committedAt",
    "version": "version",
    "rollback_of": "rollbackOf",
    "approved_by": "approvedBy",
    # Present on CodeDeploy rollouts only.
    "deployment_group": "deploymentGroup",
    # Set on records that are not deployments (the prod promotion gate's decisions).
    "kind": "kind",
}
SUCCEEDED = "succeeded"
FAILED = frozenset({"failed", "rolled_back"})
FINISHED = FAILED | {SUCCEEDED}
NAMESPACE = "CashTrace/Delivery"
INDEX = "byEnvironment"


@dataclass(frozen=True)
class Deployment:
    id: str
    environment: str
    status: str
    started_at: datetime | None
    completed_at: datetime | None
    failed_at: datetime | None
    commit_sha: str
    committed_at: datetime | None
    version: str
    rollback_of: str | None
    approved_by: str | None
    rollout: bool


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def deployments(items: Iterable[Mapping[str, Any]], fields: Mapping[str, str] = FIELDS) -> list[Deployment]:
    """The records of `items` that are deployments; the promotion gate's decisions are not."""
    return [from_item(item, fields) for item in items if not item.get(fields["kind"])]


def from_item(item: Mapping[str, Any], fields: Mapping[str, str] = FIELDS) -> Deployment:
    """One record of the deployment table, whatever it leaves out."""

    def get(name: str) -> Any:
        return item.get(fields[name])

    return Deployment(
        id=str(get("id")),
        environment=str(get("environment") or ""),
        status=str(get("status") or ""),
        started_at=_time(get("started_at")),
        completed_at=_time(get("completed_at")),
        failed_at=_time(get("failed_at")),
        commit_sha=str(get("commit_sha") or ""),
        committed_at=_time(get("committed_at")),
        version=str(get("version") or ""),
        rollback_of=str(get("rollback_of")) if get("rollback_of") else None,
        approved_by=str(get("approved_by")) if get("approved_by") else None,
        rollout=bool(get("deployment_group")),
    )


@dataclass(frozen=True)
class DeliveryMetrics:
    environment: str
    window_days: float
    deployments: int
    deployments_per_week: float
    lead_time_median_seconds: float | None
    lead_time_samples: int
    lead_time_unknown: int
    pipeline_lead_time_median_seconds: float | None
    finished_changes: int
    failed_changes: int
    change_failure_rate: float | None
    restore_median_seconds: float | None
    restores: int
    unrestored: int

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def compute(
    deployments: Iterable[Deployment],
    environment: str,
    *,
    since: datetime,
    until: datetime,
    approval_gated: bool = False,
    commit_time: Callable[[str], datetime | None] = lambda sha: None,
) -> DeliveryMetrics:
    """The metrics of `environment` for changes finished in [since, until)."""
    everything = list(deployments)
    mine = [d for d in everything if d.environment == environment]
    stages = [d for d in mine if not d.rollout]
    changes = stages or [d for d in mine if d.rollout and not d.rollback_of]

    def deployed(change: Deployment) -> bool:
        return not (approval_gated and change.status in FAILED and not change.approved_by)

    finished = [
        d
        for d in changes
        if d.status in FINISHED and d.completed_at and since <= d.completed_at < until and deployed(d)
    ]
    successes = [d for d in finished if d.status == SUCCEEDED]
    failures = [d for d in finished if d.status in FAILED]

    lead_times, unknown = [], 0
    for change in successes:
        committed = change.committed_at or (commit_time(change.commit_sha) if change.commit_sha else None)
        if committed is None or change.completed_at is None or committed > change.completed_at:
            unknown += 1
        else:
            lead_times.append((change.completed_at - committed).total_seconds())
    pipeline_lead_times = []
    for change in successes:
        # When the pipeline started carrying this release: its first stage in any environment.
        release = change.version or change.commit_sha
        same = [
            d.started_at
            for d in everything
            if not d.rollout and d.started_at and release and release in (d.version, d.commit_sha)
        ]
        if same and change.completed_at and min(same) <= change.completed_at:
            pipeline_lead_times.append((change.completed_at - min(same)).total_seconds())

    restore_times, unrestored = [], 0
    recovered = sorted(d.completed_at for d in mine if d.status == SUCCEEDED and d.completed_at)
    for failure in failures:
        ended = failure.completed_at
        if ended is None:  # finished changes always have one; mypy cannot know
            continue
        # This change's rollouts failed after the previous change finished (a start time recorded
        # from a late event can be wrong; completion times are not).
        previous = max(
            (d.completed_at for d in changes if d is not failure and d.completed_at and d.completed_at < ended),
            default=None,
        )
        inside = [
            d.failed_at or d.completed_at
            for d in mine
            if d.rollout
            and d.status in FAILED
            and d.completed_at
            and (d.failed_at or d.completed_at) <= ended
            and (previous is None or d.completed_at > previous)
        ]
        began = min(inside, default=ended)
        restored = next((time for time in recovered if time >= began and time <= until), None)
        if restored is None:
            unrestored += 1
        else:
            restore_times.append((restored - began).total_seconds())

    window_days = (until - since).total_seconds() / 86400
    return DeliveryMetrics(
        environment=environment,
        window_days=window_days,
        deployments=len(successes),
        deployments_per_week=len(successes) * 7 / window_days if window_days else 0.0,
        lead_time_median_seconds=_median(lead_times),
        lead_time_samples=len(lead_times),
        lead_time_unknown=unknown,
        pipeline_lead_time_median_seconds=_median(pipeline_lead_times),
        finished_changes=len(finished),
        failed_changes=len(failures),
        change_failure_rate=len(failures) / len(finished) if finished else None,
        restore_median_seconds=_median(restore_times),
        restores=len(restore_times),
        unrestored=unrestored,
    )


def read(table: Any, environments: Sequence[str], *, since: datetime) -> list[Deployment]:
    """Every record of `environments` started since `since` (the byEnvironment index, all pages)."""
    found = []
    started = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for environment in environments:
        arguments: dict[str, Any] = {
            "IndexName": INDEX,
            "KeyConditionExpression": "#e = :e AND #s >= :s",
            "ExpressionAttributeNames": {"#e": FIELDS["environment"], "#s": FIELDS["started_at"]},
            "ExpressionAttributeValues": {":e": environment, ":s": started},
        }
        while True:
            page = table.query(**arguments)
            found += deployments(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return found


def embedded_metrics(metrics: DeliveryMetrics, at: datetime) -> dict[str, Any]:
    """One CloudWatch embedded-metric-format record: the metrics that have a value, by Environment."""
    values = {
        "DeploymentsPerWeek": (metrics.deployments_per_week, "Count"),
        "LeadTimeSeconds": (metrics.lead_time_median_seconds, "Seconds"),
        "PipelineLeadTimeSeconds": (metrics.pipeline_lead_time_median_seconds, "Seconds"),
        "ChangeFailureRate": (
            None if metrics.change_failure_rate is None else metrics.change_failure_rate * 100,
            "Percent",
        ),
        "TimeToRestoreSeconds": (metrics.restore_median_seconds, "Seconds"),
        "UnrestoredFailures": (metrics.unrestored, "Count"),
    }
    present = {name: value for name, value in values.items() if value[0] is not None}
    return {
        "_aws": {
            "Timestamp": int(at.timestamp() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Environment"]],
                    "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in present.items()],
                }
            ],
        },
        "Environment": metrics.environment,
        **{name: value for name, (value, _) in present.items()},
    }


def publish(
    table: Any,
    environments: Sequence[str],
    gated: Sequence[str],
    *,
    window_days: int,
    now: datetime,
    emit: Callable[[str], None] = print,
) -> list[DeliveryMetrics]:
    since = now - timedelta(days=window_days)
    # A change that finished in the window may have started a little before it.
    records = read(table, environments, since=since - timedelta(days=1))
    results = [compute(records, name, since=since, until=now, approval_gated=name in gated) for name in environments]
    for metrics in results:
        emit(json.dumps(embedded_metrics(metrics, now)))
    return results


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    results = publish(
        table,
        json.loads(os.environ["ENVIRONMENTS"]),
        json.loads(os.environ.get("APPROVAL_GATED", "[]")),
        window_days=int(os.environ.get("WINDOW_DAYS", "30")),
        now=datetime.now(UTC),
    )
    return {"environments": [metrics.as_json() for metrics in results]}
