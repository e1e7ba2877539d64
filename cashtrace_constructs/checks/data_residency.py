"""Property 7 (data residency): every stack in an allowed region, no resource sending data out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cashtrace_constructs.checks.rule import Finding, StackRule, SynthesizedStack
from cashtrace_constructs.config import DEFAULT_ALLOWED_REGIONS
from cashtrace_constructs.errors import ErrorCode
from cashtrace_constructs.residency import template_leaks


class DataResidency(StackRule):
    rule_id = "CT-P7-DataResidency"
    property_name = "Property 7 (data residency)"
    description = "User data is stored in the residency allow-list (af-south-1) only."
    fix = "Pin the stack to an allowed region and remove cross-region copies, replicas and destinations."

    def __init__(self, allowed_regions: Sequence[str] = DEFAULT_ALLOWED_REGIONS) -> None:
        self.allowed_regions = tuple(allowed_regions)

    def check_stack(self, stack: SynthesizedStack) -> Iterable[Finding]:
        code = ErrorCode.RESIDENCY_VIOLATION.value
        if not stack.region or stack.region == "unknown-region":
            yield self.finding(stack, f"{code}: stack is environment-agnostic; pin it to an allowed region")
        elif stack.region not in self.allowed_regions:
            yield self.finding(stack, f"{code}: stack region {stack.region} is outside {list(self.allowed_regions)}")
        for leak in template_leaks(stack.template, self.allowed_regions):
            yield self.finding(
                stack,
                f"{code}: {leak.resource_type} {leak.location} {leak.reason}",
                logical_id=leak.logical_id,
                location=leak.location,
            )
