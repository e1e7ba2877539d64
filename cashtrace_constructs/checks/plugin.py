"""`CashTraceChecks`: our correctness-property rules as a CDK policy-validation plugin.

Validation plugins see every template of the app, Stages included, and make both `cdk synth`
and in-process `app.synth()` fail; findings land in `cdk.out/validation-report.json` beside
cdk-nag's.
"""

from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import (
    CfnElement,
    IPolicyValidationContext,
    IPolicyValidationPlugin,
    PolicyValidationPluginReport,
    PolicyViolatingResource,
    PolicyViolation,
    Stack,
)
from constructs import IConstruct

from cashtrace_constructs.checks.rule import Finding, Rule, SynthesizedStack


def evaluate(rules: Sequence[Rule], stacks: Sequence[SynthesizedStack]) -> list[Finding]:
    """All findings of `rules` over `stacks`; the plugin and the tests share this."""
    return [finding for rule in rules for finding in rule.check(stacks)]


def _stack_tags(app: IConstruct, construct_path: str) -> dict[str, str]:
    """Stack-level tags, read from the finished construct tree (templates do not carry them)."""
    node: IConstruct = app
    for segment in construct_path.split("/"):
        node = node.node.find_child(segment)
    return dict(node.tags.tag_values()) if isinstance(node, Stack) else {}


class _ConstructPaths:
    """Construct path of a finding's resource: the template's `aws:cdk:path` metadata where CDK wrote
    it (`cdk synth` does), else looked up in the construct tree, so acknowledgments match either way."""

    def __init__(self, app: IConstruct) -> None:
        self._app = app
        self._by_stack: dict[str, dict[str, str]] = {}

    def of(self, finding: Finding) -> str:
        resource = finding.stack.resources.get(finding.logical_id or "") or {}
        if finding.logical_id is None or "aws:cdk:path" in (resource.get("Metadata") or {}):
            return finding.where
        stack_path = finding.stack.construct_path
        if stack_path not in self._by_stack:
            node: IConstruct = self._app
            for segment in stack_path.split("/"):
                node = node.node.find_child(segment)
            stack = Stack.of(node)
            self._by_stack[stack_path] = {
                stack.get_logical_id(element): element.node.path
                for element in node.node.find_all()
                if isinstance(element, CfnElement) and Stack.of(element) is stack
            }
        return self._by_stack[stack_path].get(finding.logical_id, finding.where)


@jsii.implements(IPolicyValidationPlugin)
class CashTraceChecks:
    def __init__(self, rules: Sequence[Rule]) -> None:
        self._rules = tuple(rules)

    @property
    def name(self) -> str:
        return "CashTraceChecks"

    @property
    def version(self) -> str:
        return "1.0.0"

    @property
    def rule_ids(self) -> list[str]:
        return [rule.rule_id for rule in self._rules]

    def validate(self, context: IPolicyValidationContext) -> PolicyValidationPluginReport:
        stacks = [
            SynthesizedStack.load(
                item.template_path,
                construct_path=item.stack_construct_path,
                region=item.region,
                account=item.account_id,
                tags=_stack_tags(context.app_construct, item.stack_construct_path),
            )
            for item in context.stack_templates
        ]
        findings = evaluate(self._rules, stacks)
        rules = {rule.rule_id: rule for rule in self._rules}
        paths = _ConstructPaths(context.app_construct)
        violations = [
            PolicyViolation(
                rule_name=finding.rule_id,
                description=finding.message,
                fix=rules[finding.rule_id].fix or None,
                severity="error",
                violating_resources=[
                    PolicyViolatingResource(
                        locations=[finding.location],
                        construct_path=paths.of(finding),
                        template_path=finding.stack.template_path,
                    )
                ],
            )
            for finding in findings
        ]
        return PolicyValidationPluginReport(success=not violations, violations=violations, plugin_version=self.version)
