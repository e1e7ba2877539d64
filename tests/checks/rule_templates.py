"""Running one rule over a hand-written template, for the template-level rule tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cashtrace_constructs.checks import Rule, SynthesizedStack, evaluate


def findings(
    rule: Rule, resources: Mapping[str, Any], *, environment: str = "prod", name: str = "CashTrace-Prod"
) -> list[str]:
    """`where: message` of every finding of `rule` over a template made of `resources`."""
    stack = SynthesizedStack(
        name=name,
        construct_path=name,
        template={"Resources": dict(resources)},
        region="af-south-1",
        tags={"environment": environment},
    )
    return [f"{finding.where}: {finding.message}" for finding in evaluate([rule], [stack])]
