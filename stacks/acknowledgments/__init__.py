"""Every acknowledged finding of the cdk-nag packs, with its reason: one module per capability.

Each module holds functions of (config, stack) that return their entries
(`rules.acknowledged(path, *rules, reason=...)`); conditions are config values. `apply` refuses a
path that names no construct, and `audited` makes an acknowledgment that suppresses no finding
fail synthesis, so the list cannot hide a regression.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from aws_cdk import Stack

from cashtrace_constructs.config import EnvironmentConfig, PipelineConfig
from stacks.acknowledgments import data, monitoring, network, release, secrets, service, storage
from stacks.acknowledgments.apply import apply
from stacks.acknowledgments.audit import audited
from stacks.acknowledgments.ci import github_oidc_access
from stacks.acknowledgments.pipeline import pipeline_stack
from stacks.acknowledgments.rules import NagAcknowledgment

__all__ = [
    "ENVIRONMENT",
    "NagAcknowledgment",
    "acknowledge_environment",
    "acknowledge_pipeline",
    "apply",
    "audited",
    "github_oidc_access",
]

Capability = Callable[[EnvironmentConfig, Stack], list[NagAcknowledgment]]

ENVIRONMENT: tuple[Capability, ...] = (
    network.network,
    service.load_balancer,
    service.listeners,
    service.task,
    release.deployment_group,
    release.deployment_provider,
    release.promotion_gate,
    data.database,
    data.database_access,
    data.cache,
    data.backups,
    storage.buckets,
    storage.distribution,
    secrets.rotation,
    secrets.audit_trail,
    monitoring.grafana,
)


def _owned(entries: list[NagAcknowledgment], module: str) -> list[NagAcknowledgment]:
    return [replace(entry, capability=module.rsplit(".", 1)[-1]) for entry in entries]


def acknowledge_environment(stack: Stack, config: EnvironmentConfig) -> None:
    """Acknowledge the findings of one environment stack (top-level or inside a pipeline stage)."""
    apply(
        stack,
        [entry for capability in ENVIRONMENT for entry in _owned(capability(config, stack), capability.__module__)],
    )


def acknowledge_pipeline(stack: Stack, config: PipelineConfig) -> None:
    apply(stack, _owned(pipeline_stack(config, stack), pipeline_stack.__module__))
