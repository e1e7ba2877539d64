"""The ten correctness properties: what enforces each one and its result in this synth.

Properties 4-10 are judged at synth time by our rules (`cashtrace_constructs/checks/`), which run
here again over cdk.out (milliseconds) so a passing plugin, which CDK leaves out of
validation-report.json, still has a result. Properties 1-3 are enforced in CI and the pipeline;
their result is whether the repository and the pipeline template still configure the enforcement.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cashtrace_constructs.checks import Finding, Rule, default_rules, evaluate
from cashtrace_constructs.checks.template import of_type, properties
from cashtrace_constructs.config import DEFAULT_ALLOWED_REGIONS
from tools.evidence.assembly import ROOT, Assembly, Stack

PLUGIN = "CashTraceChecks"
PASSED, FAILED = "passed", "failed"
_RULE_PROPERTY = re.compile(r"^CT-P(\d+)-")
COVERAGE_REQUIRED = 80  # the design's Property 2


@dataclass(frozen=True)
class RuleResult:
    rule_id: str
    description: str
    findings: tuple[str, ...]

    @property
    def result(self) -> str:
        return FAILED if self.findings else PASSED


@dataclass(frozen=True)
class PropertyResult:
    number: int
    name: str
    result: str
    enforced_by: tuple[str, ...]
    rules: tuple[RuleResult, ...] = ()
    evidence: tuple[str, ...] = ()
    findings: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"rules": [asdict(rule) | {"result": rule.result} for rule in self.rules]}


def property_number(rule: Rule) -> int | None:
    match = _RULE_PROPERTY.match(rule.rule_id)
    return int(match.group(1)) if match else None


def _relevant(finding: Finding, stack: Stack) -> bool:
    """A finding on this environment's stack (top-level or staged) or on the pipeline that deploys it."""
    tags = finding.stack.tags
    return (
        tags.get("environment") in (stack.environment, "pipeline")
        or finding.stack.construct_path == stack.hierarchical_id
    )


def rule_results(assembly: Assembly, stack: Stack, rules: Sequence[Rule]) -> dict[str, RuleResult]:
    """Each rule's findings relevant to `stack`: our evaluation over cdk.out plus whatever the report holds."""
    found: dict[str, list[str]] = {rule.rule_id: [] for rule in rules}
    for finding in evaluate(rules, [s.synthesized() for s in assembly.stacks]):
        if _relevant(finding, stack):
            found[finding.rule_id].append(str(finding))
    # A construct path belongs to the stack with the longest matching id (staged stacks sit inside the pipeline's).
    owners = sorted(assembly.stacks, key=lambda s: len(s.hierarchical_id), reverse=True)
    for report in assembly.validation_report.get("pluginReports", []):
        if report.get("pluginName") != PLUGIN:
            continue
        for violation in report.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                path = str(construct.get("constructPath", ""))
                text = f"[{violation['ruleName']}] {path}: {violation.get('description', '')}"
                owner = next((s for s in owners if f"{path}/".startswith(f"{s.hierarchical_id}/")), None)
                relevant = owner is not None and owner.environment in (stack.environment, "pipeline")
                if relevant and text not in found.setdefault(violation["ruleName"], []):
                    found[violation["ruleName"]].append(text)
    return {rule.rule_id: RuleResult(rule.rule_id, rule.description, tuple(found[rule.rule_id])) for rule in rules}


def _ci_gate(root: Path, assembly: Assembly) -> tuple[list[str], list[str]]:
    workflow = yaml.safe_load((root / ".github/workflows/ci.yml").read_text())
    jobs = workflow.get("jobs") or {}
    gate = next((job_id for job_id, job in jobs.items() if (job or {}).get("name") == "ci-gate"), None)
    ruleset = json.loads((root / ".github/rulesets/main.json").read_text())
    required = [
        check.get("context")
        for rule in ruleset.get("rules", [])
        if rule.get("type") == "required_status_checks"
        for check in (rule.get("parameters") or {}).get("required_status_checks", [])
    ]
    evidence = [f".github/rulesets/main.json requires the status checks {required}"]
    if gate is None:
        return evidence, ["ci.yml has no job named ci-gate"]
    needs = set(jobs[gate].get("needs") or [])
    missing = sorted(set(jobs) - needs - {gate})
    evidence.append(f"ci.yml job ci-gate needs {sorted(needs)}")
    findings = [f"ci-gate does not need {missing}"] if missing else []
    if "ci-gate" not in required:
        findings.append("the main ruleset does not require ci-gate")
    return evidence, findings


def _coverage(root: Path, assembly: Assembly) -> tuple[list[str], list[str]]:
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    fail_under = (((pyproject.get("tool") or {}).get("coverage") or {}).get("report") or {}).get("fail_under")
    evidence = [f"pyproject.toml [tool.coverage.report] fail_under = {fail_under}; `make test` runs pytest --cov"]
    ok = isinstance(fail_under, (int, float)) and fail_under >= COVERAGE_REQUIRED
    return evidence, [] if ok else [f"fail_under is {fail_under}, below {COVERAGE_REQUIRED}"]


def _security(root: Path, assembly: Assembly) -> tuple[list[str], list[str]]:
    policy = yaml.safe_load((root / "security/policy.yaml").read_text())
    evidence = [
        f"security/policy.yaml fails the build at {policy.get('fail_at')} and above "
        "(`make security`, CI job security-scan)"
    ]
    gates = [
        command
        for stack in assembly.stacks
        for _, project in of_type(stack.template, "AWS::CodeBuild::Project")
        for command in re.findall(r"python -m tools\.image_scan_gate[^\"\n]*", str(properties(project).get("Source")))
    ]
    evidence += [f"pipeline step: `{command}`" for command in sorted(set(gates))]
    return evidence, [] if gates else ["no pipeline step runs tools.image_scan_gate"]


CI_PROPERTIES: Mapping[int, tuple[str, str, Callable[[Path, Assembly], tuple[list[str], list[str]]]]] = {
    1: ("Property 1 (CI gate)", "GitHub Actions job ci-gate + the main branch ruleset", _ci_gate),
    2: (
        "Property 2 (coverage >= 80%)",
        "coverage fail_under in pyproject.toml, run by `make test` in CI and the pipeline",
        _coverage,
    ),
    3: ("Property 3 (security scan)", "`make security` in CI and the pipeline's image scan gate", _security),
}


def evaluate_properties(
    assembly: Assembly,
    stack: Stack,
    *,
    rules: Sequence[Rule] | None = None,
    root: Path = ROOT,
    extra_evidence: Mapping[int, Sequence[str]] | None = None,
) -> tuple[list[PropertyResult], list[RuleResult]]:
    """The ten properties in order, and the results of our rules that belong to no property."""
    rules = list(rules if rules is not None else default_rules(DEFAULT_ALLOWED_REGIONS))
    results = rule_results(assembly, stack, rules)
    extra = extra_evidence or {}
    out: list[PropertyResult] = []
    for number, (name, mechanism, check) in CI_PROPERTIES.items():
        evidence, findings = check(root, assembly)
        out.append(
            PropertyResult(
                number, name, FAILED if findings else PASSED, (mechanism,), (), tuple(evidence), tuple(findings)
            )
        )
    for number in range(4, 11):
        owned = [rule for rule in rules if property_number(rule) == number]
        rule_list = tuple(results[rule.rule_id] for rule in owned)
        failed = any(rule.findings for rule in rule_list)
        out.append(
            PropertyResult(
                number,
                owned[0].property_name if owned else f"Property {number}",
                FAILED if failed or not owned else PASSED,
                tuple(f"{rule.rule_id} (our synth-time rule)" for rule in owned) or ("NO RULE ENFORCES IT",),
                rule_list,
                tuple(extra.get(number, ())),
                tuple(finding for rule in rule_list for finding in rule.findings),
            )
        )
    others = [results[rule.rule_id] for rule in rules if property_number(rule) is None]
    return out, others
