"""The CodeDeploy release of the API: deployment group, its health-check hook and the rollout provider."""

from __future__ import annotations

from aws_cdk import Stack

from cashtrace_constructs.config import EnvironmentConfig, StrategyType
from stacks.acknowledgments.functions import python_handler
from stacks.acknowledgments.rules import (
    INLINE_POLICY,
    NagAcknowledgment,
    acknowledged,
    arn_of,
    managed_policy,
    nist,
    nist_and_pci,
    solutions,
    wildcard,
)
from stacks.acknowledgments.service import SERVICE

CODEDEPLOY_STRATEGIES = (StrategyType.BLUE_GREEN, StrategyType.CANARY)
GROUP = f"{SERVICE}/DeploymentGroup"
HOOK = f"{SERVICE}/HealthCheckHook"
# cdklabs.ecs-codedeploy's EcsDeployment: its handlers sit beside `DeploymentProvider`, the
# provider framework's functions and waiter state machine inside it.
DEPLOYMENT = f"{GROUP}/Deployment"
PROVIDER = f"{DEPLOYMENT}/DeploymentProvider"
PROVIDER_REASON = (
    "Custom-resource provider of cdklabs.ecs-codedeploy's EcsDeployment (Lambda functions, waiter state "
    "machine, their roles). It only calls the CodeDeploy API while `cdk deploy` runs, handles no user data, "
    "and the package exposes no props for VPC, DLQ, concurrency or logging; forking it to change that would "
    "lose upstream fixes."
)
# The production stack's promotion gate (Property 4 on every deploy path).
PROMOTION_GATE = "PromotionGate/Function"
LAMBDA_CONTROLS = (*nist_and_pci("LambdaInsideVPC"), nist("LambdaConcurrency"), nist("LambdaDLQ"))


def deployment_group(config: EnvironmentConfig, stack: Stack) -> list[NagAcknowledgment]:
    if config.deployment_strategy.type not in CODEDEPLOY_STRATEGIES:
        return []
    role = f"{GROUP}/ServiceRole"
    return [
        *acknowledged(
            f"{role}/Resource",
            managed_policy("AWSCodeDeployRoleForECS"),
            reason="AWS's managed policy for CodeDeploy ECS blue/green is the documented service role; it "
            "tracks new CodeDeploy features that a hand-written copy would miss.",
        ),
        *acknowledged(
            f"{role}/DefaultPolicy/Resource",
            wildcard(f"Resource::{arn_of(stack, f'{HOOK}/Function/Resource')}:*"),
            reason="lambda:InvokeFunction on the one hook function and its versions (`:*`), as CDK's "
            "grantInvoke writes it.",
        ),
        *acknowledged(
            f"{role}/DefaultPolicy/Resource",
            *INLINE_POLICY,
            reason="CDK grants of the CodeDeploy service role (invoking the hook), scoped to named "
            "resources; the inline form on a single-purpose role is the auditable one.",
        ),
        *python_handler(HOOK),
    ]


def deployment_provider(config: EnvironmentConfig, stack: Stack) -> list[NagAcknowledgment]:
    if config.deployment_strategy.type not in CODEDEPLOY_STRATEGIES:
        return []
    waiter_policy = f"{PROVIDER}/waiter-state-machine/Role/DefaultPolicy/Resource"

    def invokes(*functions: str) -> list[str]:
        return [wildcard(f"Resource::{arn_of(stack, f'{function}/Resource')}:*") for function in functions]

    entries: list[NagAcknowledgment] = []
    # The handlers beside the provider (DeploymentProvider*Lambda), then the provider framework's own.
    for functions in (f"{DEPLOYMENT}/*", f"{PROVIDER}/framework-*"):
        entries += [
            *acknowledged(f"{functions}/Resource", *LAMBDA_CONTROLS, reason=PROVIDER_REASON),
            *acknowledged(
                f"{functions}/ServiceRole/Resource",
                managed_policy("service-role/AWSLambdaBasicExecutionRole"),
                reason=PROVIDER_REASON,
            ),
            *acknowledged(f"{functions}/ServiceRole/DefaultPolicy/Resource", *INLINE_POLICY, reason=PROVIDER_REASON),
        ]
    return [
        *entries,
        *acknowledged(f"{DEPLOYMENT}/*/Resource", solutions("L1"), reason=PROVIDER_REASON),
        *acknowledged(
            f"{PROVIDER}/framework-*/ServiceRole/DefaultPolicy/Resource",
            *invokes(*(f"{DEPLOYMENT}/DeploymentProvider{handler}Lambda" for handler in ("IsComplete", "OnEvent"))),
            reason=PROVIDER_REASON,
        ),
        *acknowledged(
            waiter_policy,
            *invokes(*(f"{PROVIDER}/framework-{handler}" for handler in ("isComplete", "onTimeout"))),
            reason=PROVIDER_REASON,
        ),
        *acknowledged(waiter_policy, *INLINE_POLICY, reason=PROVIDER_REASON),
        *acknowledged(
            f"{PROVIDER}/waiter-state-machine/Resource", solutions("SF1"), solutions("SF2"), reason=PROVIDER_REASON
        ),
    ]


def promotion_gate(config: EnvironmentConfig, stack: Stack) -> list[NagAcknowledgment]:
    if not config.settings.requires_approval:
        return []
    return python_handler(PROMOTION_GATE)
