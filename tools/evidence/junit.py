"""The evidence as JUnit XML, which CodeBuild shows as a test report of each pipeline run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET  # nosec B405 - writes XML, parses none


def _case(suite: ET.Element, classname: str, name: str, failure: str | None) -> None:
    case = ET.SubElement(suite, "testcase", classname=classname, name=name)
    if failure:
        ET.SubElement(case, "failure", message=failure[:500]).text = failure


def junit(report: Mapping[str, Any]) -> str:
    """One test case per property, per data store's residency and per cdk-nag pack."""
    environment = report["environment"]
    suite = ET.Element("testsuite", name=f"CashTrace evidence {environment}")
    for prop in report["properties"]:
        failure = None if prop["result"] == "passed" else "; ".join(prop["findings"]) or "failed"
        _case(suite, f"{environment}.properties", prop["name"], failure)
    for store in report["inventory"]:
        _case(suite, f"{environment}.residency", store["path"], None if store["resident"] else store["residency"])
    for pack in report["scanners"]["nag_packs"]:
        _case(
            suite,
            f"{environment}.cdk-nag",
            pack["name"],
            f"{pack['violations']} unacknowledged findings" if pack["violations"] else None,
        )
    for kind in report["unclassifiedTypes"]:
        _case(suite, f"{environment}.classification", kind, "not classified in tools/evidence/classification.py")
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for case in cases if case.find("failure") is not None)))
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
