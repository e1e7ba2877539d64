"""`python -m tools.delivery_report` (`make delivery-report`): delivery metrics from the deployment record.

The same computation the scheduled DeliveryMetrics function publishes, printed for people (or as
JSON). Reads the table with the caller's credentials (the pipeline account), or a JSON export of
its items (`--items`). Commit times come from the record when it has them, else from this git
clone (`git show` of each commit); a commit this clone does not know counts as unknown.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, TextIO

import boto3

from lambdas.delivery_metrics.handler import DeliveryMetrics, Deployment, compute, deployments, read
from stacks.environments import all_environments, pipeline
from tools.git import git

ROOT = Path(__file__).resolve().parent.parent.parent
PIPELINE_STACK = "CashTrace-Pipeline"
TABLE_TYPES = ("AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table")


def git_commit_time(root: Path = ROOT) -> Callable[[str], datetime | None]:
    @cache
    def commit_time(sha: str) -> datetime | None:
        committed = git(root, "show", "-s", "--format=%cI", sha)
        try:
            return datetime.fromisoformat(committed) if committed else None
        except ValueError:
            return None

    return commit_time


def find_table(cloudformation: Any, stack_name: str = PIPELINE_STACK) -> str:
    """The deployment table's name, from the pipeline stack's resources (its name is generated)."""
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        for resource in page["StackResourceSummaries"]:
            if resource["ResourceType"] in TABLE_TYPES:
                return str(resource["PhysicalResourceId"])
    raise LookupError(f"{stack_name} has no DynamoDB table")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min"


def report(results: Sequence[DeliveryMetrics], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    window = results[0].window_days if results else 0
    print(f"Delivery metrics over the last {window:.0f} days (changes finished in the window)", file=out)
    header = f"{'environment':<12}{'deploys/wk':>11}{'lead time':>11}{'pipeline':>10}{'fail rate':>11}{'restore':>10}"
    print(header, file=out)
    for m in results:
        rate = "-" if m.change_failure_rate is None else f"{m.change_failure_rate:.0%}"
        print(
            f"{m.environment:<12}{m.deployments_per_week:>11.1f}{_duration(m.lead_time_median_seconds):>11}"
            f"{_duration(m.pipeline_lead_time_median_seconds):>10}{rate:>11}{_duration(m.restore_median_seconds):>10}",
            file=out,
        )
    for m in results:
        notes = []
        if m.lead_time_unknown:
            notes.append(f"{m.lead_time_unknown} deployment(s) without a known commit time")
        if m.unrestored:
            notes.append(f"{m.unrestored} failure(s) not restored yet")
        if notes:
            print(f"{m.environment}: {'; '.join(notes)}", file=out)
    print(
        "lead time: commit -> deployed (median); pipeline: first stage -> deployed (median); "
        "fail rate: failed / finished changes; restore: failure -> next successful deployment (median)",
        file=out,
    )


def main(argv: Sequence[str] | None = None, *, dynamodb: Any = None, cloudformation: Any = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--table", help="the deployment table (default: found in the CashTrace-Pipeline stack)")
    parser.add_argument("--items", type=Path, help="a JSON list of table items instead of the table")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--region", default="af-south-1")
    parser.add_argument("--environment", action="append", help="repeatable; default: the pipeline's promotion")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--now", type=datetime.fromisoformat, help="end of the window (default: now)")
    args = parser.parse_args(argv)
    environments = args.environment or list(pipeline().promotion)
    gated = {config.name for config in all_environments() if config.settings.requires_approval}
    until = args.now or datetime.now(UTC)
    since = until - timedelta(days=args.days)
    records: list[Deployment]
    if args.items:
        records = deployments(json.loads(args.items.read_text()))
    else:
        table_name = args.table or find_table(cloudformation or boto3.client("cloudformation", region_name=args.region))
        table = (dynamodb or boto3.resource("dynamodb", region_name=args.region)).Table(table_name)
        records = read(table, environments, since=since - timedelta(days=1))
    commit_time = git_commit_time()
    results = [
        compute(records, name, since=since, until=until, approval_gated=name in gated, commit_time=commit_time)
        for name in environments
    ]
    if args.json:
        print(json.dumps([m.as_json() for m in results], indent=2))
    else:
        report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
