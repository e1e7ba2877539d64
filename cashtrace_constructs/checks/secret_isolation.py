"""Property 6 (secret isolation): no IAM policy of one environment reaches another's secrets or keys,
and every secret carries the resource policy that denies principals of other environments.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cashtrace_constructs.checks.rule import Finding, Rule, SynthesizedStack
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
_POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
_INLINE_POLICY_TYPES = ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group")
_SECRET_NAME = re.compile(r"^cashtrace/([a-z0-9-]+)/")
_KEY_ALIAS = re.compile(r"^alias/cashtrace/([a-z0-9-]+)/")
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_GLOB = re.compile(r"[*?\[]")
_PSEUDO = ("AWS::Partition", "AWS::Region", "AWS::AccountId", "AWS::URLSuffix")
PRINCIPAL_ENVIRONMENT = "aws:PrincipalTag/environment"
_RESOURCE_TAG_KEYS = ("aws:resourcetag/environment", "secretsmanager:resourcetag/environment")


def stack_environment(stack: SynthesizedStack, environments: Sequence[str] = ENVIRONMENT_NAMES) -> str | None:
    """The environment a stack belongs to: its `environment` tag, else a word of its name or path."""
    tagged = stack.tags.get("environment")
    if tagged in environments:
        return tagged
    for text in (stack.name, stack.construct_path):
        words = {word.lower() for word in _WORDS.findall(text)}
        found = [name for name in environments if name in words]
        if len(found) == 1:
            return found[0]
    return None


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def matched_actions(statement: Mapping[str, Any], catalogue: Sequence[str]) -> list[str]:
    """The catalogue actions an Allow statement grants (Action patterns, or everything but NotAction)."""

    def matches(action: str, patterns: list[Any]) -> bool:
        return any(isinstance(p, str) and fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)

    if "NotAction" in statement:
        excluded = _listed(statement["NotAction"])
        return [action for action in catalogue if not matches(action, excluded)]
    granted = _listed(statement.get("Action"))
    return [action for action in catalogue if matches(action, granted)]


@dataclass(frozen=True)
class Target:
    """What one Resource entry of a grant can reach: secrets or keys of some environments."""

    kind: str  # "secret" | "key"
    environments: frozenset[str]
    description: str


@dataclass(frozen=True)
class _Ref:
    stack: SynthesizedStack
    logical_id: str


@dataclass
class _World:
    """What the rule knows across all templates: environments, their accounts, exports, secrets."""

    environments: tuple[str, ...]
    stack_env: dict[str, str | None]
    accounts: dict[str, set[str]]
    exports: dict[str, tuple[SynthesizedStack, Any]]
    by_stack_name: dict[str, SynthesizedStack]
    secrets_by_name: dict[str, list[tuple[str, str]]]

    def envs_of_account(self, account: str) -> frozenset[str]:
        if not account or _GLOB.search(account):
            return frozenset(self.environments)
        return frozenset(self.accounts.get(account, set()))


def _policy_documents(stack: SynthesizedStack) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    for logical_id, resource in stack.resources.items():
        properties = resource.get("Properties") or {}
        if resource.get("Type") in _POLICY_TYPES:
            yield logical_id, "Properties.PolicyDocument", properties.get("PolicyDocument") or {}
        elif resource.get("Type") in _INLINE_POLICY_TYPES:
            for index, policy in enumerate(properties.get("Policies") or []):
                yield logical_id, f"Properties.Policies[{index}].PolicyDocument", policy.get("PolicyDocument") or {}


def _statements(document: Mapping[str, Any]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    yield from enumerate(_listed(document.get("Statement")))


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

    # ---- the world ----

    def _world(self, stacks: Sequence[SynthesizedStack]) -> _World:
        world = _World(self.environments, {}, {}, {}, {}, {})
        for stack in stacks:
            # Weak references name the stack as deployed: artifact id, or the path joined with "-".
            world.by_stack_name[stack.name] = stack
            world.by_stack_name[stack.construct_path.replace("/", "-")] = stack
            env = stack_environment(stack, self.environments)
            world.stack_env[stack.construct_path] = env
            if env and stack.account and not _GLOB.search(stack.account) and stack.account.isdigit():
                world.accounts.setdefault(stack.account, set()).add(env)
            for output in (stack.template.get("Outputs") or {}).values():
                name = (output.get("Export") or {}).get("Name")
                if isinstance(name, str):
                    world.exports[name] = (stack, output.get("Value"))
        for stack in stacks:
            for logical_id, secret in stack.resources_of_type("AWS::SecretsManager::Secret"):
                name = (secret.get("Properties") or {}).get("Name")
                if isinstance(name, str):
                    world.secrets_by_name.setdefault(name, []).append(
                        (stack.construct_path_of(logical_id), self._secret_env(stack, logical_id, world) or "")
                    )
        return world

    def _secret_env(self, stack: SynthesizedStack, logical_id: str, world: _World) -> str | None:
        properties = (stack.resources.get(logical_id) or {}).get("Properties") or {}
        name = properties.get("Name")
        if isinstance(name, str) and (match := _SECRET_NAME.match(name)):
            return match.group(1)
        for tag in properties.get("Tags") or []:
            if tag.get("Key") == "environment" and isinstance(tag.get("Value"), str):
                return str(tag["Value"])
        return world.stack_env.get(stack.construct_path)

    # ---- resolving a Resource entry ----

    def _resolve(self, value: Any, stack: SynthesizedStack, world: _World, depth: int = 0) -> str | _Ref | None:
        if depth > 5:
            return None
        if isinstance(value, str):
            return value
        if not isinstance(value, Mapping) or len(value) != 1:
            return None
        ((function, argument),) = value.items()
        if function == "Ref":
            if argument in _PSEUDO:
                return self._pseudo(argument, stack)
            return _Ref(stack, argument) if argument in stack.resources else None
        if function == "Fn::GetAtt":
            target = argument[0] if isinstance(argument, list) else str(argument).split(".")[0]
            return _Ref(stack, target) if target in stack.resources else None
        if function == "Fn::ImportValue":
            name = self._resolve(argument, stack, world, depth + 1)
            if isinstance(name, str) and name in world.exports:
                exporter, exported = world.exports[name]
                return self._resolve(exported, exporter, world, depth + 1)
            return None
        if function == "Fn::GetStackOutput" and isinstance(argument, Mapping):
            # CDK's weak cross-stack references (@aws-cdk/core:defaultCrossStackReferences).
            producer = world.by_stack_name.get(str(argument.get("StackName")))
            output = ((producer.template.get("Outputs") or {}) if producer else {}).get(argument.get("OutputName"))
            if producer is not None and output is not None:
                return self._resolve(output.get("Value"), producer, world, depth + 1)
            return None
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
            parts = [self._resolve(part, stack, world, depth + 1) for part in _listed(argument[1])]
            # `<secret ARN>-??????` and similar: a reference plus literal decoration is that resource.
            references = [part for part in parts if isinstance(part, _Ref)]
            if references:
                return references[0]
            return str(argument[0]).join(part if isinstance(part, str) else "*" for part in parts)
        if function == "Fn::Sub" and isinstance(argument, str):
            for reference in re.findall(r"\$\{([^}!]+)\}", argument):
                logical_id = reference.split(".")[0]
                if logical_id in stack.resources:
                    return _Ref(stack, logical_id)
            return re.sub(r"\$\{([^}]+)\}", lambda m: self._pseudo(m.group(1), stack), argument)
        return None

    @staticmethod
    def _pseudo(name: str, stack: SynthesizedStack) -> str:
        if name == "AWS::AccountId":
            return stack.account or "*"
        if name == "AWS::Region":
            return stack.region or "*"
        if name == "AWS::Partition":
            return "aws"
        if name == "AWS::URLSuffix":
            return "amazonaws.com"
        return "*"

    # ---- what a resolved entry can reach ----

    def _targets(self, resolved: str | _Ref, world: _World) -> list[Target]:
        if isinstance(resolved, _Ref):
            return self._reference_targets(resolved, world)
        if resolved == "*":
            everything = frozenset(self.environments)
            return [
                Target("secret", everything, f"'*' (every secret, e.g. {self._named_secrets(everything, world)})"),
                Target("key", everything, "'*' (every KMS key of every environment)"),
            ]
        parts = resolved.split(":", 5)
        if len(parts) < 6 or parts[0] != "arn":
            return []
        _, _, service, _, account, resource = parts
        targets: list[Target] = []
        if fnmatch.fnmatchcase("secretsmanager", service):
            targets.extend(self._secret_arn_targets(resolved, account, resource, world))
        if fnmatch.fnmatchcase("kms", service):
            targets.extend(self._key_arn_targets(resolved, account, resource, world))
        return targets

    def _follow_attachment(self, reference: _Ref, world: _World) -> _Ref:
        """A SecretTargetAttachment's Ref is its secret's ARN: judge the secret."""
        resource = reference.stack.resources.get(reference.logical_id) or {}
        if resource.get("Type") == "AWS::SecretsManager::SecretTargetAttachment":
            target = self._resolve((resource.get("Properties") or {}).get("SecretId"), reference.stack, world)
            if isinstance(target, _Ref) and target != reference:
                return target
        return reference

    def _reference_targets(self, reference: _Ref, world: _World) -> list[Target]:
        reference = self._follow_attachment(reference, world)
        resource = reference.stack.resources.get(reference.logical_id) or {}
        path = reference.stack.construct_path_of(reference.logical_id)
        env = world.stack_env.get(reference.stack.construct_path)
        if resource.get("Type") == "AWS::SecretsManager::Secret":
            owner = self._secret_env(reference.stack, reference.logical_id, world)
            return [Target("secret", frozenset({owner} if owner else ()), f"secret {path}")]
        if resource.get("Type") == "AWS::KMS::Key":
            return [Target("key", frozenset({env} if env else ()), f"KMS key {path}")]
        return []

    def _secret_arn_targets(self, arn: str, account: str, resource: str, world: _World) -> list[Target]:
        if resource.startswith("secret:"):
            name = resource.removeprefix("secret:")
        elif fnmatch.fnmatchcase("secret:x", resource):
            name = "*"
        else:
            return []
        by_account = world.envs_of_account(account)
        match = _SECRET_NAME.match(name)
        if match and not _GLOB.search(match.group(1)):
            by_name: frozenset[str] | None = frozenset({match.group(1)})
        elif _GLOB.search(name):
            prefix = _GLOB.split(name, maxsplit=1)[0]
            by_name = frozenset(env for env in self.environments if f"cashtrace/{env}/".startswith(prefix))
            by_name = by_name or None
        else:
            by_name = None
        # Names decide (they are how Property 6 scopes secrets); another environment's account
        # is foreign whatever the name says.
        environments = _combine(by_name, by_account, world)
        examples = self._named_secrets(environments, world, pattern=name)
        return [Target("secret", environments, f"{arn}{f' (matches {examples})' if examples else ''}")]

    def _key_arn_targets(self, arn: str, account: str, resource: str, world: _World) -> list[Target]:
        match = _KEY_ALIAS.match(resource)
        by_alias = frozenset({match.group(1)}) if match and not _GLOB.search(match.group(1)) else None
        return [Target("key", _combine(by_alias, world.envs_of_account(account), world), arn)]

    def _named_secrets(self, environments: Iterable[str], world: _World, pattern: str = "*") -> str:
        wanted = set(environments)
        paths = sorted(
            path
            for name, entries in world.secrets_by_name.items()
            if _name_matches(name, pattern)
            for path, env in entries
            if env in wanted
        )
        return ", ".join(paths[:4]) + (", ..." if len(paths) > 4 else "")

    # ---- the rule ----

    def check(self, stacks: Sequence[SynthesizedStack]) -> Iterable[Finding]:
        world = self._world(stacks)
        for stack in stacks:
            env = world.stack_env.get(stack.construct_path)
            yield from self._grant_findings(stack, env, world)
            yield from self._deny_policy_findings(stack, world)

    def _grant_findings(self, stack: SynthesizedStack, env: str | None, world: _World) -> Iterator[Finding]:
        for logical_id, location, document in _policy_documents(stack):
            for index, statement in _statements(document):
                if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
                    continue
                granted = {
                    "secret": matched_actions(statement, SECRET_ACTIONS),
                    "key": matched_actions(statement, KEY_ACTIONS),
                }
                if not granted["secret"] and not granted["key"]:
                    continue
                scoped_to = _resource_tag_scope(statement)
                entries = ["*"] if "NotResource" in statement else _listed(statement.get("Resource"))
                for entry in entries:
                    resolved = self._resolve(entry, stack, world)
                    if resolved is None:
                        continue
                    for target in self._targets(resolved, world):
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

    def _deny_policy_findings(self, stack: SynthesizedStack, world: _World) -> Iterator[Finding]:
        policies: dict[str, list[Mapping[str, Any]]] = {}
        for _, policy in stack.resources_of_type("AWS::SecretsManager::ResourcePolicy"):
            properties = policy.get("Properties") or {}
            target = self._resolve(properties.get("SecretId"), stack, world)
            if isinstance(target, _Ref):
                target = self._follow_attachment(target, world)
                policies.setdefault(target.logical_id, []).append(properties.get("ResourcePolicy") or {})
        for logical_id, _ in stack.resources_of_type("AWS::SecretsManager::Secret"):
            env = self._secret_env(stack, logical_id, world)
            if not any(_denies_other_environments(document, env) for document in policies.get(logical_id, [])):
                yield self.finding(
                    stack,
                    f"{ErrorCode.SECRET_ACCESS_DENIED.value}: secret {stack.construct_path_of(logical_id)} "
                    f"(environment {env or 'unknown'}) has no resource policy denying principals whose "
                    f"{PRINCIPAL_ENVIRONMENT} differs",
                    logical_id=logical_id,
                )


def _name_matches(name: str, pattern: str) -> bool:
    """Whether an ARN's name part can name this secret; Secrets Manager appends `-` and 6 characters."""
    return (
        fnmatch.fnmatchcase(name, pattern)
        or fnmatch.fnmatchcase(f"{name}-AbCdEf", pattern)
        or re.fullmatch(re.escape(name) + r"-[A-Za-z0-9]{6}", pattern) is not None
    )


def _combine(by_name: frozenset[str] | None, by_account: frozenset[str], world: _World) -> frozenset[str]:
    """Environments a resource pattern reaches, from its name (if it names one) and its account.

    A wildcard account, or one the named environment shares, adds nothing to what the name says;
    the account of other environments only does.
    """
    if by_name is None:
        return by_account
    if len(by_account) == len(world.environments) or by_account & by_name:
        return by_name
    return by_name | by_account


def _resource_tag_scope(statement: Mapping[str, Any]) -> frozenset[str] | None:
    """Environments a statement is limited to by a StringEquals on the resource's environment tag."""
    for operator, conditions in (statement.get("Condition") or {}).items():
        if operator not in ("StringEquals", "ForAnyValue:StringEquals"):
            continue
        for key, values in (conditions or {}).items():
            if key.lower() in _RESOURCE_TAG_KEYS:
                return frozenset(str(value) for value in _listed(values))
    return None


def _denies_other_environments(document: Mapping[str, Any], environment: str | None) -> bool:
    for _, statement in _statements(document):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Deny":
            continue
        principal = statement.get("Principal")
        if principal not in ("*", {"AWS": "*"}) or not matched_actions(statement, ("secretsmanager:GetSecretValue",)):
            continue
        values = ((statement.get("Condition") or {}).get("StringNotEquals") or {}).get(PRINCIPAL_ENVIRONMENT)
        if values is not None and (environment is None or environment in _listed(values)):
            return True
    return False
