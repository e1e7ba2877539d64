"""Every stack carries the cost-allocation tags finance reports on: environment, service, owner."""

from __future__ import annotations

from collections.abc import Iterable

from cashtrace_constructs.checks.rule import Finding, StackRule, SynthesizedStack

REQUIRED_TAGS: tuple[str, ...] = ("environment", "service", "owner")


class CostAllocationTags(StackRule):
    rule_id = "CT-CostAllocationTags"
    property_name = "Cost allocation"
    description = "Every stack carries the environment, service and owner tags."
    fix = "Build the stack through CashTraceEnvironmentStack (it tags itself) or add the tags with Tags.of(stack)."

    def check_stack(self, stack: SynthesizedStack) -> Iterable[Finding]:
        missing = [tag for tag in REQUIRED_TAGS if not stack.tags.get(tag)]
        if missing:
            yield self.finding(stack, f"stack {stack.name} lacks cost-allocation tags {missing}")
