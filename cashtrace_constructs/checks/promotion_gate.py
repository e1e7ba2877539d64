"""Property 4 (staging validation) inside the production stack: its release waits for the promotion gate.

`cdk deploy CashTrace-Prod` deploys without the pipeline, so the production stack itself must refuse
a release staging did not verify. In every production stack (stack tag `environment`), each task
definition that runs an image from a private ECR registry (the release) must depend, directly or
through what it depends on, on a `Custom::PromotionGate` backed by a Lambda function of the same
template, and a gate it depends on must check the digest that task definition runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cashtrace_constructs.checks.rule import Finding, StackRule, SynthesizedStack
from cashtrace_constructs.checks.scanned_image_ships import task_images
from cashtrace_constructs.checks.template import listed, of_type, properties, references, resources_of
from cashtrace_constructs.errors import ErrorCode

GATE_TYPE = "Custom::PromotionGate"


def dependencies(template: Mapping[str, Any], logical_id: str) -> set[str]:
    """Every resource `logical_id` waits for in CloudFormation: its DependsOn and references, transitively."""
    resources = resources_of(template)
    found: set[str] = set()
    pending = [logical_id]
    while pending:
        resource = resources.get(pending.pop()) or {}
        direct = {str(name) for name in listed(resource.get("DependsOn"))} | references(resource.get("Properties"))
        for name in direct & set(resources) - found:
            found.add(name)
            pending.append(name)
    return found


class PromotionGateBeforeRelease(StackRule):
    rule_id = "CT-P4-PromotionGate"
    property_name = "Property 4 (staging validation)"
    description = (
        "In a production stack, every release task definition waits for a promotion gate that checks its digest, "
        "so `cdk deploy` cannot ship what staging did not verify."
    )
    fix = (
        "Compose the production stack with CashTraceEnvironmentStack (PromotionGate.guard(task_definition, ...)); "
        'for an emergency, deploy with -c break-glass="<reason>" instead of removing the gate.'
    )

    def __init__(self, production_environments: Sequence[str] = ("prod",)) -> None:
        self.production_environments = tuple(production_environments)

    def check_stack(self, stack: SynthesizedStack) -> Iterable[Finding]:
        if stack.tags.get("environment") not in self.production_environments:
            return
        template = stack.template
        functions = {logical_id for logical_id, _ in of_type(template, "AWS::Lambda::Function")}
        gates: dict[str, str | None] = {}
        for logical_id, resource in of_type(template, GATE_TYPE):
            if not references(properties(resource).get("ServiceToken")) & functions:
                yield self._refused(stack, "the promotion gate is not backed by a function of this stack", logical_id)
                continue
            digest = properties(resource).get("ImageDigest")
            gates[logical_id] = digest if isinstance(digest, str) else None
        releases = [(task, container, image) for task, container, image in task_images(template) if image.private]
        if releases and not gates:
            yield self._refused(stack, f"no promotion gate ({GATE_TYPE}): `cdk deploy` would ship any image", None)
            return
        for task, container, image in releases:
            before = {gate: gates[gate] for gate in dependencies(template, task) if gate in gates}
            if not before:
                yield self._refused(
                    stack, f"container {container!r} runs {image.text!r} without waiting for the promotion gate", task
                )
            elif image.digest not in before.values():
                # The gate is what is wrong: it would verify another release than the one that ships.
                for gate, digest in sorted(before.items()):
                    yield self._refused(
                        stack,
                        f"the promotion gate checks {digest}, but {stack.construct_path_of(task)} container "
                        f"{container!r} runs {image.digest or image.text}",
                        gate,
                    )

    def _refused(self, stack: SynthesizedStack, message: str, logical_id: str | None) -> Finding:
        return self.finding(stack, f"{ErrorCode.APPROVAL_REQUIRED.value}: {message}", logical_id=logical_id)
