"""Every check of the real app refuses a violation: each rule of ours the property it guards set through
an escape hatch (invisible to cdk-nag), each nag pack, the region lock and the acknowledgment audit
a violation in the construct tree. One synthesis of the real app carries them all
(tests/violations_app.py, started by conftest.py beside the session synth)."""

from __future__ import annotations

import pytest

from cashtrace_constructs.checks import default_rules
from tests.conftest import ViolationsOutcome
from tests.violations_app import IN_STAGE, OVERRIDES, VIOLATIONS, Violation

ESCAPE_HATCHES = ("add_property_override", "add_override", "add_deletion_override")


def test_the_real_app_with_the_violations_does_not_synthesize(violations_outcome: ViolationsOutcome) -> None:
    assert violations_outcome.refused, "synthesis succeeded with every violation injected"


@pytest.mark.parametrize("violation", VIOLATIONS, ids=lambda v: f"{v.rule}:{v.construct_path}")
def test_each_violation_is_refused_by_its_check_naming_the_resource(
    violation: Violation, violations_outcome: ViolationsOutcome
) -> None:
    assert violation.found_in(violations_outcome.findings), (
        f"{violation.plugin} did not report {violation.rule} on {violation.construct_path} ({violation.how})"
    )


def test_every_rule_of_ours_has_an_escape_hatch_case() -> None:
    overridden = {violation.rule for violation, _ in OVERRIDES}
    assert all(any(hatch in violation.how for hatch in ESCAPE_HATCHES) for violation, _ in OVERRIDES)
    # Cost allocation reads stack tags from the tree, not the template: its case removes the tag there.
    tree_only = {"CT-CostAllocationTags"}
    # The scanned-image rule judges the pipeline's stage templates, which CDK Pipelines synthesizes
    # as each stage is added: its escape hatch is made while the prod stage is built (IN_STAGE).
    overridden |= {violation.rule for violation in IN_STAGE}
    assert all(any(hatch in violation.how for hatch in ESCAPE_HATCHES) for violation in IN_STAGE)
    assert {rule.rule_id for rule in default_rules()} - tree_only <= overridden
    assert tree_only <= {violation.rule for violation in VIOLATIONS}


@pytest.mark.parametrize(
    ("rule", "expect"),
    [
        ("CT-DatabaseProtection", "no deletion protection"),
        ("CT-DatabaseProtection", "is publicly accessible"),
        ("CT-PublicBucket", "does not block public access"),
        ("CT-ImageScanOnPush", "does not scan images on push"),
    ],
)
def test_database_bucket_and_image_scan_overrides_fail_synthesis_naming_the_resource(
    rule: str, expect: str, violations_outcome: ViolationsOutcome
) -> None:
    # The "Done when". The release repository lives in the pipeline stack (CashTrace-Prod
    # pulls from it); the others are CashTrace-Prod's. CDK prints the same report it writes.
    (violation,) = [v for v in VIOLATIONS if v.rule == rule and v.expect in expect]
    assert violation.stack == ("CashTrace-Pipeline" if rule == "CT-ImageScanOnPush" else "CashTrace-Prod")
    assert violations_outcome.refused
    named = [
        f for f in violations_outcome.findings if f.startswith(f"CashTraceChecks {rule} {violation.construct_path}:")
    ]
    assert any(expect in finding for finding in named), named
