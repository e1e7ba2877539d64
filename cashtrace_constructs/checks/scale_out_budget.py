"""Property 9 (auto-scaling response): new healthy capacity within 180 s of load crossing the threshold."""

from __future__ import annotations

from collections.abc import Iterable

from cashtrace_constructs.checks.rule import Finding, StackRule, SynthesizedStack
from cashtrace_constructs.checks.timing_paths import ecs_scalable_targets, scale_out_paths
from cashtrace_constructs.errors import ErrorCode
from cashtrace_constructs.timing import SCALE_OUT_BUDGET_SECONDS


class ScaleOutBudget(StackRule):
    rule_id = "CT-P9-ScaleOutBudget"
    property_name = "Property 9 (scale-out within 3 minutes)"
    description = (
        "Every ECS scalable target has a step scale-out policy on a fast alarm, and each one's worst case "
        "(metric period x datapoints + cooldown + task start + health checks to healthy) is <= 180 s."
    )
    fix = "Add step scaling on a 1-minute alarm with 1 datapoint; target tracking alone waits 3 datapoints."

    def check_stack(self, stack: SynthesizedStack) -> Iterable[Finding]:
        code = ErrorCode.RESOURCE_LIMIT.value
        for target_id, service_id in ecs_scalable_targets(stack.template):
            paths = scale_out_paths(stack.template, target_id, service_id)
            if not paths:
                yield self.finding(
                    stack,
                    f"{code}: scalable target {target_id} has no step scale-out policy on an alarm; target tracking "
                    "alone needs 3 one-minute datapoints and cannot add capacity within "
                    f"{SCALE_OUT_BUDGET_SECONDS} s",
                    logical_id=target_id,
                )
            for path in paths:
                if path.seconds > SCALE_OUT_BUDGET_SECONDS:
                    yield self.finding(
                        stack,
                        f"{code}: scale-out through alarm {path.alarm} and policy {path.policy} takes up to "
                        f"{path.seconds} s, over {SCALE_OUT_BUDGET_SECONDS} s",
                        logical_id=path.alarm,
                    )
