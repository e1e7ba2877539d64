"""Property 4 at construction time: the promotion order a pipeline may take."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.promotion import PlannedStage, check_promotion

STAGING = PlannedStage("staging", requires_approval=False, approved_before=False, tested_after=True)
PROD = PlannedStage("prod", requires_approval=True, approved_before=True, tested_after=True)


def test_tested_staging_then_approved_prod_is_accepted() -> None:
    check_promotion([STAGING, PROD])
    check_promotion([STAGING])


@pytest.mark.parametrize(
    ("stages", "field", "words"),
    [
        ([PROD], "pipeline.stages[0]", "without a tested pre-production deployment"),
        ([PROD, STAGING], "pipeline.stages[0]", "without a tested pre-production deployment"),
        (
            [PlannedStage("staging", False, False, tested_after=False), PROD],
            "pipeline.stages[1]",
            "staging + integration tests",
        ),
        (
            [STAGING, PlannedStage("prod", True, approved_before=False, tested_after=True)],
            "pipeline.stages[1].approval",
            "manual approval",
        ),
    ],
    ids=["prod-alone", "prod-first", "untested-staging", "no-approval"],
)
def test_prod_reached_unvalidated_is_refused(stages: list[PlannedStage], field: str, words: str) -> None:
    with pytest.raises(DeploymentError) as error:
        check_promotion(stages)
    assert error.value.code is ErrorCode.APPROVAL_REQUIRED
    assert error.value.field == field
    assert "Property 4" in str(error.value) and words in str(error.value)


@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans()), max_size=5))
def test_every_accepted_order_has_validated_staging_and_approval_before_gated_stages(
    flags: list[tuple[bool, bool, bool]],
) -> None:
    stages = [PlannedStage(f"env{i}", *flag) for i, flag in enumerate(flags)]
    try:
        check_promotion(stages)
    except DeploymentError as error:
        assert error.code is ErrorCode.APPROVAL_REQUIRED
        return
    for index, stage in enumerate(stages):
        if stage.requires_approval:
            assert stage.approved_before
            assert any(not s.requires_approval and s.tested_after for s in stages[:index])
