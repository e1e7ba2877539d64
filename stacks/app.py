"""Builds the CashTrace CDK app: environment stacks, the region lock and every synth-time check."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aws_cdk import App, Aspects, Validations
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks, PCIDSS321Checks

from cashtrace_constructs.checks import CashTraceChecks, default_rules
from cashtrace_constructs.config import DEFAULT_ALLOWED_REGIONS, EnvironmentConfig
from cashtrace_constructs.region_lock import RegionLock
from stacks import release
from stacks.acknowledgments import audited
from stacks.environment_stack import CashTraceEnvironmentStack
from stacks.environments import CONTEXT_KEYS, all_environments, pipeline
from stacks.pipeline_stack import CashTracePipelineStack

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def cdk_json_context() -> dict[str, Any]:
    """The feature flags of cdk.json, for apps built in-process (the CLI passes them itself)."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return context


def new_app(*, context: Mapping[str, Any] | None = None, **kwargs: Any) -> App:
    """An App with cdk.json's feature flags, as `cdk synth` would build it."""
    return App(context={**cdk_json_context(), **(context or {})}, **kwargs)


def build_app(
    app: App,
    environments: Sequence[EnvironmentConfig] | None = None,
    *,
    allowed_regions: Sequence[str] = DEFAULT_ALLOWED_REGIONS,
    with_pipeline: bool = True,
) -> dict[str, CashTraceEnvironmentStack]:
    """Add every environment stack to `app` and attach the region lock and the checks once."""
    contexts = {key: app.node.try_get_context(key) for key in (*CONTEXT_KEYS, *release.CONTEXT_KEYS)}
    if environments is None:
        environments = all_environments(contexts, release.release_from_context(contexts))
    # CD pipeline: the environments it deploys forward their CodeDeploy events to it, so
    # `cdk deploy CashTrace-Staging` and the pipeline's Staging stage deploy the same stack.
    pipeline_config = pipeline(contexts) if with_pipeline else None
    promoted = pipeline_config.promotion if pipeline_config else ()
    # Break-glass applies to the stacks an operator deploys with `cdk deploy`, never to the pipeline's stages.
    break_glass = release.break_glass_from_context(contexts)
    stacks = {
        config.name: CashTraceEnvironmentStack(
            app,
            config.stack_name,
            config=config,
            deployment_events_account=pipeline_config.account if pipeline_config and config.name in promoted else None,
            break_glass_reason=break_glass,
        )
        for config in environments
    }
    if pipeline_config:
        CashTracePipelineStack(app, pipeline_config.stack_name, config=pipeline_config, environments=environments)

    Aspects.of(app).add(RegionLock(allowed_regions))
    # Audited: an acknowledgment that suppresses none of a plugin's findings fails synthesis.
    Validations.of(app).add_plugins(
        *(
            audited(plugin)
            for plugin in (
                AwsSolutionsChecks(app),
                PCIDSS321Checks(app),
                NIST80053R5Checks(app),
                CashTraceChecks(default_rules(allowed_regions)),
            )
        )
    )
    return stacks
