"""The evidence of one environment as data (the JSON report); markdown.py renders it for people."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cashtrace_constructs.checks import Rule, default_rules
from cashtrace_constructs.checks.data_residency import DataResidency
from cashtrace_constructs.checks.data_store_residency import DataStoreResidency
from cashtrace_constructs.checks.template import of_type, properties
from cashtrace_constructs.config import DEFAULT_ALLOWED_REGIONS
from tools.evidence.acknowledgments import acknowledged
from tools.evidence.assembly import ROOT, Assembly, Stack
from tools.evidence.classification import no_user_data_reason
from tools.evidence.inventory import Store, keys, stores, unclassified_types
from tools.evidence.properties import FAILED, evaluate_properties
from tools.evidence.scanners import summary, timing
from tools.git import git

SCHEMA_VERSION = 1


def source_version(root: Path = ROOT) -> str | None:
    """The commit (or, in CodeBuild with an S3 source, the source object's version) the synth was built from."""
    if os.environ.get("CODEBUILD_RESOLVED_SOURCE_VERSION"):
        return os.environ["CODEBUILD_RESOLVED_SOURCE_VERSION"]
    return git(root, "rev-parse", "HEAD") or None


def _extra_evidence(assembly: Assembly, stack: Stack, inventory: Sequence[Store]) -> dict[int, list[str]]:
    """Facts of the synth that show a property's mechanism at work, beside its rule's verdict."""
    budget = timing(stack)
    resident = sum(1 for store in inventory if store.resident)
    secrets = sorted(
        str(properties(secret).get("Name", logical_id))
        for logical_id, secret in of_type(stack.template, "AWS::SecretsManager::Secret")
    )
    evidence: dict[int, list[str]] = {
        6: [f"the secrets of {stack.stack_name}: {', '.join(secrets) or 'none'}"],
        7: [f"{resident} of {len(inventory)} stores and carriers of {stack.stack_name} are resident (data inventory)"],
        8: [
            f"{store.path}: {item}" for store in inventory for item in store.backup if item.startswith("restore tested")
        ],
    }
    if budget["rollback_seconds"] is not None:
        evidence[5] = [
            f"worst-case rollback {budget['rollback_seconds']} s, budget {budget['rollback_budget_seconds']} s"
        ]
    if budget["scale_out_seconds"] is not None:
        evidence[9] = [
            f"worst-case scale-out {budget['scale_out_seconds']} s, budget {budget['scale_out_budget_seconds']} s"
        ]
    for pipeline in assembly.stacks:
        for _, resource in pipeline.resources.items():
            if resource.get("Type") == "AWS::CodePipeline::Pipeline":
                stages = [stage["Name"] for stage in resource.get("Properties", {}).get("Stages", [])]
                evidence[4] = [f"{pipeline.stack_name} runs the stages {' -> '.join(stages)}"]
    return evidence


def build(
    assembly: Assembly,
    environment: str,
    *,
    allowed_regions: Sequence[str] = DEFAULT_ALLOWED_REGIONS,
    rules: Sequence[Rule] | None = None,
    root: Path = ROOT,
) -> dict[str, Any]:
    """The evidence of `environment` from `assembly`, as JSON-ready data."""
    stack = assembly.stack_for(environment)
    rules = list(rules if rules is not None else default_rules(allowed_regions))
    residency_rules = [rule for rule in rules if isinstance(rule, (DataResidency, DataStoreResidency))]
    residency_findings = [finding for rule in residency_rules for finding in rule.check([stack.synthesized()])]
    inventory = stores(stack, allowed_regions, residency_findings)
    extra = _extra_evidence(assembly, stack, inventory)
    properties, other_rules = evaluate_properties(assembly, stack, rules=rules, root=root, extra_evidence=extra)
    scanners = summary(assembly, stack, rules, root)
    budget = timing(stack) if any(extra.get(n) for n in (5, 9)) else None
    unclassified = unclassified_types(stack)
    problems = [
        *(f"{p.name}: {finding}" for p in properties for finding in p.findings),
        *(f"{p.name}: no rule enforces it" for p in properties if p.result == FAILED and not p.findings),
        *(f"{rule.rule_id}: {finding}" for rule in other_rules for finding in rule.findings),
        *(f"{store.path}: {store.residency}" for store in inventory if not store.resident),
        *(f"{pack.name}: {pack.violations} unacknowledged findings" for pack in scanners.nag_packs if pack.violations),
        *(f"resource type {kind} is not classified (tools/evidence/classification.py)" for kind in unclassified),
    ]
    if budget is not None and not budget["within_budget"]:
        problems.append("over a timing budget (make budgets)")
    present_types = sorted({str(resource.get("Type")) for resource in stack.resources.values()})
    report = {
        "schemaVersion": SCHEMA_VERSION,
        "environment": environment,
        "stack": stack.stack_name,
        "account": stack.account,
        "region": stack.region,
        "allowedRegions": list(allowed_regions),
        "sourceVersion": source_version(root),
        "conclusion": "failed" if problems else "passed",
        "problems": problems,
        "inventory": [store.as_json() for store in inventory],
        "keys": [key.__dict__ for key in keys(stack)],
        "noUserData": {kind: reason for kind in present_types if (reason := no_user_data_reason(kind)) is not None},
        "unclassifiedTypes": unclassified,
        "properties": [p.as_json() for p in properties],
        "otherRules": [rule.__dict__ | {"result": rule.result} for rule in other_rules],
        "acknowledgments": {
            capability: [item.as_json() for item in items]
            for capability, items in acknowledged(assembly, stack).items()
        },
        "scanners": scanners.as_json(),
        "budgets": budget,
    }
    # JSON types only (tuples become lists), as a reader of the .json file sees it.
    return dict(json.loads(json.dumps(report)))
