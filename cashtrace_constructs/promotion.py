"""Property 4 at construction time: the order in which a pipeline may promote environments.

Pure logic over planned stages, so the pipeline stack refuses a bad order before it creates a
single resource; the `staging-before-prod` rule checks the synthesized pipeline as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cashtrace_constructs.errors import DeploymentError, ErrorCode

PROPERTY_4 = "Property 4 (staging validation)"


@dataclass(frozen=True)
class PlannedStage:
    """One environment the pipeline is about to deploy, and what surrounds its deployment."""

    environment: str
    # From the environment's config: deploying it needs a human's approval (prod).
    requires_approval: bool
    # A manual approval runs after every earlier stage and before this deployment.
    approved_before: bool
    # Tests run against this environment after it is deployed (integration or smoke tests).
    tested_after: bool


def check_promotion(stages: Sequence[PlannedStage], *, path: str = "pipeline.stages") -> None:
    """Refuse a promotion order in which an approval-gated environment is reached unvalidated.

    An environment that requires approval must come after a validated pre-production
    deployment (deployed, then tested) and behind a manual approval.
    """
    for index, stage in enumerate(stages):
        if not stage.requires_approval:
            continue
        validated_before = [
            earlier.environment for earlier in stages[:index] if not earlier.requires_approval and earlier.tested_after
        ]
        if not validated_before:
            raise DeploymentError(
                ErrorCode.APPROVAL_REQUIRED,
                f"{PROPERTY_4}: {stage.environment} is deployed without a tested pre-production deployment "
                "(staging + integration tests) before it",
                field=f"{path}[{index}]",
            )
        if not stage.approved_before:
            raise DeploymentError(
                ErrorCode.APPROVAL_REQUIRED,
                f"{PROPERTY_4}: {stage.environment} requires a manual approval before its deployment",
                field=f"{path}[{index}].approval",
            )
