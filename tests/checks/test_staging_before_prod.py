"""Property 4 rule: prod only after a staging deployment, its integration tests and a manual approval."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from aws_cdk import Stack, Stage, Validations, pipelines
from aws_cdk import aws_codepipeline_actions as codepipeline_actions
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs

from cashtrace_constructs.checks import CashTraceChecks, StagingBeforeProd, SynthesizedStack, evaluate
from cashtrace_constructs.checks.template import of_type
from tests.synth import TEST_ENV, make_app


def _action(name: str, category: str, provider: str, run_order: int = 1, **configuration: str) -> dict[str, Any]:
    return {
        "Name": name,
        "ActionTypeId": {"Category": category, "Owner": "AWS", "Provider": provider, "Version": "1"},
        "RunOrder": run_order,
        "Configuration": configuration,
    }


def _deploy(stack: str, mode: str, run_order: int) -> dict[str, Any]:
    return _action(f"{stack}.{mode}", "Deploy", "CloudFormation", run_order, StackName=stack, ActionMode=mode)


def _stages(*stages: tuple[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "Resources": {
            "Pipeline": {
                "Type": "AWS::CodePipeline::Pipeline",
                "Properties": {"Stages": [{"Name": name, "Actions": actions} for name, actions in stages]},
            }
        }
    }


STAGING = (
    "Staging",
    [
        _action("SecurityGate", "Build", "CodeBuild", 1),
        _deploy("CashTrace-Staging", "CHANGE_SET_REPLACE", 2),
        _deploy("CashTrace-Staging", "CHANGE_SET_EXECUTE", 3),
        _action("IntegrationTests", "Build", "CodeBuild", 4),
    ],
)
APPROVAL = ("Approval", [_action("Approve", "Approval", "Manual")])
PROD = (
    "Prod",
    [
        _deploy("CashTrace-Prod", "CHANGE_SET_REPLACE", 1),
        _deploy("CashTrace-Prod", "CHANGE_SET_EXECUTE", 2),
        _action("SmokeTests", "Build", "CodeBuild", 3),
    ],
)
SOURCE = ("Source", [_action("Source", "Source", "S3")])


def _findings(template: dict[str, Any]) -> list[str]:
    stack = SynthesizedStack(name="CashTrace-Pipeline", construct_path="CashTrace-Pipeline", template=template)
    return [finding.message for finding in evaluate([StagingBeforeProd()], [stack])]


def test_staging_tests_approval_prod_is_compliant() -> None:
    assert _findings(_stages(SOURCE, STAGING, APPROVAL, PROD)) == []


def test_approval_inside_the_prod_stage_before_its_deployment_is_compliant() -> None:
    prod = (
        "Prod",
        [_action("Approve", "Approval", "Manual", 1), *(dict(a, RunOrder=a["RunOrder"] + 1) for a in PROD[1])],
    )
    assert _findings(_stages(SOURCE, STAGING, prod)) == []


def test_a_pipeline_that_never_reaches_prod_is_not_judged() -> None:
    assert _findings(_stages(SOURCE, STAGING)) == []


def test_missing_approval_is_a_property_4_finding() -> None:
    (message,) = _findings(_stages(SOURCE, STAGING, PROD))
    assert message.startswith("Property 4 (staging validation): DEPLOY_APPROVAL_REQUIRED")
    assert "manual approval" in message and "Prod/CashTrace-Prod.CHANGE_SET_REPLACE" in message


def test_missing_staging_stage_is_a_property_4_finding() -> None:
    (message,) = _findings(_stages(SOURCE, APPROVAL, PROD))
    assert "without a staging deployment" in message


def test_prod_before_staging_is_a_property_4_finding() -> None:
    assert any("without a staging deployment" in m for m in _findings(_stages(SOURCE, APPROVAL, PROD, STAGING)))


def test_missing_integration_tests_is_a_property_4_finding() -> None:
    staging = ("Staging", STAGING[1][:3])
    (message,) = _findings(_stages(SOURCE, staging, APPROVAL, PROD))
    assert "no integration-test action" in message


def test_staging_running_in_parallel_with_prod_does_not_count() -> None:
    together = (
        "Both",
        [_deploy("CashTrace-Staging", "CHANGE_SET_EXECUTE", 1), _deploy("CashTrace-Prod", "CHANGE_SET_EXECUTE", 1)],
    )
    assert any("without a staging deployment" in m for m in _findings(_stages(SOURCE, together)))


def test_a_prepared_but_never_executed_staging_change_set_does_not_count() -> None:
    staging = (
        "Staging",
        [_deploy("CashTrace-Staging", "CHANGE_SET_REPLACE", 1), _action("Tests", "Build", "CodeBuild", 2)],
    )
    assert any("without a staging deployment" in m for m in _findings(_stages(SOURCE, staging, APPROVAL, PROD)))


def test_the_real_pipeline_is_compliant_and_fails_without_its_approval_or_staging(
    templates: dict[str, dict[str, Any]],
) -> None:
    real = templates["CashTrace-Pipeline"]
    assert _findings(real) == []
    without_approval = copy.deepcopy(real)
    without_staging = copy.deepcopy(real)
    for template, dropped in ((without_approval, "Approval"), (without_staging, "Staging")):
        for _, resource in of_type(template, "AWS::CodePipeline::Pipeline"):
            stages = resource["Properties"]["Stages"]
            resource["Properties"]["Stages"] = [stage for stage in stages if stage["Name"] != dropped]
    assert any("manual approval" in m for m in _findings(without_approval))
    assert any("without a staging deployment" in m for m in _findings(without_staging))


@pytest.mark.synth
def test_a_pipeline_built_around_the_guard_fails_synthesis_naming_property_4() -> None:
    """Bypassing CashTracePipelineStack (plain CDK Pipelines, prod without approval) still cannot synthesize."""
    app = make_app()
    stack = Stack(app, "Pipeline", env=TEST_ENV)
    bucket = s3.Bucket(stack, "Source")
    pipeline = pipelines.CodePipeline(
        stack,
        "Pipeline",
        synth=pipelines.ShellStep(
            "Synth",
            input=pipelines.CodePipelineSource.s3(bucket, "source.zip", trigger=codepipeline_actions.S3Trigger.NONE),
            commands=["cdk synth"],
        ),
    )
    prod = Stage(app, "Prod", env=TEST_ENV)
    sqs.Queue(Stack(prod, "Environment", stack_name="CashTrace-Prod"), "Queue")
    pipeline.add_stage(prod)
    Validations.of(app).add_plugins(CashTraceChecks([StagingBeforeProd()]))
    with pytest.raises(RuntimeError, match="ValidationFailed") as error:
        app.synth()
    assert "Property 4 (staging validation): DEPLOY_APPROVAL_REQUIRED" in str(error.value)
    assert "without a staging deployment" in str(error.value)
