"""What an IAM grant's Resource entry can reach, across every template of the app (Property 6).

`SecretWorld` knows each stack's environment and account, the exports and the named secrets; it
resolves a Resource entry (literal ARN, Ref, GetAtt, import, weak cross-stack reference, Join,
Sub) to the secrets and KMS keys it names, and to the environments that own them.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cashtrace_constructs.checks.rule import SynthesizedStack
from cashtrace_constructs.checks.template import Resource, listed, of_type, properties
from cashtrace_constructs.config import ENVIRONMENT_NAMES

_SECRET_NAME = re.compile(r"^cashtrace/([a-z0-9-]+)/")
_KEY_ALIAS = re.compile(r"^alias/cashtrace/([a-z0-9-]+)/")
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_GLOB = re.compile(r"[*?\[]")
_PSEUDO = ("AWS::Partition", "AWS::Region", "AWS::AccountId", "AWS::URLSuffix")
# Nested intrinsics deeper than this are not followed (the entry is then not judged).
_MAX_DEPTH = 5


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


@dataclass(frozen=True)
class Target:
    """What one Resource entry of a grant can reach: secrets or keys of some environments."""

    kind: str  # "secret" | "key"
    environments: frozenset[str]
    description: str


@dataclass(frozen=True)
class Reference:
    """A resource of one stack, named by Ref / GetAtt (possibly through an import)."""

    stack: SynthesizedStack
    logical_id: str

    @property
    def resource(self) -> Resource:
        return self.stack.resources.get(self.logical_id) or {}


def pseudo_parameter(name: str, stack: SynthesizedStack) -> str:
    """A pseudo parameter's value as far as the template knows it ("*" where it does not)."""
    if name == "AWS::AccountId":
        return stack.account or "*"
    if name == "AWS::Region":
        return stack.region or "*"
    if name == "AWS::Partition":
        return "aws"
    if name == "AWS::URLSuffix":
        return "amazonaws.com"
    return "*"


def _name_matches(name: str, pattern: str) -> bool:
    """Whether an ARN's name part can name this secret; Secrets Manager appends `-` and 6 characters."""
    return (
        fnmatch.fnmatchcase(name, pattern)
        or fnmatch.fnmatchcase(f"{name}-AbCdEf", pattern)
        or re.fullmatch(re.escape(name) + r"-[A-Za-z0-9]{6}", pattern) is not None
    )


@dataclass
class SecretWorld:
    """What Property 6 knows across all templates: environments, their accounts, exports, secrets."""

    environments: tuple[str, ...]
    stack_env: dict[str, str | None] = field(default_factory=dict)
    accounts: dict[str, set[str]] = field(default_factory=dict)
    exports: dict[str, tuple[SynthesizedStack, Any]] = field(default_factory=dict)
    by_stack_name: dict[str, SynthesizedStack] = field(default_factory=dict)
    secrets_by_name: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @classmethod
    def of(cls, stacks: Sequence[SynthesizedStack], environments: Sequence[str]) -> SecretWorld:
        world = cls(tuple(environments))
        for stack in stacks:
            # Weak references name the stack as deployed: artifact id, or the path joined with "-".
            world.by_stack_name[stack.name] = stack
            world.by_stack_name[stack.construct_path.replace("/", "-")] = stack
            env = stack_environment(stack, world.environments)
            world.stack_env[stack.construct_path] = env
            if env and stack.account and not _GLOB.search(stack.account) and stack.account.isdigit():
                world.accounts.setdefault(stack.account, set()).add(env)
            for output in (stack.template.get("Outputs") or {}).values():
                name = (output.get("Export") or {}).get("Name")
                if isinstance(name, str):
                    world.exports[name] = (stack, output.get("Value"))
        for stack in stacks:
            for logical_id, secret in of_type(stack.template, "AWS::SecretsManager::Secret"):
                name = properties(secret).get("Name")
                if isinstance(name, str):
                    world.secrets_by_name.setdefault(name, []).append(
                        (stack.construct_path_of(logical_id), world.secret_environment(stack, logical_id) or "")
                    )
        return world

    def environment_of(self, stack: SynthesizedStack) -> str | None:
        return self.stack_env.get(stack.construct_path)

    def envs_of_account(self, account: str) -> frozenset[str]:
        if not account or _GLOB.search(account):
            return frozenset(self.environments)
        return frozenset(self.accounts.get(account, set()))

    def secret_environment(self, stack: SynthesizedStack, logical_id: str) -> str | None:
        """A secret's environment: its cashtrace/<env>/ name, else its environment tag, else its stack's."""
        props = properties(stack.resources.get(logical_id) or {})
        name = props.get("Name")
        if isinstance(name, str) and (match := _SECRET_NAME.match(name)):
            return match.group(1)
        for tag in props.get("Tags") or []:
            if tag.get("Key") == "environment" and isinstance(tag.get("Value"), str):
                return str(tag["Value"])
        return self.environment_of(stack)

    # ---- resolving a Resource entry ----

    def resolve(self, value: Any, stack: SynthesizedStack, depth: int = 0) -> str | Reference | None:
        """A literal (with what the template knows filled in), a resource, or None when unknowable."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(value, str):
            return value
        if not isinstance(value, Mapping) or len(value) != 1:
            return None
        ((function, argument),) = value.items()
        if function == "Ref":
            if argument in _PSEUDO:
                return pseudo_parameter(argument, stack)
            return Reference(stack, argument) if argument in stack.resources else None
        if function == "Fn::GetAtt":
            target = argument[0] if isinstance(argument, list) else str(argument).split(".")[0]
            return Reference(stack, target) if target in stack.resources else None
        if function == "Fn::ImportValue":
            name = self.resolve(argument, stack, depth + 1)
            if isinstance(name, str) and name in self.exports:
                exporter, exported = self.exports[name]
                return self.resolve(exported, exporter, depth + 1)
            return None
        if function == "Fn::GetStackOutput" and isinstance(argument, Mapping):
            # CDK's weak cross-stack references (@aws-cdk/core:defaultCrossStackReferences).
            producer = self.by_stack_name.get(str(argument.get("StackName")))
            output = ((producer.template.get("Outputs") or {}) if producer else {}).get(argument.get("OutputName"))
            if producer is not None and output is not None:
                return self.resolve(output.get("Value"), producer, depth + 1)
            return None
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
            parts = [self.resolve(part, stack, depth + 1) for part in listed(argument[1])]
            # `<secret ARN>-??????` and similar: a reference plus literal decoration is that resource.
            found = [part for part in parts if isinstance(part, Reference)]
            if found:
                return found[0]
            return str(argument[0]).join(part if isinstance(part, str) else "*" for part in parts)
        if function == "Fn::Sub" and isinstance(argument, str):
            for reference in re.findall(r"\$\{([^}!]+)\}", argument):
                logical_id = reference.split(".")[0]
                if logical_id in stack.resources:
                    return Reference(stack, logical_id)
            return re.sub(r"\$\{([^}]+)\}", lambda m: pseudo_parameter(m.group(1), stack), argument)
        return None

    def follow_attachment(self, reference: Reference) -> Reference:
        """A SecretTargetAttachment's Ref is its secret's ARN: judge the secret."""
        if reference.resource.get("Type") == "AWS::SecretsManager::SecretTargetAttachment":
            target = self.resolve(properties(reference.resource).get("SecretId"), reference.stack)
            if isinstance(target, Reference) and target != reference:
                return target
        return reference

    # ---- what a resolved entry can reach ----

    def targets(self, resolved: str | Reference) -> list[Target]:
        if isinstance(resolved, Reference):
            return self._reference_targets(resolved)
        if resolved == "*":
            everything = frozenset(self.environments)
            return [
                Target("secret", everything, f"'*' (every secret, e.g. {self._named_secrets(everything)})"),
                Target("key", everything, "'*' (every KMS key of every environment)"),
            ]
        parts = resolved.split(":", 5)
        if len(parts) < 6 or parts[0] != "arn":
            return []
        _, _, service, _, account, resource = parts
        targets: list[Target] = []
        if fnmatch.fnmatchcase("secretsmanager", service):
            targets.extend(self._secret_arn_targets(resolved, account, resource))
        if fnmatch.fnmatchcase("kms", service):
            targets.extend(self._key_arn_targets(resolved, account, resource))
        return targets

    def _reference_targets(self, reference: Reference) -> list[Target]:
        reference = self.follow_attachment(reference)
        kind = reference.resource.get("Type")
        path = reference.stack.construct_path_of(reference.logical_id)
        if kind == "AWS::SecretsManager::Secret":
            owner = self.secret_environment(reference.stack, reference.logical_id)
            return [Target("secret", frozenset({owner} if owner else ()), f"secret {path}")]
        if kind == "AWS::KMS::Key":
            env = self.environment_of(reference.stack)
            return [Target("key", frozenset({env} if env else ()), f"KMS key {path}")]
        return []

    def _secret_arn_targets(self, arn: str, account: str, resource: str) -> list[Target]:
        if resource.startswith("secret:"):
            name = resource.removeprefix("secret:")
        elif fnmatch.fnmatchcase("secret:x", resource):
            name = "*"
        else:
            return []
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
        environments = self._combine(by_name, self.envs_of_account(account))
        examples = self._named_secrets(environments, pattern=name)
        return [Target("secret", environments, f"{arn}{f' (matches {examples})' if examples else ''}")]

    def _key_arn_targets(self, arn: str, account: str, resource: str) -> list[Target]:
        match = _KEY_ALIAS.match(resource)
        by_alias = frozenset({match.group(1)}) if match and not _GLOB.search(match.group(1)) else None
        return [Target("key", self._combine(by_alias, self.envs_of_account(account)), arn)]

    def _combine(self, by_name: frozenset[str] | None, by_account: frozenset[str]) -> frozenset[str]:
        """Environments a resource pattern reaches, from its name (if it names one) and its account.

        A wildcard account, or one the named environment shares, adds nothing to what the name says;
        the account of other environments only does.
        """
        if by_name is None:
            return by_account
        if len(by_account) == len(self.environments) or by_account & by_name:
            return by_name
        return by_name | by_account

    def _named_secrets(self, environments: Iterable[str], pattern: str = "*") -> str:
        wanted = set(environments)
        paths = sorted(
            path
            for name, entries in self.secrets_by_name.items()
            if _name_matches(name, pattern)
            for path, env in entries
            if env in wanted
        )
        return ", ".join(paths[:4]) + (", ..." if len(paths) > 4 else "")
