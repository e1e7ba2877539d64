"""The evidence report of the real app (properties, acknowledgments, scanners, budgets), and of a failing one."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from cashtrace_constructs.checks.template import of_type
from scripts.security_scan import TOOLS
from stacks.acknowledgments import ENVIRONMENT
from tests.tools.evidence.assemblies import copy_of, rewrite_template
from tools.budgets import budgets
from tools.evidence.__main__ import main, write
from tools.evidence.acknowledgments import UNOWNED
from tools.evidence.assembly import ROOT, Assembly, is_fresh
from tools.evidence.junit import junit
from tools.evidence.markdown import render
from tools.evidence.report import build


@pytest.fixture(scope="module")
def prod(assembly: Assembly) -> dict[str, Any]:
    return build(assembly, "prod")


def test_the_prod_evidence_passes_and_judges_all_ten_properties(prod: dict[str, Any]) -> None:
    assert prod["conclusion"] == "passed", prod["problems"]
    assert [p["number"] for p in prod["properties"]] == list(range(1, 11))
    assert all(p["result"] == "passed" and p["enforced_by"] for p in prod["properties"])
    by_number = {p["number"]: p for p in prod["properties"]}
    # Our plugin passed, so the validation report does not list it: the rules still have a result.
    assert [rule["rule_id"] for rule in by_number[7]["rules"]] == ["CT-P7-DataResidency", "CT-P7-DataStoreResidency"]
    assert any("Staging -> Approval -> Prod" in fact for fact in by_number[4]["evidence"])
    assert json.loads(json.dumps(prod)) == prod  # what the .json file holds


def test_acknowledgments_are_grouped_by_the_capability_module_and_count_every_suppressed_finding(
    assembly: Assembly, prod: dict[str, Any]
) -> None:
    modules = {capability.__module__.rsplit(".", 1)[-1] for capability in ENVIRONMENT}
    groups = prod["acknowledgments"]
    assert UNOWNED not in groups and set(groups) <= modules and len(groups) >= 5
    suppressed = sum(
        len(violation["violatingConstructs"])
        for report in assembly.validation_report["pluginReports"]
        for violation in report.get("suppressedViolations", [])
        if violation["acknowledgedAt"].startswith("CashTrace-Prod/")
    )
    assert sum(item["suppressed"] for items in groups.values() for item in items) == suppressed > 0
    assert all(item["reason"] and item["suppressed"] > 0 for items in groups.values() for item in items)


def test_the_scanner_summary_and_budgets_come_from_the_report_the_policy_and_the_template(
    assembly: Assembly, prod: dict[str, Any]
) -> None:
    scanners = prod["scanners"]
    packs = {pack["name"]: pack for pack in scanners["nag_packs"]}
    assert set(packs) == {"AwsSolutions", "PCI.DSS.321", "NIST.800.53.R5"}
    assert all(pack["violations"] == 0 and pack["suppressed"] > 0 for pack in packs.values())
    assert tuple(scanners["security_tools"]) == TOOLS and scanners["security_fail_at"] == "MEDIUM"
    assert all(exception["reason"] for exception in scanners["security_exceptions"])
    assert any("security_scan" in command for command in scanners["security_commands"])
    expected = budgets(assembly.stack_for("prod").template)
    assert {key: prod["budgets"][key] for key in expected} == expected and prod["budgets"]["within_budget"]


def test_a_store_made_unencrypted_fails_property_7_the_inventory_and_the_conclusion(
    app_outdir: Path, assembly: Assembly, tmp_path: Path
) -> None:
    outdir = copy_of(app_outdir, tmp_path / "cdk.out")

    def unencrypt(template: dict[str, Any]) -> None:
        for _, database in of_type(template, "AWS::RDS::DBInstance"):
            database["Properties"]["StorageEncrypted"] = False

    rewrite_template(outdir, "prod", unencrypt)
    report = build(Assembly.load(outdir), "prod")
    seven = report["properties"][6]
    assert report["conclusion"] == "failed" and seven["result"] == "failed"
    assert any("storage is not encrypted" in finding for finding in seven["findings"])
    database = next(store for store in report["inventory"] if store["kind"] == "database")
    assert not database["resident"] and database["encryption"] == "NOT ENCRYPTED"
    failures = ET.fromstring(junit(report)).findall("testcase/failure")
    assert len(failures) == 2  # Property 7 and the database's residency


def test_a_finding_only_the_validation_report_holds_is_reported(app_outdir: Path, tmp_path: Path) -> None:
    outdir = copy_of(app_outdir, tmp_path / "cdk.out")
    report_path = outdir / "validation-report.json"
    validation = json.loads(report_path.read_text())
    validation["pluginReports"].append(
        {
            "pluginName": "CashTraceChecks",
            "conclusion": "failure",
            "violations": [
                {
                    "ruleName": "CT-P10-ZeroDowntime",
                    "description": "draining is shorter than the longest request",
                    "violatingConstructs": [{"constructPath": "CashTrace-Prod/Api/Blue/Resource"}],
                }
            ],
        }
    )
    report_path.write_text(json.dumps(validation))
    ten = build(Assembly.load(outdir), "prod")["properties"][9]
    assert ten["result"] == "failed" and "draining is shorter" in ten["findings"][0]


def test_ci_properties_fail_when_the_repository_stops_enforcing_them(assembly: Assembly, tmp_path: Path) -> None:
    for name in (".github", "security", "Makefile", "pyproject.toml"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    workflow = tmp_path / ".github/workflows/ci.yml"
    workflow.write_text(workflow.read_text().replace("needs: [lint, typecheck,", "needs: [lint,"))
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("fail_under = 80", "fail_under = 70"))
    report = build(assembly, "prod", root=tmp_path)
    one, two, three = report["properties"][:3]
    assert one["result"] == "failed" and one["findings"] == ["ci-gate does not need ['typecheck']"]
    assert two["result"] == "failed" and three["result"] == "passed"


def test_the_markdown_states_each_section_and_every_store(prod: dict[str, Any]) -> None:
    text = render(prod, diagram="```mermaid\nflowchart LR\n```")
    for heading in (
        "## Architecture",
        "## Data inventory",
        "## The ten correctness properties",
        "## Acknowledged findings",
        "## Scanners",
        "## Timing budgets",
    ):
        assert heading in text
    assert all(f"`{store['path']}`" in text for store in prod["inventory"])
    assert "**Conclusion: passed.**" in text


def test_make_evidence_writes_markdown_json_and_junit_from_a_fresh_assembly(app_outdir: Path, tmp_path: Path) -> None:
    outdir = copy_of(app_outdir, tmp_path / "cdk.out")
    assert main(["--env", "prod staging", "--out", str(outdir), "--no-synth"]) == 0
    for environment in ("prod", "staging"):
        written = json.loads((outdir / "evidence" / f"{environment}.json").read_text())
        assert written["environment"] == environment and written["conclusion"] == "passed"
        assert "```mermaid" in (outdir / "evidence" / f"{environment}.md").read_text()
        suite = ET.fromstring((outdir / "evidence" / f"{environment}.junit.xml").read_text())
        assert int(suite.get("tests", "0")) > 10 and suite.get("failures") == "0"
    assert write(outdir, ["dev"], synth=False) == {"dev": "passed"}


def test_cdk_out_is_stale_once_a_source_of_the_app_changes(tmp_path: Path) -> None:
    outdir = tmp_path / "cdk.out"
    assert not is_fresh(outdir, root=tmp_path)
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "app.py").write_text("")
    outdir.mkdir()
    (outdir / "manifest.json").write_text("{}")
    assert is_fresh(outdir, root=tmp_path)
    later = (outdir / "manifest.json").stat().st_mtime + 5

    os.utime(tmp_path / "stacks" / "app.py", (later, later))
    assert not is_fresh(outdir, root=tmp_path)
