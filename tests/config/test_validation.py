"""The validation core: declared bounds are read from the annotations and refused with the field path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cashtrace_constructs.config.validation import Between, check_bounds
from cashtrace_constructs.errors import DeploymentError, ErrorCode


@dataclass(frozen=True)
class _Sample:
    percent: Annotated[int, Between(1, 100, ErrorCode.RESOURCE_LIMIT)]
    at_least_a_year: Annotated[int, Between(365, why="PCI DSS")] = 365
    optional: Annotated[int | None, Between(1, 9)] = None
    unchecked: int = -1


@given(percent=st.integers(-1000, 1000))
def test_a_value_is_refused_exactly_outside_its_declared_bounds(percent: int) -> None:
    if 1 <= percent <= 100:
        check_bounds(_Sample(percent), "prod.sample")
        return
    with pytest.raises(DeploymentError) as refused:
        check_bounds(_Sample(percent), "prod.sample")
    assert (refused.value.code, refused.value.field) == (ErrorCode.RESOURCE_LIMIT, "prod.sample.percent")
    assert f"between 1 and 100, got {percent}" in str(refused.value)


def test_open_bounds_name_their_reason_and_unset_optionals_are_skipped() -> None:
    check_bounds(_Sample(50, optional=None), "p")
    with pytest.raises(DeploymentError) as refused:
        check_bounds(_Sample(50, at_least_a_year=30), "p")
    assert refused.value.field == "p.at_least_a_year"
    assert "at least 365 (PCI DSS), got 30" in str(refused.value)
    with pytest.raises(DeploymentError) as optional:
        check_bounds(_Sample(50, optional=10), "p")
    assert optional.value.field == "p.optional"
