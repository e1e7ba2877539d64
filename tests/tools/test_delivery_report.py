"""`make delivery-report`: the table found through the pipeline stack, or an export, printed per environment."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from lambdas.delivery_metrics.handler import compute
from tests.lambdas.delivery_history import History, Release
from tools.delivery_report.__main__ import find_table, git_commit_time, main, report


def test_the_report_reads_an_export_and_prints_each_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = History([Release("ok", lead_minutes=90), Release("rollback", rollback_minutes=6), Release("ok")])
    export = tmp_path / "items.json"
    export.write_text(json.dumps(history.items))
    argv = ["--items", str(export), "--now", history.until.isoformat(), "--days", str(round(history.window_days))]
    assert main([*argv, "--json"]) == 0
    by_environment = {m["environment"]: m for m in json.loads(capsys.readouterr().out)}
    assert set(by_environment) == {"staging", "prod"}
    assert by_environment["prod"]["deployments"] == 2 and by_environment["prod"]["failed_changes"] == 1
    # These commits are not in this clone: lead time is unknown, the pipeline's own lead time is not.
    assert by_environment["prod"]["lead_time_unknown"] == 2
    assert by_environment["prod"]["pipeline_lead_time_median_seconds"] is not None
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "prod" in printed and "33%" in printed and "2 deployment(s) without a known commit time" in printed


def test_the_table_is_found_in_the_pipeline_stack_and_read_with_the_callers_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cloudformation = boto3.client(
        "cloudformation", region_name="af-south-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(cloudformation) as stub:
        stub.add_response(
            "list_stack_resources",
            {
                "StackResourceSummaries": [
                    {
                        "LogicalResourceId": "Key",
                        "PhysicalResourceId": "k",
                        "ResourceType": "AWS::KMS::Key",
                        "LastUpdatedTimestamp": "2026-11-01T00:00:00Z",
                        "ResourceStatus": "CREATE_COMPLETE",
                    },
                    {
                        "LogicalResourceId": "Table",
                        "PhysicalResourceId": "CashTrace-Pipeline-Table-1",
                        "ResourceType": "AWS::DynamoDB::GlobalTable",
                        "LastUpdatedTimestamp": "2026-11-01T00:00:00Z",
                        "ResourceStatus": "CREATE_COMPLETE",
                    },
                ]
            },
            {"StackName": "CashTrace-Pipeline"},
        )
        asked: list[str] = []

        class Tables:
            def Table(self, name: str) -> Any:
                asked.append(name)
                return type("Empty", (), {"query": lambda self, **_: {"Items": []}})()

        assert main(["--environment", "prod"], dynamodb=Tables(), cloudformation=cloudformation) == 0
    assert asked == ["CashTrace-Pipeline-Table-1"] and "prod" in capsys.readouterr().out


def test_a_stack_without_a_table_is_an_error() -> None:
    class NoTable:
        def get_paginator(self, name: str) -> Any:
            return type("P", (), {"paginate": lambda self, **_: [{"StackResourceSummaries": []}]})()

    with pytest.raises(LookupError):
        find_table(NoTable())


def test_commit_times_come_from_this_clone_when_it_knows_the_commit() -> None:
    commit_time = git_commit_time()
    head = __import__("subprocess").run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert commit_time(head) is not None and commit_time("0" * 40) is None


def test_an_empty_window_prints_dashes_not_errors() -> None:
    history = History([])
    out = io.StringIO()
    report([compute([], "prod", since=history.since, until=history.until)], out)
    assert "prod" in out.getvalue() and " - " in out.getvalue()
