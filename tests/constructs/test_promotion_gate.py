"""PromotionGate and DeploymentRecordReader on small stacks: names the other account relies on, least privilege."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template
from constructs import Construct

from cashtrace_constructs.checks.promotion_gate import GATE_TYPE
from cashtrace_constructs.checks.template import of_type
from cashtrace_constructs.config import ServiceConfig
from cashtrace_constructs.promotion_gate import (
    RECORD_READER_ROLE_NAME,
    RECORD_TABLE_PARAMETER,
    DeploymentRecordReader,
    DeploymentRecordReaderProps,
    PromotionGate,
    PromotionGateProps,
)
from tests.synth import make_app, stack_in_region

DIGEST = "sha256:" + "ab" * 32


def _gate(stack: Stack, **props: Any) -> PromotionGate:
    vpc = ec2.Vpc(stack, "Vpc", availability_zones=["af-south-1a", "af-south-1b"], nat_gateways=1)
    return PromotionGate(
        stack,
        "PromotionGate",
        props=PromotionGateProps(
            environment_name="prod",
            service=ServiceConfig(repository_account="444444444444", image_digest=DIGEST, commit_sha="a" * 40),
            vpc=vpc,
            subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            encryption_key=kms.Key(stack, "Key"),
            **props,
        ),
    )


def test_the_gate_runs_as_the_role_the_pipeline_account_trusts_and_checks_the_release() -> None:
    stack = stack_in_region(make_app())
    gate = _gate(stack)
    bucket = ec2.CfnVPC(stack, "Stateful", cidr_block="10.9.0.0/16")
    gate.guard(bucket)
    template = Template.from_stack(stack).to_json()
    roles = [r["Properties"].get("RoleName") for _, r in of_type(template, "AWS::IAM::Role")]
    assert "cashtrace-prod-promotion-gate" in roles
    (gate_id, resource), *_ = of_type(template, GATE_TYPE)
    assert resource["Properties"]["ImageDigest"] == DIGEST and resource["Properties"]["CommitSha"] == "a" * 40
    assert "BreakGlassReason" not in resource["Properties"]
    assert gate_id in template["Resources"]["Stateful"]["DependsOn"]
    statements = [
        statement
        for _, policy in of_type(template, "AWS::IAM::Policy")
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    by_action = {str(s["Action"]): s["Resource"] for s in statements}
    assert by_action["sts:AssumeRole"] == f"arn:aws:iam::444444444444:role/{RECORD_READER_ROLE_NAME}"
    assert by_action["cloudformation:DescribeStacks"] == {"Ref": "AWS::StackId"}
    variables = next(
        r["Properties"]["Environment"]["Variables"]
        for _, r in of_type(template, "AWS::Lambda::Function")
        if "RECORD_TABLE_PARAMETER" in r["Properties"].get("Environment", {}).get("Variables", {})
    )
    assert variables["RECORD_TABLE_PARAMETER"] == RECORD_TABLE_PARAMETER and variables["VERIFIED_IN"] == "staging"


def test_a_break_glass_reason_is_a_property_of_the_gate() -> None:
    stack = stack_in_region(make_app())
    _gate(stack, break_glass_reason="INC-1: outage")
    (_, resource), *_ = of_type(Template.from_stack(stack).to_json(), GATE_TYPE)
    assert resource["Properties"]["BreakGlassReason"] == "INC-1: outage"


def test_guarding_a_construct_without_a_resource_is_refused() -> None:
    stack = stack_in_region(make_app())
    gate = _gate(stack)
    with pytest.raises(TypeError, match="no CloudFormation resource"):
        gate.guard(Construct(stack, "Empty"))


def _reader(gate_accounts: dict[str, str]) -> dict[str, Any]:
    stack = stack_in_region(make_app(), "Pipeline")
    key = kms.Key(stack, "Key")
    table = dynamodb.TableV2(
        stack,
        "Table",
        partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
        encryption=dynamodb.TableEncryptionV2.customer_managed_key(key),
    )
    DeploymentRecordReader(
        stack, "Reader", props=DeploymentRecordReaderProps(table=table, encryption_key=key, gate_accounts=gate_accounts)
    )
    return Template.from_stack(stack).to_json()


def test_the_reader_role_trusts_each_gate_role_through_its_own_account() -> None:
    template = _reader({"prod": "333333333333", "prod-eu": "555555555555"})
    (role,) = [r["Properties"] for _, r in of_type(template, "AWS::IAM::Role")]
    trusted = {
        statement["Principal"]["AWS"]: statement["Condition"]["ArnEquals"]["aws:PrincipalArn"]
        for statement in role["AssumeRolePolicyDocument"]["Statement"]
    }
    assert set(trusted) == {"arn:aws:iam::333333333333:root", "arn:aws:iam::555555555555:root"}
    (prod,) = trusted["arn:aws:iam::333333333333:root"]
    assert prod["Fn::Join"][1][-1] == ":iam::333333333333:role/cashtrace-prod-promotion-gate"


def test_a_reader_for_no_gate_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one gate account"):
        _reader({})
