"""What a correctness rule sees (synthesized stacks) and what it returns (findings)."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cashtrace_constructs.checks.template import Resources, resources_of


@dataclass(frozen=True)
class SynthesizedStack:
    """One synthesized stack: its template plus what the cloud assembly manifest says of it."""

    name: str
    construct_path: str
    template: Mapping[str, Any]
    region: str | None = None
    account: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    template_path: str | None = None

    @property
    def resources(self) -> Resources:
        return resources_of(self.template)

    def construct_path_of(self, logical_id: str) -> str:
        metadata = (self.resources.get(logical_id) or {}).get("Metadata") or {}
        return str(metadata.get("aws:cdk:path", f"{self.construct_path}/{logical_id}"))

    @classmethod
    def load(
        cls,
        template_path: str,
        *,
        construct_path: str,
        region: str | None = None,
        account: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> SynthesizedStack:
        path = Path(template_path)
        return cls(
            name=path.name.removesuffix(".template.json"),
            construct_path=construct_path,
            template=json.loads(path.read_text()),
            region=region,
            account=account,
            tags=dict(tags or {}),
            template_path=str(path),
        )


@dataclass(frozen=True)
class Finding:
    """One violation of one rule, located at a resource (or at the stack when `logical_id` is None)."""

    rule_id: str
    stack: SynthesizedStack
    message: str
    logical_id: str | None = None
    location: str = "Resources"

    @property
    def where(self) -> str:
        if self.logical_id is None:
            return self.stack.construct_path
        return self.stack.construct_path_of(self.logical_id)

    def __str__(self) -> str:
        return f"[{self.rule_id}] {self.where}: {self.message}"


class Rule(ABC):
    """A correctness property checked over every synthesized template of the app.

    Most rules look at one stack at a time (`check_stack`); rules that compare environments
    (secret isolation) or follow a pipeline into its stages override `check`.
    """

    rule_id: str
    property_name: str
    description: str
    fix: str = ""

    def check(self, stacks: Sequence[SynthesizedStack]) -> Iterable[Finding]:
        for stack in stacks:
            yield from self.check_stack(stack)

    def check_stack(self, stack: SynthesizedStack) -> Iterable[Finding]:
        return ()

    def finding(
        self, stack: SynthesizedStack, message: str, *, logical_id: str | None = None, location: str = "Resources"
    ) -> Finding:
        return Finding(
            rule_id=self.rule_id,
            stack=stack,
            message=f"{self.property_name}: {message}",
            logical_id=logical_id,
            location=location,
        )


class StackRule(Rule):
    """A rule that judges each stack on its own."""

    @abstractmethod
    def check_stack(self, stack: SynthesizedStack) -> Iterable[Finding]: ...
