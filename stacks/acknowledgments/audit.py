"""`audited(plugin)`: the plugin, failing for each acknowledgment of its rules that suppresses none of its findings.

CDK suppresses findings after every plugin has run: a violating construct takes the closest
acknowledgment of `<plugin name>::<rule name>` on itself or an ancestor (aws-cdk-lib
core/lib/private/synthesis-validation `collectSuppressions`). The wrapper runs the plugin, makes the
same match against the acknowledgments the cloud assembly records in each stack's metadata, and
reports the ones that match nothing as findings of that plugin, so `cdk synth` and in-process
`app.synth()` both fail. Acknowledgments on a Stage or the App itself are in no stack's metadata
and go unchecked. It also records that the plugin ran, over which templates and with what verdict
(`cashtrace_constructs/checks/ran.py`), which `make synth` prints and the tests require.

Cost on the whole app: reading and matching take ~25 ms. Wrapping a JS plugin costs more, because
jsii hands its report to Python one property per round trip: ~0.6 s for the three nag packs'
~930 findings before suppression.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import (
    IPolicyValidationContext,
    IPolicyValidationPlugin,
    PolicyValidationPluginReport,
    PolicyValidationStack,
    PolicyViolatingResource,
    PolicyViolation,
    Validations,
)

from cashtrace_constructs.checks.ran import PluginRun, assembly_root, fingerprint, record_run

UNUSED_ACKNOWLEDGMENT = "UnusedAcknowledgment"
# Read once: each read of a jsii static is a round trip to the Node process.
ACKNOWLEDGED_RULES = Validations.ACKNOWLEDGED_RULES_METADATA_KEY

# (construct path, namespaced rule id) -> template path
Acknowledged = dict[tuple[str, str], str]


def _stack_metadata(template_path: Path, manifests: dict[Path, Mapping[str, Any]]) -> Mapping[str, Any]:
    """The construct metadata of the stack whose template is `template_path` (path -> entries)."""
    directory = template_path.parent
    if directory not in manifests:
        manifests[directory] = json.loads((directory / "manifest.json").read_text())
    for artifact in manifests[directory]["artifacts"].values():
        if artifact.get("properties", {}).get("templateFile") == template_path.name:
            # CDK writes a stack's metadata to this file, and leaves it out when there is none.
            metadata_file = artifact.get("additionalMetadataFile")
            return json.loads((directory / metadata_file).read_text()) if metadata_file else {}
    raise LookupError(f"no artifact of {directory / 'manifest.json'} has the template {template_path.name}")


def recorded_acknowledgments(stacks: Iterable[PolicyValidationStack], namespace: str) -> Acknowledged:
    """Every acknowledgment of a rule in `namespace` made in `stacks`, as the assembly recorded it."""
    found: Acknowledged = {}
    manifests: dict[Path, Mapping[str, Any]] = {}
    for stack in stacks:
        for path, entries in _stack_metadata(Path(stack.template_path), manifests).items():
            for entry in entries:
                if entry["type"] != ACKNOWLEDGED_RULES:
                    continue
                for rule in entry["data"]:
                    if rule.startswith(f"{namespace}::"):
                        found[(path.removeprefix("/"), rule)] = stack.template_path
    return found


def _suppressible(violation: PolicyViolation) -> bool:
    severity = (violation.severity or "").lower()
    annotation = "cdk:annotation" in (violation.rule_metadata or {})
    return severity != "fatal" and not (annotation and severity == "error")


def suppressing(
    violations: Sequence[PolicyViolation], acknowledged: Iterable[tuple[str, str]], namespace: str
) -> set[tuple[str, str]]:
    """The acknowledgments that suppress at least one of `violations`: for each violating construct,
    the closest one of its rule on the construct or an ancestor, as CDK picks it."""
    paths_by_rule: dict[str, set[str]] = {}
    for path, rule in acknowledged:
        paths_by_rule.setdefault(rule, set()).add(path)
    used: set[tuple[str, str]] = set()
    for violation in violations:
        rule = f"{namespace}::{violation.rule_name.replace(' ', '-')}"
        paths = paths_by_rule.get(rule)
        if not paths or not _suppressible(violation):
            continue
        for resource in violation.violating_resources:
            path = resource.construct_path or ""
            while path not in paths and path:
                path = path.rpartition("/")[0]
            if path in paths:
                used.add((path, rule))
    return used


def unsuppressed(violations: Sequence[PolicyViolation], acknowledged: Iterable[tuple[str, str]], namespace: str) -> int:
    """How many (finding, resource) pairs no acknowledgment suppresses: what makes synthesis fail."""
    paths_by_rule: dict[str, set[str]] = {}
    for path, rule in acknowledged:
        paths_by_rule.setdefault(rule, set()).add(path)
    count = 0
    for violation in violations:
        paths = paths_by_rule.get(f"{namespace}::{violation.rule_name.replace(' ', '-')}", set())
        for resource in violation.violating_resources:
            path = resource.construct_path or ""
            while path not in paths and path:
                path = path.rpartition("/")[0]
            if path not in paths or not _suppressible(violation):
                count += 1
    return count


def _unused(path: str, rule: str, template_path: str) -> PolicyViolation:
    return PolicyViolation(
        rule_name=UNUSED_ACKNOWLEDGMENT,
        description=f"the acknowledgment of {rule} on {path} suppresses nothing: no finding of that rule "
        "is reported there",
        fix="Delete the acknowledgment (stacks/acknowledgments/), or make its condition match the config "
        "values that produce the finding.",
        # Fatal: CDK lets no acknowledgment suppress it, so a stale entry cannot be waved through.
        severity="fatal",
        violating_resources=[PolicyViolatingResource(construct_path=path, template_path=template_path, locations=[])],
    )


@jsii.implements(IPolicyValidationPlugin)
class AuditedPlugin:
    """Same name, version and findings as `plugin`, plus one finding per acknowledgment that suppresses nothing."""

    def __init__(self, plugin: IPolicyValidationPlugin) -> None:
        self._plugin = plugin

    @property
    def name(self) -> str:
        return self._plugin.name

    @property
    def version(self) -> str | None:
        return self._plugin.version

    @property
    def rule_ids(self) -> list[str] | None:
        return self._plugin.rule_ids

    def validate(self, context: IPolicyValidationContext) -> PolicyValidationPluginReport:
        report = self._plugin.validate(context)
        # CDK's namespace for a plugin: its name with spaces as dashes.
        namespace = self.name.replace(" ", "-")
        stacks = list(context.stack_templates)
        acknowledged = recorded_acknowledgments(stacks, namespace)
        violations = list(report.violations)
        used = suppressing(violations, acknowledged, namespace)
        unused = sorted(acknowledged.keys() - used)
        root = assembly_root(stack.template_path for stack in stacks)
        record_run(
            PluginRun(
                plugin=self.name,
                version=self.version,
                rules=len(self.rule_ids) if self.rule_ids else None,
                templates={
                    str(Path(stack.template_path).resolve().relative_to(root)): fingerprint(Path(stack.template_path))
                    for stack in stacks
                },
                findings=sum(len(violation.violating_resources) for violation in violations),
                unsuppressed=unsuppressed(violations, acknowledged, namespace) + len(unused),
                acknowledgments=len(used),
            ),
            root,
        )
        if not unused:
            return report
        return PolicyValidationPluginReport(
            success=False,
            violations=[*report.violations, *(_unused(path, rule, acknowledged[path, rule]) for path, rule in unused)],
            metadata=report.metadata,
            plugin_version=report.plugin_version,
        )


def audited(plugin: IPolicyValidationPlugin) -> IPolicyValidationPlugin:
    return AuditedPlugin(plugin)
