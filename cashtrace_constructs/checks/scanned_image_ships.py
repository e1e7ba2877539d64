"""Property 3 (security scan), bound to what ships: the pipeline deploys only the image its gate scanned.

In every pipeline that deploys stacks, a security gate step (`python -m tools.image_scan_gate
--digest ...`) must run before the first deploy, and every task definition container of every
stack the pipeline deploys that runs an image from a private ECR registry must run exactly
`<pipeline account>.dkr.ecr.<region>.<suffix>/<gated repository>@<gated digest>`. Public images
(the Grafana and ADOT sidecars) are not release images and are not judged here.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cashtrace_constructs.checks.rule import Finding, Rule, SynthesizedStack
from cashtrace_constructs.checks.staging_before_prod import PipelineAction, pipeline_actions
from cashtrace_constructs.checks.template import of_type, properties, resources_of
from cashtrace_constructs.errors import ErrorCode

GATE_MODULE = "tools.image_scan_gate"
_PRIVATE_ECR = ".dkr.ecr."
_IMAGE_RE = re.compile(
    r"^(?P<account>[^.]+)\.dkr\.ecr\.(?P<region>[^.]+)\.[^/]+/(?P<repository>[^@:]+)"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64})|:(?P<tag>.+))?$"
)


@dataclass(frozen=True)
class SecurityGate:
    """A pipeline action that runs the image scan gate, and what it checks."""

    action: PipelineAction
    repository: str | None
    digest: str | None

    @property
    def image(self) -> str:
        return f"{self.repository}@{self.digest}"


@dataclass(frozen=True)
class ShippedImage:
    """A container image of a task definition, as far as the template states it."""

    text: str
    account: str | None = None
    repository: str | None = None
    digest: str | None = None
    tag: str | None = None

    @property
    def private(self) -> bool:
        return _PRIVATE_ECR in self.text


def image_text(value: Any) -> str:
    """A container's `Image` as text; intrinsics other than joins are written `${...}`."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and "Fn::Join" in value:
        delimiter, parts = value["Fn::Join"]
        return str(delimiter).join(image_text(part) for part in parts)
    if isinstance(value, Mapping) and "Ref" in value:
        return "${" + str(value["Ref"]) + "}"
    return "${" + json.dumps(value, sort_keys=True) + "}"


def shipped_image(value: Any) -> ShippedImage:
    text = image_text(value)
    match = _IMAGE_RE.match(text)
    if not match:
        return ShippedImage(text=text)
    return ShippedImage(text=text, **{key: match.group(key) for key in ("account", "repository", "digest", "tag")})


def task_images(template: Mapping[str, Any]) -> Iterator[tuple[str, str, ShippedImage]]:
    """(task definition logical id, container name, image) of every container in a template."""
    for logical_id, task in of_type(template, "AWS::ECS::TaskDefinition"):
        for container in properties(task).get("ContainerDefinitions") or []:
            yield logical_id, str(container.get("Name")), shipped_image(container.get("Image"))


def gate_command(project: Mapping[str, Any]) -> list[str] | None:
    """The gate's command line in a CodeBuild project's build spec, split into words, if it runs the gate."""
    spec = (properties(project).get("Source") or {}).get("BuildSpec")
    if not isinstance(spec, str):
        return None
    try:
        phases = json.loads(spec).get("phases") or {}
    except json.JSONDecodeError:
        return None
    for phase in phases.values():
        for command in (phase or {}).get("commands") or []:
            words = shlex.split(str(command))
            if GATE_MODULE in words:
                return words
    return None


def _option(words: Sequence[str], name: str) -> str | None:
    for index, word in enumerate(words):
        if word == name and index + 1 < len(words):
            return words[index + 1]
        if word.startswith(f"{name}="):
            return word.split("=", 1)[1]
    return None


def security_gates(template: Mapping[str, Any], actions: Sequence[PipelineAction]) -> list[SecurityGate]:
    """The actions of a pipeline that run the image scan gate, with the repository and digest each checks."""
    resources = resources_of(template)
    gates = []
    for action in actions:
        if action.provider != "CodeBuild":
            continue
        project_ref = action.configuration.get("ProjectName")
        project = resources.get(project_ref.get("Ref", "")) if isinstance(project_ref, Mapping) else None
        words = gate_command(project) if project else None
        if words is not None:
            gates.append(SecurityGate(action, _option(words, "--repository"), _option(words, "--digest")))
    return gates


def deployed_templates(actions: Sequence[PipelineAction]) -> dict[str, PipelineAction]:
    """Template file name (without `.template.json`) -> the first CloudFormation action that deploys it."""
    deployed: dict[str, PipelineAction] = {}
    for action in actions:
        if (action.category, action.provider) != ("Deploy", "CloudFormation"):
            continue
        path = str(action.configuration.get("TemplatePath", ""))
        name = path.split("::", 1)[-1].rsplit("/", 1)[-1].removesuffix(".template.json")
        if name:
            deployed.setdefault(name, action)
    return deployed


class ScannedImageShips(Rule):
    rule_id = "CT-P3-ScannedImageShips"
    property_name = "Property 3 (security scan)"
    description = (
        "Every stack a pipeline deploys runs, from private ECR, only the image digest its security gate checks."
    )
    fix = (
        "Build the pipeline with CashTracePipelineStack from one release manifest (`-c release=release.json`): "
        "it pins every environment and the SecurityGate step to the manifest's digest."
    )

    def check(self, stacks: Sequence[SynthesizedStack]) -> Iterable[Finding]:
        by_name = {stack.name: stack for stack in stacks}
        for stack in stacks:
            for logical_id, pipeline in of_type(stack.template, "AWS::CodePipeline::Pipeline"):
                for problem in self.problems(stack, pipeline_actions(pipeline), by_name):
                    yield self.finding(
                        stack,
                        f"{ErrorCode.CI_FAILED.value}: {problem}",
                        logical_id=logical_id,
                        location=f"Resources.{logical_id}.Properties.Stages",
                    )

    def problems(
        self, pipeline: SynthesizedStack, actions: Sequence[PipelineAction], by_name: Mapping[str, SynthesizedStack]
    ) -> Iterator[str]:
        deployed = deployed_templates(actions)
        if not deployed:
            return
        gates = security_gates(pipeline.template, actions)
        if not gates:
            yield f"deploys {sorted(deployed)} with no security gate step ({GATE_MODULE}) before them"
            return
        checked = {(gate.repository, gate.digest) for gate in gates}
        if len(checked) != 1 or None in next(iter(checked)):
            yield f"its security gates must check one repository and digest, got {sorted(map(str, checked))}"
            return
        gate = min(gates, key=lambda g: (g.action.stage_index, g.action.run_order))
        for name, action in sorted(deployed.items()):
            if not gate.action.precedes(action):
                yield f"{action.label} deploys before the security gate {gate.action.label} has run"
            shipped = by_name.get(name)
            if shipped is None:
                yield f"{action.label} deploys the template {name}, which is not in the cloud assembly"
            else:
                yield from self._shipped(pipeline, shipped, gate)

    @staticmethod
    def _shipped(pipeline: SynthesizedStack, shipped: SynthesizedStack, gate: SecurityGate) -> Iterator[str]:
        images = list(task_images(shipped.template))
        if images and not any(image.private for _, _, image in images):
            yield f"{shipped.construct_path} runs no image from the release repository the gate checked"
        for task_id, container, image in images:
            if not image.private:
                continue
            where = f"{shipped.construct_path_of(task_id)} container {container!r}"
            if image.digest is None:
                yield f"{where} runs {image.text!r}, not pinned to the gated digest {gate.digest}"
            elif (image.repository, image.digest) != (gate.repository, gate.digest):
                yield f"{where} runs {image.repository}@{image.digest}, the gate checks {gate.image}"
            elif pipeline.account and image.account != pipeline.account:
                yield f"{where} pulls from account {image.account}; the gate scans the repository in {pipeline.account}"
