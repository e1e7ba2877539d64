"""Property 3 bound to what ships: the pipeline's stages run only the digest its security gate checks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.cx_api import CloudAssembly

from cashtrace_constructs.checks import ScannedImageShips, SynthesizedStack, evaluate
from cashtrace_constructs.checks.scanned_image_ships import image_text, shipped_image
from cashtrace_constructs.checks.template import of_type
from tests.conftest import ViolationsOutcome
from tests.violations_app import HOTFIX_TAG

PIPELINE_ACCOUNT = "444444444444"
DIGEST = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64
ECR = f"{PIPELINE_ACCOUNT}.dkr.ecr.af-south-1."


def _image(suffix: str, account: str = PIPELINE_ACCOUNT) -> dict[str, Any]:
    # The shape CDK writes for an ECR image: the URL suffix is a pseudo parameter.
    return {"Fn::Join": ["", [f"{account}.dkr.ecr.af-south-1.", {"Ref": "AWS::URLSuffix"}, f"/{suffix}"]]}


def _stage(*images: Any) -> dict[str, Any]:
    containers = [{"Name": f"c{index}", "Image": image} for index, image in enumerate(images)]
    return {
        "Resources": {"Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"ContainerDefinitions": containers}}}
    }


def _action(name: str, category: str, provider: str, run_order: int, **configuration: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "ActionTypeId": {"Category": category, "Owner": "AWS", "Provider": provider, "Version": "1"},
        "RunOrder": run_order,
        "Configuration": configuration,
    }


def _deploy(stack: str, template: str, run_order: int) -> dict[str, Any]:
    return _action(
        f"{stack}.Prepare",
        "Deploy",
        "CloudFormation",
        run_order,
        StackName=stack,
        ActionMode="CHANGE_SET_REPLACE",
        TemplatePath=f"Synth_Output::assembly-P-{stack}/{template}.template.json",
    )


def _gate_project(command: str) -> dict[str, Any]:
    spec = {"version": "0.2", "phases": {"build": {"commands": [command]}}}
    return {"Type": "AWS::CodeBuild::Project", "Properties": {"Source": {"BuildSpec": json.dumps(spec)}}}


GATE_COMMAND = f"python -m tools.image_scan_gate --repository cashtrace/api --digest {DIGEST} --threshold HIGH"


def _pipeline(*stages: tuple[str, list[dict[str, Any]]], command: str = GATE_COMMAND) -> dict[str, Any]:
    return {
        "Resources": {
            "Gate": _gate_project(command),
            "Pipeline": {
                "Type": "AWS::CodePipeline::Pipeline",
                "Properties": {"Stages": [{"Name": name, "Actions": actions} for name, actions in stages]},
            },
        }
    }


GATE = _action("SecurityGate", "Build", "CodeBuild", 1, ProjectName={"Ref": "Gate"})
STAGING = ("Staging", [GATE, _deploy("CashTrace-Staging", "Staging1", 2)])
PROD = ("Prod", [_deploy("CashTrace-Prod", "Prod1", 1)])
GOOD_STAGE = _stage(_image(f"cashtrace/api@{DIGEST}"), "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3")


def _findings(
    pipeline: dict[str, Any], staging: dict[str, Any] = GOOD_STAGE, prod: dict[str, Any] = GOOD_STAGE
) -> list[str]:
    stacks = [
        SynthesizedStack(name="CashTrace-Pipeline", construct_path="P", template=pipeline, account=PIPELINE_ACCOUNT),
        SynthesizedStack(name="Staging1", construct_path="P/Staging/Environment", template=staging),
        SynthesizedStack(name="Prod1", construct_path="P/Prod/Environment", template=prod),
    ]
    return [finding.message for finding in evaluate([ScannedImageShips()], stacks)]


def test_stages_running_the_gated_digest_are_compliant() -> None:
    assert _findings(_pipeline(STAGING, PROD)) == []


def test_a_pipeline_that_deploys_nothing_is_not_judged() -> None:
    assert _findings(_pipeline(("Source", [_action("Source", "Source", "S3", 1)]))) == []


def test_removing_the_gate_is_a_finding() -> None:
    staging = ("Staging", [_deploy("CashTrace-Staging", "Staging1", 1)])
    (message,) = _findings(_pipeline(staging, PROD))
    assert message.startswith("Property 3 (security scan): DEPLOY_CI_FAILED")
    assert "no security gate step" in message


def test_a_gate_after_the_first_deploy_is_a_finding() -> None:
    staging = ("Staging", [_deploy("CashTrace-Staging", "Staging1", 1), dict(GATE, RunOrder=2)])
    (message,) = _findings(_pipeline(staging, PROD))
    assert "Staging/CashTrace-Staging.Prepare deploys before the security gate" in message


def test_a_stage_pinning_another_digest_is_a_finding() -> None:
    other = _stage(_image(f"cashtrace/api@{OTHER}"))
    (message,) = _findings(_pipeline(STAGING, PROD), prod=other)
    assert f"runs cashtrace/api@{OTHER}, the gate checks cashtrace/api@{DIGEST}" in message
    assert "P/Prod/Environment" in message


@pytest.mark.parametrize("suffix", ["cashtrace/api:v1.2.3", "cashtrace/api"], ids=["tag", "latest"])
def test_a_stage_running_a_tag_is_a_finding(suffix: str) -> None:
    (message,) = _findings(_pipeline(STAGING, PROD), staging=_stage(_image(suffix)))
    assert "not pinned to the gated digest" in message


def test_another_repository_or_account_is_a_finding() -> None:
    assert "the gate checks" in _findings(_pipeline(STAGING, PROD), prod=_stage(_image(f"cashtrace/other@{DIGEST}")))[0]
    elsewhere = _stage(_image(f"cashtrace/api@{DIGEST}", account="999999999999"))
    assert "pulls from account 999999999999" in _findings(_pipeline(STAGING, PROD), prod=elsewhere)[0]


def test_a_stage_running_only_public_images_ships_nothing_the_gate_checked() -> None:
    (message,) = _findings(_pipeline(STAGING, PROD), prod=_stage("grafana/grafana-oss:12.2.1"))
    assert "runs no image from the release repository" in message


def test_a_gate_without_a_digest_is_a_finding() -> None:
    command = "python -m tools.image_scan_gate --repository cashtrace/api --release-manifest release.json"
    (message,) = _findings(_pipeline(STAGING, PROD, command=command))
    assert "must check one repository and digest" in message


def test_a_deployed_template_missing_from_the_assembly_is_a_finding() -> None:
    prod = ("Prod", [_deploy("CashTrace-Prod", "Elsewhere", 1)])
    assert any("not in the cloud assembly" in m for m in _findings(_pipeline(STAGING, prod)))


def test_image_text_renders_joins_and_references() -> None:
    assert image_text(_image("cashtrace/api@" + DIGEST)) == f"{ECR}${{AWS::URLSuffix}}/cashtrace/api@{DIGEST}"
    image = shipped_image(_image("cashtrace/api@" + DIGEST))
    assert (image.account, image.repository, image.digest, image.tag) == (
        PIPELINE_ACCOUNT,
        "cashtrace/api",
        DIGEST,
        None,
    )
    assert shipped_image({"Fn::GetAtt": ["Repo", "Arn"]}).private is False


# ---- the real app ----------------------------------------------------------------------------


def _real(cloud_assembly: CloudAssembly) -> dict[str, SynthesizedStack]:
    """Every stack as the plugin loads it (a fresh copy of each template, free to edit)."""
    return {
        stack.hierarchical_id: SynthesizedStack.load(
            stack.template_full_path, construct_path=stack.hierarchical_id, account=stack.environment.account
        )
        for stack in cloud_assembly.stacks_recursively
    }


def test_the_real_pipeline_is_compliant_and_fails_without_its_gate_or_with_another_image(
    cloud_assembly: CloudAssembly,
) -> None:
    assert evaluate([ScannedImageShips()], list(_real(cloud_assembly).values())) == []

    without_gate = _real(cloud_assembly)
    for _, resource in of_type(without_gate["CashTrace-Pipeline"].template, "AWS::CodePipeline::Pipeline"):
        for pipeline_stage in resource["Properties"]["Stages"]:
            pipeline_stage["Actions"] = [a for a in pipeline_stage["Actions"] if a["Name"] != "SecurityGate"]
    findings = evaluate([ScannedImageShips()], list(without_gate.values()))
    assert any("no security gate step" in f.message for f in findings)

    other_image = _real(cloud_assembly)
    for _, task in of_type(other_image["CashTrace-Pipeline/Prod/Environment"].template, "AWS::ECS::TaskDefinition"):
        for container in task["Properties"]["ContainerDefinitions"]:
            container["Image"] = json.loads(json.dumps(container["Image"]).replace("@sha256:0", "@sha256:1"))
    (finding,) = evaluate([ScannedImageShips()], list(other_image.values()))
    assert "CashTrace-Pipeline/Prod/Environment" in finding.message and "the gate checks" in finding.message


def test_an_escape_hatch_pinning_prods_stage_to_a_tag_fails_synthesis_naming_only_prod(
    violations_outcome: ViolationsOutcome,
) -> None:
    """The violations app builds the pipeline's prod stage with its image overridden to a tag
    (tests/violations_app.py IN_STAGE): the gate's rule names that stage, and staging is not named."""
    assert violations_outcome.refused
    mine = [f for f in violations_outcome.findings if f.startswith(f"CashTraceChecks {ScannedImageShips.rule_id} ")]
    assert mine and all("DEPLOY_CI_FAILED" in f for f in mine), mine
    assert any("CashTrace-Pipeline/Prod/Environment" in f and f"/{HOTFIX_TAG}'" in f for f in mine), mine
    assert not any("Staging/Environment" in f for f in mine), mine
