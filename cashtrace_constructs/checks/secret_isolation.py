"""Property 6 (secret isolation): no IAM policy of one environment reaches another's secrets or keys,
and every secret carries the resource policy that denies principals of other environments.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from cashtrace_constructs.checks.rule import Finding, Rule, SynthesizedStack
from cashtrace_constructs.checks.secret_reach import Reference, SecretWorld
from cashtrace_constructs.checks.template import listed, of_type, policy_documents, properties, statements
from cashtrace_constructs.config import ENVIRONMENT_NAMES
from cashtrace_constructs.errors import ErrorCode

SECRET_ACTIONS: tuple[str, ...] = (
    # read
    "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue",
    "secretsmanager:DescribeSecret",
    "secretsmanager:ListSecretVersionIds",
    "secretsmanager:GetResourcePolicy",
    # write
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecret",
    "secretsmanager:UpdateSecretVersionStage",
    "secretsmanager:RotateSecret",
    "secretsmanager:CancelRotateSecret",
    "secretsmanager:DeleteSecret",
    "secretsmanager:RestoreSecret",
    "secretsmanager:PutResourcePolicy",
    "secretsmanager:DeleteResourcePolicy",
    "secretsmanager:TagResource",
    "secretsmanager:UntagResource",
    "secretsmanager:ReplicateSecretToRegions",
)
# ListSecrets and GetRandomPassword are not here: neither takes a secret as its resource.
KEY_ACTIONS: tuple[str, ...] = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:CreateGrant",
)
PRINCIPAL_ENVIRONMENT = "aws:PrincipalTag/environment"
_RESOURCE_TAG_KEYS = ("aws:resourcetag/environment", "secretsmanager:resourcetag/environment")


def matched_actions(statement: Mapping[str, Any], catalogue: Sequence[str]) -> list[str]:
    """The catalogue actions an Allow statement grants (Action patterns, or everything but NotAction)."""

    def matches(action: str, patterns: list[Any]) -> bool:
        return any(isinstance(p, str) and fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)

    if "NotAction" in statement:
        excluded = listed(statement["NotAction"])
        return [action for action in catalogue if not matches(action, excluded)]
    granted = listed(statement.get("Action"))
    return [action for action in catalogue if matches(action, granted)]


class SecretIsolation(Rule):
    rule_id = "CT-P6-SecretIsolation"
    property_name = "Property 6 (secret isolation)"
    description = "A secret or key of one environment is reachable from that environment only."
    fix = (
        "Grant through EnvironmentSecrets.grant_read (roles) or container_secret (containers) in the "
        "workload's own environment; scope ARNs to cashtrace/<own env>/ and the own account; make every "
        "secret through EnvironmentSecrets, which gives it the isolation resource policy."
    )

    def __init__(self, environments: Sequence[str] = ENVIRONMENT_NAMES) -> None:
        self.environments = tuple(environments)

    def check(self, stacks: Sequence[SynthesizedStack]) -> Iterable[Finding]:
        world = SecretWorld.of(stacks, self.environments)
        for stack in stacks:
            env = world.environment_of(stack)
            yield from self._grant_findings(stack, env, world)
            yield from self._deny_policy_findings(stack, world)

    def _grant_findings(self, stack: SynthesizedStack, env: str | None, world: SecretWorld) -> Iterator[Finding]:
        for logical_id, location, document in policy_documents(stack.template):
            for index, statement in statements(document):
                if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
                    continue
                granted = {
                    "secret": matched_actions(statement, SECRET_ACTIONS),
                    "key": matched_actions(statement, KEY_ACTIONS),
                }
                if not granted["secret"] and not granted["key"]:
                    continue
                scoped_to = _resource_tag_scope(statement)
                entries = ["*"] if "NotResource" in statement else listed(statement.get("Resource"))
                for entry in entries:
                    resolved = world.resolve(entry, stack)
                    if resolved is None:
                        continue
                    for target in world.targets(resolved):
                        actions = granted[target.kind]
                        reachable = target.environments if scoped_to is None else target.environments & scoped_to
                        # A stack of no environment (a pipeline) is held to grants that single out
                        # environments by name or account; its plain wildcards are cdk-nag IAM5's.
                        if env is None and len(reachable) == len(self.environments):
                            continue
                        foreign = sorted(reachable - {env})
                        if not actions or not foreign:
                            continue
                        yield self.finding(
                            stack,
                            f"{ErrorCode.SECRET_ACCESS_DENIED.value}: {stack.resources[logical_id]['Type']} "
                            f"{stack.construct_path_of(logical_id)} of environment {env or '(none)'} grants "
                            f"{', '.join(actions[:4])}{', ...' if len(actions) > 4 else ''} on {target.description}, "
                            f"which belongs to environment {', '.join(foreign)}",
                            logical_id=logical_id,
                            location=f"{location}.Statement[{index}]",
                        )

    def _deny_policy_findings(self, stack: SynthesizedStack, world: SecretWorld) -> Iterator[Finding]:
        policies: dict[str, list[Mapping[str, Any]]] = {}
        for _, policy in of_type(stack.template, "AWS::SecretsManager::ResourcePolicy"):
            target = world.resolve(properties(policy).get("SecretId"), stack)
            if isinstance(target, Reference):
                target = world.follow_attachment(target)
                policies.setdefault(target.logical_id, []).append(properties(policy).get("ResourcePolicy") or {})
        for logical_id, _ in of_type(stack.template, "AWS::SecretsManager::Secret"):
            env = world.secret_environment(stack, logical_id)
            if not any(_denies_other_environments(document, env) for document in policies.get(logical_id, [])):
                yield self.finding(
                    stack,
                    f"{ErrorCode.SECRET_ACCESS_DENIED.value}: secret {stack.construct_path_of(logical_id)} "
                    f"(environment {env or 'unknown'}) has no resource policy denying principals whose "
                    f"{PRINCIPAL_ENVIRONMENT} differs",
                    logical_id=logical_id,
                )


def _resource_tag_scope(statement: Mapping[str, Any]) -> frozenset[str] | None:
    """Environments a statement is limited to by a StringEquals on the resource's environment tag."""
    for operator, conditions in (statement.get("Condition") or {}).items():
        if operator not in ("StringEquals", "ForAnyValue:StringEquals"):
            continue
        for key, values in (conditions or {}).items():
            if key.lower() in _RESOURCE_TAG_KEYS:
                return frozenset(str(value) for value in listed(values))
    return None


def _denies_other_environments(document: Mapping[str, Any], environment: str | None) -> bool:
    for _, statement in statements(document):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Deny":
            continue
        principal = statement.get("Principal")
        if principal not in ("*", {"AWS": "*"}) or not matched_actions(statement, ("secretsmanager:GetSecretValue",)):
            continue
        values = ((statement.get("Condition") or {}).get("StringNotEquals") or {}).get(PRINCIPAL_ENVIRONMENT)
        if values is not None and (environment is None or environment in listed(values)):
            return True
    return False
