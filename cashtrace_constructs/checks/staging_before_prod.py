"""Property 4 (staging validation): a pipeline reaches prod only after staging, its tests and an approval.

Reads the synthesized AWS::CodePipeline::Pipeline: its Stages in order and each action's RunOrder.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cashtrace_constructs.checks.rule import Finding, StackRule, SynthesizedStack
from cashtrace_constructs.checks.template import of_type
from cashtrace_constructs.errors import ErrorCode

# Modes that change the stack; CHANGE_SET_REPLACE only prepares a change set.
_DEPLOYING_MODES = frozenset({"CHANGE_SET_EXECUTE", "CREATE_UPDATE", "REPLACE_ON_FAILURE"})
_TEST_CATEGORIES = frozenset({"Build", "Test"})


@dataclass(frozen=True)
class PipelineAction:
    stage: str
    stage_index: int
    run_order: int
    name: str
    category: str
    provider: str
    configuration: Mapping[str, Any]

    def precedes(self, other: PipelineAction) -> bool:
        # Actions of one stage with the same RunOrder run in parallel: neither precedes.
        return (self.stage_index, self.run_order) < (other.stage_index, other.run_order)

    @property
    def label(self) -> str:
        return f"{self.stage}/{self.name}"

    def deploys(self, stack_names: Sequence[str], *, executing: bool) -> bool:
        if (self.category, self.provider) != ("Deploy", "CloudFormation"):
            return False
        if self.configuration.get("StackName") not in stack_names:
            return False
        return not executing or self.configuration.get("ActionMode") in _DEPLOYING_MODES


def pipeline_actions(pipeline: Mapping[str, Any]) -> list[PipelineAction]:
    """Every action of an AWS::CodePipeline::Pipeline resource, in stage order."""
    actions = []
    for stage_index, stage in enumerate((pipeline.get("Properties") or {}).get("Stages") or []):
        for action in stage.get("Actions") or []:
            type_id = action.get("ActionTypeId") or {}
            actions.append(
                PipelineAction(
                    stage=str(stage.get("Name")),
                    stage_index=stage_index,
                    run_order=int(action.get("RunOrder", 1)),
                    name=str(action.get("Name")),
                    category=str(type_id.get("Category")),
                    provider=str(type_id.get("Provider")),
                    configuration=action.get("Configuration") or {},
                )
            )
    return actions


class StagingBeforeProd(StackRule):
    rule_id = "CT-P4-StagingBeforeProd"
    property_name = "Property 4 (staging validation)"
    description = "Prod is deployed only after a staging deployment, its integration tests and a manual approval."
    fix = "Build the pipeline with CashTracePipelineStack.add_environment in promotion order (staging, then prod)."

    def __init__(
        self,
        production_stacks: Sequence[str] = ("CashTrace-Prod",),
        staging_stacks: Sequence[str] = ("CashTrace-Staging",),
    ) -> None:
        self.production_stacks = tuple(production_stacks)
        self.staging_stacks = tuple(staging_stacks)

    def check_stack(self, stack: SynthesizedStack) -> Iterable[Finding]:
        for logical_id, pipeline in of_type(stack.template, "AWS::CodePipeline::Pipeline"):
            for problem in self.problems(pipeline_actions(pipeline)):
                yield self.finding(
                    stack,
                    f"{ErrorCode.APPROVAL_REQUIRED.value}: {problem}",
                    logical_id=logical_id,
                    location=f"Resources.{logical_id}.Properties.Stages",
                )

    def problems(self, actions: Sequence[PipelineAction]) -> Iterator[str]:
        prod = [action for action in actions if action.deploys(self.production_stacks, executing=False)]
        if not prod:
            return
        first_prod = min(prod, key=lambda action: (action.stage_index, action.run_order))
        staging = [
            action
            for action in actions
            if action.deploys(self.staging_stacks, executing=True) and action.precedes(first_prod)
        ]
        if not staging:
            yield f"{first_prod.label} deploys {self.production_stacks[0]} without a staging deployment before it"
            return
        staged = min(staging, key=lambda action: (action.stage_index, action.run_order))
        between = [action for action in actions if staged.precedes(action) and action.precedes(first_prod)]
        if not any(action.category in _TEST_CATEGORIES for action in between):
            yield (f"{first_prod.label} follows {staged.label} with no integration-test action between them")
        if not any((action.category, action.provider) == ("Approval", "Manual") for action in between):
            yield f"{first_prod.label} is not preceded by a manual approval after {staged.label}"
