"""CashTrace-Pipeline as synthesized in the session app: order, source, gate, tests, record, refusals."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.cx_api import CloudAssembly

from cashtrace_constructs.checks.template import of_type
from cashtrace_constructs.config import PipelineConfig
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.logical_ids import stack_prefix, without_absolute_ids
from cashtrace_constructs.promotion_gate import RECORD_READER_ROLE_NAME, RECORD_TABLE_PARAMETER
from cashtrace_constructs.release_manifest import PLACEHOLDER_DIGEST
from stacks import environments
from stacks.pipeline_stack import CashTracePipelineStack
from stacks.pipeline_steps import cdk_cli_version, pinned_requirement
from tests.synth import make_app

PIPELINE = "CashTrace-Pipeline"


@pytest.fixture(scope="module")
def template(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return templates[PIPELINE]


@pytest.fixture(scope="module")
def stages(template: dict[str, Any]) -> list[dict[str, Any]]:
    (pipeline,) = [r["Properties"] for _, r in of_type(template, "AWS::CodePipeline::Pipeline")]
    assert pipeline["PipelineType"] == "V2"
    return list(pipeline["Stages"])


def _actions(stages: list[dict[str, Any]], name: str) -> list[tuple[str, str, int]]:
    (stage,) = [s for s in stages if s["Name"] == name]
    return [(a["Name"], a["ActionTypeId"]["Provider"], a["RunOrder"]) for a in stage["Actions"]]


def _project(
    template: dict[str, Any], pipeline_stage: str, action: str, stages: list[dict[str, Any]]
) -> dict[str, Any]:
    (stage,) = [s for s in stages if s["Name"] == pipeline_stage]
    (config,) = [a["Configuration"] for a in stage["Actions"] if a["Name"] == action]
    # A copy: the templates are shared by the whole session (snapshots included).
    properties: dict[str, Any] = dict(template["Resources"][config["ProjectName"]["Ref"]]["Properties"])
    properties["_action_configuration"] = config
    return properties


def test_stages_run_synth_update_assets_staging_approval_prod(stages: list[dict[str, Any]]) -> None:
    assert [s["Name"] for s in stages] == [
        "Source", "Build", "UpdatePipeline", "Assets", "Staging", "Approval", "Prod"
    ]  # fmt: skip
    assert _actions(stages, "Staging") == [
        ("SecurityGate", "CodeBuild", 1),
        ("CashTrace-Staging.Prepare", "CloudFormation", 2),
        ("CashTrace-Staging.Deploy", "CloudFormation", 3),
        ("IntegrationTests", "CodeBuild", 4),
    ]
    assert _actions(stages, "Approval") == [("Approve", "Manual", 1)]
    assert _actions(stages, "Prod") == [
        ("CashTrace-Prod.Prepare", "CloudFormation", 1),
        ("CashTrace-Prod.Deploy", "CloudFormation", 2),
        ("SmokeTests", "CodeBuild", 3),
    ]


def test_stage_stacks_are_the_environment_stacks_in_their_own_accounts(
    cloud_assembly: CloudAssembly, stages: list[dict[str, Any]]
) -> None:
    top = {stack.stack_name: stack for stack in cloud_assembly.stacks}
    nested = {
        s.stack_name: s for s in cloud_assembly.stacks_recursively if s.hierarchical_id.startswith(PIPELINE + "/")
    }
    assert set(nested) == {"CashTrace-Staging", "CashTrace-Prod"}
    for name, stack in nested.items():
        assert stack.environment.account == top[name].environment.account
        assert stack.environment.region == "af-south-1"
    assert top[PIPELINE].environment.account not in {s.environment.account for s in nested.values()}


def test_source_is_an_event_triggered_versioned_encrypted_s3_object(
    template: dict[str, Any], stages: list[dict[str, Any]]
) -> None:
    (source,) = stages[0]["Actions"]
    config = source["Configuration"]
    assert source["ActionTypeId"]["Provider"] == "S3" and config["S3ObjectKey"] == "source/cashtrace.zip"
    assert config["PollForSourceChanges"] is False
    bucket = template["Resources"][config["S3Bucket"]["Ref"]]["Properties"]
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    assert bucket["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"] is True
    assert (
        bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"][
            "SSEAlgorithm"
        ]
        == "aws:kms"
    )
    assert all(bucket["PublicAccessBlockConfiguration"].values()) and "LoggingConfiguration" in bucket
    rules = [
        r["Properties"]
        for _, r in of_type(template, "AWS::Events::Rule")
        if r["Properties"].get("EventPattern", {}).get("source") == ["aws.s3"]
    ]
    (rule,) = rules
    assert rule["EventPattern"]["detail"]["object"]["key"] == ["source/cashtrace.zip"]
    assert rule["Targets"][0]["Arn"]["Fn::Join"][1][-1] == {
        "Ref": next(iter(k for k, _ in of_type(template, "AWS::CodePipeline::Pipeline")))
    }


def test_synth_installs_from_lock_files_runs_tests_cdk_synth_and_the_evidence(
    template: dict[str, Any], stages: list[dict[str, Any]]
) -> None:
    project = _project(template, "Build", "Synth", stages)
    spec = json.loads(project["Source"]["BuildSpec"])
    assert spec["phases"]["install"]["commands"] == ["make deps"]
    assert spec["phases"]["build"]["commands"] == [
        "make test",
        "make synth RELEASE=release.json",
        "make evidence ENV='dev staging prod'",
    ]
    # The synth pins every environment to the digest of the release.json CI put in the source zip;
    # the evidence travels with the assembly it describes, and is each build's CodeBuild test report.
    assert spec["artifacts"]["base-directory"] == "cdk.out" and spec["artifacts"]["files"] == ["**/*"]
    (report,) = spec["reports"].values()
    assert report == {"files": ["*.junit.xml"], "base-directory": "cdk.out/evidence", "file-format": "JUNITXML"}
    environment = project["Environment"]
    assert environment["Image"] == "aws/codebuild/standard:7.0" and environment["PrivilegedMode"] is False
    assert "EncryptionKey" in project


def test_self_mutation_uses_the_cli_pinned_in_package_json(
    template: dict[str, Any], stages: list[dict[str, Any]]
) -> None:
    version = json.loads(Path("package.json").read_text())["devDependencies"]["aws-cdk"]
    assert cdk_cli_version() == version
    spec = _project(template, "UpdatePipeline", "SelfMutate", stages)["Source"]["BuildSpec"]
    assert f"aws-cdk@{version}" in spec


def test_security_gate_checks_the_release_image_at_the_configured_threshold(
    template: dict[str, Any], stages: list[dict[str, Any]]
) -> None:
    project = _project(template, "Staging", "SecurityGate", stages)
    (command,) = json.loads(project["Source"]["BuildSpec"])["phases"]["build"]["commands"]
    assert command.startswith("python -m tools.image_scan_gate --repository cashtrace/api")
    # The module the step runs exists in the source the step checks out, as a runnable package.
    assert importlib.util.find_spec(f"{command.split()[2]}.__main__") is not None
    assert "--threshold HIGH" in command and "--release-manifest release.json" in command
    # The digest the stage templates pin (the session app has no release: the placeholder, which the gate refuses).
    assert f"--digest {PLACEHOLDER_DIGEST}" in command
    statements = [
        statement
        for _, policy in of_type(template, "AWS::IAM::Policy")
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "ecr:DescribeImageScanFindings" in statement["Action"]
    ]
    (statement,) = statements
    (repository_id,) = [
        logical_id
        for logical_id, repository in of_type(template, "AWS::ECR::Repository")
        if repository["Properties"]["RepositoryName"] == "cashtrace/api"
    ]
    assert statement["Resource"] == {"Fn::GetAtt": [repository_id, "Arn"]}


def test_integration_tests_call_the_staging_url_from_its_stack_output(
    template: dict[str, Any], stages: list[dict[str, Any]], templates: dict[str, dict[str, Any]]
) -> None:
    project = _project(template, "Staging", "IntegrationTests", stages)
    spec = json.loads(project["Source"]["BuildSpec"])
    assert spec["phases"]["build"]["commands"] == [
        "python -m pytest tests/integration --confcutdir=tests/integration -p no:cacheprovider -q"
    ]
    variables = json.loads(project["_action_configuration"]["EnvironmentVariables"])
    (url,) = [v for v in variables if v["name"] == "CASHTRACE_BASE_URL"]
    assert url["value"].endswith(".ServiceUrl}") or "ServiceUrl" in url["value"]
    smoke = _project(template, "Prod", "SmokeTests", stages)
    smoke_spec = json.loads(smoke["Source"]["BuildSpec"])
    assert "tests/smoke" in smoke_spec["phases"]["build"]["commands"][0]
    # /version is checked against the manifest of the release being tested.
    for tests in (project, smoke):
        variables = {v["Name"]: v["Value"] for v in tests["Environment"]["EnvironmentVariables"]}
        assert variables["CASHTRACE_RELEASE_MANIFEST"] == "release.json"
    # The tests (and the deployment record) call each environment's HTTPS domain.
    for name, url in (
        ("CashTrace-Staging", "https://staging.cashtrace.ng"),
        ("CashTrace-Prod", "https://app.cashtrace.ng"),
    ):
        assert templates[name]["Outputs"]["ServiceUrl"]["Value"] == url


def test_failures_and_pending_approvals_notify_an_encrypted_topic(template: dict[str, Any]) -> None:
    ((topic_id, topic),) = list(of_type(template, "AWS::SNS::Topic"))
    assert "KmsMasterKeyId" in topic["Properties"]
    to_topic = [
        r["Properties"]["EventPattern"]
        for _, r in of_type(template, "AWS::Events::Rule")
        if {"Ref": topic_id} in [target["Arn"] for target in r["Properties"]["Targets"]]
    ]
    assert sorted((p["detail-type"][0], json.dumps(p["detail"], sort_keys=True)) for p in to_topic) == [
        ("CodePipeline Action Execution State Change", '{"state": ["STARTED"], "type": {"category": ["Approval"]}}'),
        ("CodePipeline Pipeline Execution State Change", '{"state": ["FAILED"]}'),
    ]
    # Not available in af-south-1: CloudFormation would reject the stack.
    assert not list(of_type(template, "AWS::CodeStarNotifications::NotificationRule"))


def test_notifications_reach_the_configured_addresses_as_sentences_with_a_link(template: dict[str, Any]) -> None:
    ((topic_id, _),) = list(of_type(template, "AWS::SNS::Topic"))
    subscribers = [r["Properties"] for _, r in of_type(template, "AWS::SNS::Subscription")]
    assert [(s["Protocol"], s["Endpoint"], s["TopicArn"]) for s in subscribers] == [
        ("email", address, {"Ref": topic_id}) for address in environments.pipeline().notification_emails
    ]
    messages = {
        r["Properties"]["EventPattern"]["detail"]["state"][0]: json.dumps(
            r["Properties"]["Targets"][0]["InputTransformer"]
        )
        for _, r in of_type(template, "AWS::Events::Rule")
        if r["Properties"]["Targets"][0]["Arn"] == {"Ref": topic_id}
    }
    assert "waits for approval" in messages["STARTED"] and "FAILED" in messages["FAILED"]
    assert all("console.aws.amazon.com/codesuite/codepipeline" in message for message in messages.values())


def test_the_pipeline_stack_outputs_what_github_and_a_first_release_need(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    (role,) = [i for i, r in of_type(template, "AWS::IAM::Role") if "ReleaseRole" in i]
    (bucket,) = [i for i, _ in of_type(template, "AWS::S3::Bucket") if i.startswith("Source")]
    (repository,) = [i for i, _ in of_type(template, "AWS::ECR::Repository")]
    assert outputs["GitHubReleaseRoleArn"]["Value"] == {"Fn::GetAtt": [role, "Arn"]}
    assert outputs["SourceBucketName"]["Value"] == {"Ref": bucket}
    uri = json.dumps(outputs["ReleaseRepositoryUri"]["Value"])
    assert ".dkr.ecr." in uri and f'{{"Ref": "{repository}"}}' in uri
    assert "NotificationsTopicArn" in outputs


def test_deployment_record_table_is_encrypted_recoverable_and_protected(template: dict[str, Any]) -> None:
    (table,) = [r["Properties"] for _, r in of_type(template, "AWS::DynamoDB::GlobalTable")]
    assert [r["Region"] for r in table["Replicas"]] == ["af-south-1"]
    replica = table["Replicas"][0]
    assert replica["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert replica["DeletionProtectionEnabled"] is True
    assert table["SSESpecification"]["SSEType"] == "KMS"


def test_state_changes_of_pipeline_stages_approvals_and_codedeploy_reach_the_recorder(template: dict[str, Any]) -> None:
    functions = {logical_id for logical_id, _ in of_type(template, "AWS::Lambda::Function")}
    patterns = [
        r["Properties"]["EventPattern"]
        for _, r in of_type(template, "AWS::Events::Rule")
        # Scheduled rules (the delivery metrics) have no event pattern.
        if "EventPattern" in r["Properties"]
        and any(t["Arn"].get("Fn::GetAtt", [""])[0] in functions for t in r["Properties"]["Targets"])
    ]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for pattern in patterns:
        by_type.setdefault(pattern["detail-type"][0], []).append(pattern)
    assert len(patterns) == 6
    (stages,) = by_type["CodePipeline Stage Execution State Change"]
    assert stages["detail"]["stage"] == ["Prod", "Staging"]
    actions = {tuple(p["detail"]["stage"]): p["detail"] for p in by_type["CodePipeline Action Execution State Change"]}
    assert actions[("Approval",)]["type"] == {"category": ["Approval"]}
    # Each stage's live tests: the prod promotion gate requires staging's to have passed.
    assert actions[("Prod", "Staging")]["action"] == ["IntegrationTests", "SmokeTests"]
    (codedeploy,) = by_type["CodeDeploy Deployment State-change Notification"]
    assert codedeploy["account"] == ["222222222222", "333333333333"]
    policies = [r["Properties"] for _, r in of_type(template, "AWS::Events::EventBusPolicy")]
    assert {p["Statement"]["Principal"]["AWS"] for p in policies} == {
        "arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"
    }  # fmt: skip
    sources = ["aws.codedeploy", "cashtrace.deployment-health", "cashtrace.promotion-gate"]
    assert all(p["Statement"]["Condition"] == {"StringEquals": {"events:source": sources}} for p in policies)
    # The deploy hook's results of each rollout and the prod gate's decisions, from the same accounts.
    ((results,), (decisions,)) = (
        by_type["CashTrace Deployment Health Checks"],
        by_type["CashTrace Promotion Gate Decision"],
    )
    assert results["source"] == ["cashtrace.deployment-health"] and results["account"] == codedeploy["account"]
    assert decisions["source"] == ["cashtrace.promotion-gate"] and decisions["account"] == codedeploy["account"]
    recorder = next(
        r["Properties"]["Environment"]["Variables"]
        for _, r in of_type(template, "AWS::Lambda::Function")
        if "TEST_ACTIONS" in r["Properties"].get("Environment", {}).get("Variables", {})
    )
    assert json.loads(recorder["TEST_ACTIONS"]) == {"Prod": "SmokeTests", "Staging": "IntegrationTests"}


def test_the_prod_gate_may_read_the_record_and_nothing_else(template: dict[str, Any]) -> None:
    """Least privilege across accounts: one role, trusted by prod's gate role only, GetItem and Query on the
    record's table and index, decrypting through DynamoDB only, and the parameter naming the table."""
    (role_id, role), *others = [
        (logical_id, r["Properties"])
        for logical_id, r in of_type(template, "AWS::IAM::Role")
        if r["Properties"].get("RoleName") == RECORD_READER_ROLE_NAME
    ]
    assert others == []
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": "arn:aws:iam::333333333333:root"} and trust["Action"] == "sts:AssumeRole"
    (gate_role,) = trust["Condition"]["ArnEquals"]["aws:PrincipalArn"]
    assert gate_role["Fn::Join"][1][-1] == ":iam::333333333333:role/cashtrace-prod-promotion-gate"
    (policy,) = [
        r["Properties"]
        for _, r in of_type(template, "AWS::IAM::ManagedPolicy")
        if {"Ref": role_id} in r["Properties"].get("Roles", [])
    ]
    (table_id,) = [logical_id for logical_id, _ in of_type(template, "AWS::DynamoDB::GlobalTable")]
    table, reads, decrypt, parameter = {"Fn::GetAtt": [table_id, "Arn"]}, *policy["PolicyDocument"]["Statement"]
    assert reads["Action"] == ["dynamodb:GetItem", "dynamodb:Query"]
    assert reads["Resource"] == [table, {"Fn::Join": ["", [table, "/index/byEnvironment"]]}]
    assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": "dynamodb.af-south-1.amazonaws.com"}}
    assert parameter["Action"] == "ssm:GetParameter"
    (name,) = [r["Properties"] for _, r in of_type(template, "AWS::SSM::Parameter")]
    assert name["Name"] == RECORD_TABLE_PARAMETER and name["Value"] == {"Ref": table_id}


def test_delivery_metrics_are_published_on_a_schedule_from_the_record_and_shown_on_a_dashboard(
    template: dict[str, Any],
) -> None:
    functions = {
        logical_id: r["Properties"]
        for logical_id, r in of_type(template, "AWS::Lambda::Function")
        if "ENVIRONMENTS" in r["Properties"].get("Environment", {}).get("Variables", {})
    }
    ((function_id, function),) = functions.items()
    variables = function["Environment"]["Variables"]
    assert json.loads(variables["ENVIRONMENTS"]) == ["staging", "prod"]
    assert json.loads(variables["APPROVAL_GATED"]) == ["prod"] and variables["WINDOW_DAYS"] == "30"
    (table_id,) = [logical_id for logical_id, _ in of_type(template, "AWS::DynamoDB::GlobalTable")]
    assert variables["TABLE_NAME"] == {"Ref": table_id}
    (schedule,) = [
        r["Properties"]
        for _, r in of_type(template, "AWS::Events::Rule")
        if r["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    ]
    assert schedule["ScheduleExpression"] == "rate(1 hour)"
    role = function["Role"]["Fn::GetAtt"][0]
    actions = {
        action
        for _, policy in of_type(template, "AWS::IAM::Policy")
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    dynamodb = {action for action in actions if action.startswith("dynamodb:")}
    assert "dynamodb:Query" in dynamodb and not dynamodb & {"dynamodb:PutItem", "dynamodb:UpdateItem"}
    (dashboard,) = [r["Properties"] for _, r in of_type(template, "AWS::CloudWatch::Dashboard")]
    body = json.dumps(dashboard["DashboardBody"])
    assert dashboard["DashboardName"] == "CashTrace-Delivery"
    for metric in ("DeploymentsPerWeek", "LeadTimeSeconds", "ChangeFailureRate", "TimeToRestoreSeconds"):
        assert metric in body
    assert "CashTrace/Delivery" in body and '\\"Environment\\",\\"prod\\"' in body


def test_pinned_requirements_come_from_pyproject() -> None:
    assert pinned_requirement("pytest").startswith("pytest==")
    with pytest.raises(DeploymentError) as error:
        pinned_requirement("not-a-dependency")
    assert error.value.code is ErrorCode.CONFIG_INVALID


def test_prod_without_staging_is_refused_before_any_resource_exists() -> None:
    app = make_app()
    config = PipelineConfig(account="444444444444", region="af-south-1", promotion=("prod",))
    with pytest.raises(DeploymentError) as error:
        CashTracePipelineStack(app, "Pipeline", config=config, environments=environments.all_environments())
    assert error.value.code is ErrorCode.APPROVAL_REQUIRED
    assert "Property 4" in str(error.value) and error.value.field == "pipeline.promotion[0]"
    assert not [c for c in app.node.find_all() if c.node.path.startswith("Pipeline/")]


def test_prod_added_without_approval_is_refused() -> None:
    app = make_app()
    config = PipelineConfig(account="444444444444", region="af-south-1", promotion=("staging",))
    stack = CashTracePipelineStack(app, "Pipeline", config=config, environments=environments.all_environments())
    with pytest.raises(DeploymentError) as error:
        stack.add_environment(environments.prod(), approval=False)
    assert error.value.code is ErrorCode.APPROVAL_REQUIRED and "manual approval" in str(error.value)
    assert stack.node.try_find_child("Prod") is None


def _without_names(template: dict[str, Any], stack_path: str) -> dict[str, Any]:
    """The template with this stack's own path written stack-relative.

    What remains path-derived after that is cosmetic and updated in place (Name tags, Lambda
    descriptions, scaling-policy names, the hosted rotation's security-group description).
    Logical ids, which decide replacement, must already be equal (logical_ids.py).
    """
    text = json.dumps(template).replace(f"{stack_path}/", "<stack>/").replace(f"({stack_path})", "(<stack>)")
    return _normalize_ids(json.loads(text), stack_prefix(stack_path))


def _normalize_ids(value: Any, prefix: str) -> Any:
    if isinstance(value, str):
        return without_absolute_ids(value, prefix)
    if isinstance(value, dict):
        return {key: _normalize_ids(item, prefix) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalize_ids(item, prefix) for item in value]
    return value


@pytest.mark.parametrize("environment", ["Staging", "Prod"])
def test_the_pipeline_deploys_the_same_stack_as_cdk_deploy(
    templates: dict[str, dict[str, Any]], environment: str
) -> None:
    staged_path = f"{PIPELINE}/{environment}/Environment"
    assert templates[staged_path]["Resources"].keys() == templates[f"CashTrace-{environment}"]["Resources"].keys()
    staged = _without_names(templates[staged_path], staged_path)
    direct = _without_names(templates[f"CashTrace-{environment}"], f"CashTrace-{environment}")
    for logical_id, resource in direct["Resources"].items():
        assert {k: v for k, v in staged["Resources"][logical_id].items() if k != "Metadata"} == {
            k: v for k, v in resource.items() if k != "Metadata"
        }, logical_id


def test_promoted_environments_forward_codedeploy_events_to_the_pipeline_account(
    templates: dict[str, dict[str, Any]],
) -> None:
    for name, forwards in (("CashTrace-Dev", False), ("CashTrace-Staging", True), ("CashTrace-Prod", True)):
        rules = [
            r["Properties"]
            for _, r in of_type(templates[name], "AWS::Events::Rule")
            if "aws.codedeploy" in r["Properties"].get("EventPattern", {}).get("source", [])
        ]
        assert bool(rules) is forwards, name
        # The deploy hook's health checks travel with the CodeDeploy events.
        assert all("cashtrace.deployment-health" in r["EventPattern"]["source"] for r in rules)
        for rule in rules:
            (target,) = rule["Targets"]
            assert target["Arn"] == "arn:aws:events:af-south-1:444444444444:event-bus/default"
            assert "RoleArn" in target
            # The grant is one managed policy, scoped to the pipeline account's bus.
            managed = [
                p["Properties"]["PolicyDocument"]["Statement"]
                for _, p in of_type(templates[name], "AWS::IAM::ManagedPolicy")
                if "events:PutEvents" in json.dumps(p)
            ]
            assert managed == [[{"Action": "events:PutEvents", "Effect": "Allow", "Resource": target["Arn"]}]]


def test_the_pipelines_own_synth_renders_the_stacks_it_was_deployed_with(template: dict[str, Any]) -> None:
    (variables,) = [
        {v["Name"]: v["Value"] for v in project["Properties"]["Environment"].get("EnvironmentVariables", [])}
        for _, project in of_type(template, "AWS::CodeBuild::Project")
        if "make synth" in project["Properties"]["Source"].get("BuildSpec", "")
    ]
    configs = {config.name: config for config in environments.all_environments()}
    for name in ("staging", "prod"):
        zone = configs[name].endpoint.hosted_zone
        assert zone is not None and variables[f"CASHTRACE_{name.upper()}_HOSTED_ZONE_ID"] == zone.zone_id
        assert variables[f"CASHTRACE_{name.upper()}_ACCOUNT"] == configs[name].infrastructure.account
    assert variables["CASHTRACE_NOTIFICATION_EMAILS"] == ",".join(environments.pipeline().notification_emails)
    # Read back by stacks/environments.py, they give the same configs.
    assert environments.prod({"hosted-zone-id.prod": variables["CASHTRACE_PROD_HOSTED_ZONE_ID"]}) == configs["prod"]
