"""`BlueGreenService` as composed into the real environment stacks (session templates, no extra synth)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cashtrace_constructs.checks.template import of_type
from cashtrace_constructs.release_manifest import PLACEHOLDER_DIGEST
from cashtrace_constructs.timing import LONGEST_REQUEST_METADATA, ROLLBACK_BUDGET_METADATA
from tests.conftest import ENVIRONMENT_STACKS

Templates = dict[str, dict[str, Any]]


def _one(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    """The API's one resource of this type (Grafana, the other service in the stack, has its own)."""
    [(_, resource)] = [(i, r) for i, r in of_type(template, resource_type) if not i.startswith("Grafana")]
    return resource["Properties"]


@pytest.mark.parametrize("name", ENVIRONMENT_STACKS)
def test_service_runs_on_fargate_in_private_subnets_under_codedeploy(templates: Templates, name: str) -> None:
    template = templates[name]
    service = _one(template, "AWS::ECS::Service")
    assert service["DeploymentController"] == {"Type": "CODE_DEPLOY"}
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    private = {
        logical_id
        for logical_id, subnet in of_type(template, "AWS::EC2::Subnet")
        if "application" in json.dumps(subnet.get("Properties", {}).get("Tags", []))
    }
    subnets = {ref["Ref"] for ref in service["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"]}
    assert subnets and subnets <= private


def test_canary_ten_percent_in_staging_and_prod_all_at_once_in_dev(templates: Templates) -> None:
    for name in ("CashTrace-Staging", "CashTrace-Prod"):
        config = _one(templates[name], "AWS::CodeDeploy::DeploymentConfig")
        canary = config["TrafficRoutingConfig"]["TimeBasedCanary"]
        assert canary["CanaryPercentage"] == 10 and canary["CanaryInterval"] >= 2
    dev_group = _one(templates["CashTrace-Dev"], "AWS::CodeDeploy::DeploymentGroup")
    assert dev_group["DeploymentConfigName"] == "CodeDeployDefault.ECSAllAtOnce"
    assert not list(of_type(templates["CashTrace-Dev"], "AWS::CodeDeploy::DeploymentConfig"))


@pytest.mark.parametrize("name", ENVIRONMENT_STACKS)
def test_deployment_group_rolls_back_on_failure_and_on_every_rollback_alarm(templates: Templates, name: str) -> None:
    template = templates[name]
    group = _one(template, "AWS::CodeDeploy::DeploymentGroup")
    assert {"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"} <= set(group["AutoRollbackConfiguration"]["Events"])
    watched = {alarm["Name"]["Ref"] for alarm in group["AlarmConfiguration"]["Alarms"]}
    metrics = {template["Resources"][a]["Properties"]["MetricName"] for a in watched}
    assert metrics == {"HTTPCode_Target_5XX_Count", "TargetResponseTime", "UnHealthyHostCount"}
    assert all(template["Resources"][a]["Properties"]["Period"] == 60 for a in watched)
    pair = group["LoadBalancerInfo"]["TargetGroupPairInfoList"][0]
    assert pair["TestTrafficRoute"]["ListenerArns"] and len(pair["TargetGroups"]) == 2


def test_new_task_definition_starts_a_codedeploy_deployment_with_the_hook(templates: Templates) -> None:
    template = templates["CashTrace-Prod"]
    deployment = _one(template, "Custom::EcsDeployment")
    appspec = json.dumps(deployment["revisionAppSpecContent"])
    assert "AfterAllowTestTraffic" in appspec and "TaskDefinition" in appspec
    hook = next(
        props
        for _, fn in of_type(template, "AWS::Lambda::Function")
        if "TEST_URL" in json.dumps(props := fn["Properties"])
    )
    variables = hook["Environment"]["Variables"]
    assert variables["HEALTH_CHECK_FAILURES"] == "2" and variables["HEALTH_CHECK_TIMEOUT_SECONDS"] == "5"
    assert ":9443/health" in json.dumps(variables["TEST_URL"])


def test_image_comes_from_the_pipeline_accounts_repository(templates: Templates) -> None:
    task = _one(templates["CashTrace-Prod"], "AWS::ECS::TaskDefinition")
    # The API container; the ADOT collector sidecar (monitoring) sits beside it.
    [container] = [c for c in task["ContainerDefinitions"] if "cashtrace/api" in json.dumps(c["Image"])]
    image = json.dumps(container["Image"])
    # `make synth` without a release pins the placeholder digest, never a tag.
    assert "444444444444.dkr.ecr.af-south-1" in image and f"cashtrace/api@{PLACEHOLDER_DIGEST}" in image
    release = {e["Name"]: e["Value"] for e in container["Environment"] if e["Name"].startswith("CASHTRACE_")}
    assert release == {"CASHTRACE_IMAGE_DIGEST": PLACEHOLDER_DIGEST, "CASHTRACE_COMMIT_SHA": "unknown"}
    assert container["ReadonlyRootFilesystem"] is True
    assert container["StopTimeout"] >= 30
    assert task["RuntimePlatform"]["CpuArchitecture"] == "ARM64"


def test_load_balancer_has_waf_access_logs_and_a_restricted_test_listener(templates: Templates) -> None:
    template = templates["CashTrace-Prod"]
    acl = _one(template, "AWS::WAFv2::WebACL")
    assert acl["Scope"] == "REGIONAL"
    assert {r["Statement"]["ManagedRuleGroupStatement"]["Name"] for r in acl["Rules"]} >= {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
    }
    assert list(of_type(template, "AWS::WAFv2::WebACLAssociation"))
    waf_logging = _one(template, "AWS::WAFv2::LoggingConfiguration")
    # A log group's Arn attribute ends in ":*", which WAF rejects; the ARN must be built bare.
    assert "Fn::GetAtt" not in json.dumps(waf_logging["LogDestinationConfigs"])
    assert ":log-group:" in json.dumps(waf_logging["LogDestinationConfigs"])
    attributes = {
        a["Key"]: a["Value"]
        for a in _one(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")["LoadBalancerAttributes"]
    }
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    test_ingress = [
        p["Properties"]
        for _, p in of_type(template, "AWS::EC2::SecurityGroupIngress")
        if p["Properties"].get("FromPort") == 9443
    ]
    assert len(test_ingress) == 3 and all("/32" in json.dumps(rule["CidrIp"]) for rule in test_ingress)
    open_rules = [
        rule
        for _, group in of_type(template, "AWS::EC2::SecurityGroup")
        for rule in group["Properties"].get("SecurityGroupIngress", [])
        if rule.get("CidrIp") == "0.0.0.0/0"
    ]
    # HTTPS only: port 80 is not open to anyone (checkov CKV_AWS_260).
    assert {rule["FromPort"] for rule in open_rules} == {443}


def test_access_log_bucket_is_private_tls_only_and_versioned(templates: Templates) -> None:
    template = templates["CashTrace-Prod"]
    # The API's load balancer names its access-log bucket; other buckets of the stack are other stories.
    (bucket_ref,) = [
        attribute["Value"]
        for _, lb in of_type(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
        if lb["Properties"].get("Scheme") == "internet-facing"
        for attribute in lb["Properties"]["LoadBalancerAttributes"]
        if attribute["Key"] == "access_logs.s3.bucket"
    ]
    bucket_id = bucket_ref["Ref"]
    bucket = template["Resources"][bucket_id]["Properties"]
    assert "LoggingConfiguration" in bucket
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    assert bucket["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    sse = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert sse["SSEAlgorithm"] == "AES256"  # ALB access logs support SSE-S3 only
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for _, p in of_type(template, "AWS::S3::BucketPolicy")
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    assert any(s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s) for s in policies[0])


@pytest.mark.parametrize("name", ENVIRONMENT_STACKS)
def test_step_scale_out_on_one_minute_alarms_and_target_tracking_for_scale_in(templates: Templates, name: str) -> None:
    template = templates[name]
    policies = [p["Properties"] for _, p in of_type(template, "AWS::ApplicationAutoScaling::ScalingPolicy")]
    steps = [p for p in policies if p["PolicyType"] == "StepScaling"]
    tracking = [p for p in policies if p["PolicyType"] == "TargetTrackingScaling"]
    assert len(steps) == 2 and len(tracking) == 2
    assert all(p["StepScalingPolicyConfiguration"]["StepAdjustments"][0]["ScalingAdjustment"] > 0 for p in steps)
    delays = {p["TargetTrackingScalingPolicyConfiguration"]["ScaleInCooldown"] for p in tracking}
    assert delays == {600 if name == "CashTrace-Prod" else 300}


def test_budgets_the_rules_need_are_recorded_in_the_template(templates: Templates) -> None:
    for name, budget in (("CashTrace-Dev", 300), ("CashTrace-Staging", 240), ("CashTrace-Prod", 180)):
        [(_, group)] = list(of_type(templates[name], "AWS::CodeDeploy::DeploymentGroup"))
        assert group["Metadata"][ROLLBACK_BUDGET_METADATA] == budget
        [(_, service)] = [(i, r) for i, r in of_type(templates[name], "AWS::ECS::Service") if i.startswith("Api")]
        assert service["Metadata"][LONGEST_REQUEST_METADATA] == 30
