"""Property 6 (secret isolation): hand-written templates, the real app, generated grants, and synth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Environment, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.cx_api import CloudAssembly
from hypothesis import given
from hypothesis import strategies as st

from cashtrace_constructs.checks import CashTraceChecks, SecretIsolation, SynthesizedStack, evaluate
from cashtrace_constructs.checks.secret_reach import stack_environment
from cashtrace_constructs.checks.template import of_type
from cashtrace_constructs.secrets import isolation_statements
from tests.conftest import ENVIRONMENT_STACKS
from tests.synth import make_app, validation_report

ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
REGION = "af-south-1"
ENVIRONMENTS = tuple(ACCOUNTS)


def _deny_policy(env: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyPrincipalsOfOtherEnvironments",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "secretsmanager:*",
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": {"aws:PrincipalTag/environment": env},
                    "Null": {"aws:PrincipalTag/environment": "false"},
                },
            }
        ],
    }


def _stack(
    env: str,
    *,
    statements: list[dict[str, Any]] = (),  # type: ignore[assignment]
    deny: bool = True,
    extra: dict[str, Any] | None = None,
    tags: bool = True,
    name: str | None = None,
) -> SynthesizedStack:
    """One environment's stack: its secret (with or without the deny policy), a key, a role policy."""
    resources: dict[str, Any] = {
        "ApiKeys": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {"Name": f"cashtrace/{env}/api-keys"},
            "Metadata": {"aws:cdk:path": f"CashTrace-{env.capitalize()}/Secrets/ApiKeys/Resource"},
        },
        "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
    }
    if deny:
        resources["ApiKeysPolicy"] = {
            "Type": "AWS::SecretsManager::ResourcePolicy",
            "Properties": {"SecretId": {"Ref": "ApiKeys"}, "ResourcePolicy": _deny_policy(env)},
        }
    if statements:
        resources["WorkloadPolicy"] = {
            "Type": "AWS::IAM::Policy",
            "Properties": {"PolicyDocument": {"Version": "2012-10-17", "Statement": list(statements)}},
            "Metadata": {"aws:cdk:path": f"CashTrace-{env.capitalize()}/Workload/DefaultPolicy/Resource"},
        }
    resources.update(extra or {})
    stack_name = name or f"CashTrace-{env.capitalize()}"
    return SynthesizedStack(
        name=stack_name,
        construct_path=stack_name,
        template={"Resources": resources},
        region=REGION,
        account=ACCOUNTS[env],
        tags={"environment": env} if tags else {},
    )


def _allow(resource: Any, action: Any = "secretsmanager:GetSecretValue") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def _secret_arn(env: str, name: str, account: str | None = None) -> str:
    return f"arn:aws:secretsmanager:{REGION}:{account or ACCOUNTS[env]}:secret:{name}"


def _findings(*stacks: SynthesizedStack) -> list[str]:
    return [str(finding) for finding in evaluate([SecretIsolation()], stacks)]


def _app(*staging_statements: dict[str, Any]) -> list[SynthesizedStack]:
    return [_stack("dev"), _stack("staging", statements=list(staging_statements)), _stack("prod")]


# ---- compliant ----


def test_grants_within_the_own_environment_are_compliant() -> None:
    stacks = _app(
        _allow({"Ref": "ApiKeys"}, ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]),
        _allow({"Fn::GetAtt": ["Key", "Arn"]}, "kms:Decrypt"),
        _allow(_secret_arn("staging", "cashtrace/staging/api-keys-AbCdEf")),
        _allow(_secret_arn("staging", "cashtrace/staging/*")),
        _allow(f"arn:aws:kms:{REGION}:{ACCOUNTS['staging']}:key/*", "kms:Decrypt"),
        # Not a secret action, not a secret resource: not Property 6's business.
        _allow("*", ["secretsmanager:ListSecrets", "secretsmanager:GetRandomPassword", "xray:PutTraceSegments"]),
        _allow("arn:aws:s3:::bucket/*", "*"),
    )
    assert _findings(*stacks) == []


def test_a_wildcard_limited_by_the_resource_environment_tag_is_compliant() -> None:
    statement = _allow("*", "secretsmanager:GetSecretValue")
    statement["Condition"] = {"StringEquals": {"secretsmanager:ResourceTag/environment": "staging"}}
    assert _findings(*_app(statement)) == []


def test_the_real_app_is_compliant_and_every_secret_is_seen(
    templates: dict[str, dict[str, Any]], cloud_assembly: CloudAssembly
) -> None:
    stacks = [
        SynthesizedStack(
            name=name,
            construct_path=name,
            template=templates[name],
            region=REGION,
            account=artifact.environment.account,
            tags=artifact.tags,
        )
        for name in ENVIRONMENT_STACKS
        for artifact in [cloud_assembly.get_stack_by_name(name)]
    ]
    assert _findings(*stacks) == []
    # Not vacuous: the same templates without their secret resource policies are refused.
    stripped = [
        SynthesizedStack(
            name=s.name,
            construct_path=s.construct_path,
            account=s.account,
            tags=s.tags,
            template={
                "Resources": {
                    k: v for k, v in s.resources.items() if v["Type"] != "AWS::SecretsManager::ResourcePolicy"
                }
            },
        )
        for s in stacks
    ]
    assert (
        len(_findings(*stripped))
        == sum(1 for s in stacks for _ in of_type(s.template, "AWS::SecretsManager::Secret"))
        >= len(ENVIRONMENT_STACKS)
    )


# ---- non-compliant: grants ----


@pytest.mark.parametrize(
    ("resource", "action"),
    [
        (_secret_arn("prod", "cashtrace/prod/api-keys-AbCdEf"), "secretsmanager:GetSecretValue"),
        (_secret_arn("staging", "cashtrace/prod/api-keys"), "secretsmanager:GetSecretValue"),
        (_secret_arn("prod", "other-secret"), "secretsmanager:GetSecretValue"),
        ("*", "secretsmanager:GetSecretValue"),
        ("*", "secretsmanager:*"),
        ("*", "*"),
        (_secret_arn("staging", "*"), "secretsmanager:Get*"),
        (_secret_arn("staging", "cashtrace/*"), "secretsmanager:PutSecretValue"),
        ("arn:aws:secretsmanager:*:*:secret:cashtrace/pr*", "secretsmanager:GetSecretValue"),
        (f"arn:aws:kms:{REGION}:{ACCOUNTS['prod']}:key/1234abcd-12ab-34cd-56ef-1234567890ab", "kms:Decrypt"),
        (f"arn:aws:kms:{REGION}:*:key/*", "kms:Decrypt"),
        (f"arn:aws:kms:{REGION}:{ACCOUNTS['staging']}:alias/cashtrace/prod/data", "kms:Encrypt"),
        ("*", "kms:*"),
        (
            {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":secretsmanager:af-south-1:*:secret:cashtrace/*"]]},
            "secretsmanager:GetSecretValue",
        ),
    ],
)
def test_a_staging_grant_reaching_prod_is_refused(resource: Any, action: str) -> None:
    findings = _findings(*_app(_allow(resource, action)))
    assert findings, f"{action} on {resource} was not refused"
    assert all("Property 6" in f and "CashTrace-Staging/Workload/DefaultPolicy/Resource" in f for f in findings)
    assert any("prod" in f.split("belongs to environment")[1] for f in findings)


def test_not_resource_and_not_action_count_as_wildcards() -> None:
    not_resource = {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "NotResource": "arn:aws:s3:::x"}
    not_action = {"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}
    assert _findings(*_app(not_resource))
    assert _findings(*_app(not_action))


def test_a_grant_by_cross_stack_reference_names_both_resources() -> None:
    imported = _allow({"Fn::ImportValue": "CashTrace-Prod:ApiKeysArn"})
    prod = _stack("prod")
    prod = SynthesizedStack(
        name=prod.name,
        construct_path=prod.construct_path,
        account=prod.account,
        region=REGION,
        tags=prod.tags,
        template={
            **prod.template,
            "Outputs": {"ApiKeysArn": {"Value": {"Ref": "ApiKeys"}, "Export": {"Name": "CashTrace-Prod:ApiKeysArn"}}},
        },
    )
    (finding,) = _findings(_stack("staging", statements=[imported]), prod)
    assert "CashTrace-Staging/Workload/DefaultPolicy/Resource" in finding
    assert "CashTrace-Prod/Secrets/ApiKeys/Resource" in finding


def test_inline_role_policies_and_managed_policies_are_checked() -> None:
    document = {"Statement": [_allow(_secret_arn("prod", "cashtrace/prod/api-keys"))]}
    inline = {"Inline": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyDocument": document}]}}}
    managed = {"Managed": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": document}}}
    assert len(_findings(_stack("staging", extra=inline), _stack("prod"))) == 1
    assert len(_findings(_stack("staging", extra=managed), _stack("prod"))) == 1


def test_a_stack_of_no_environment_may_not_name_an_environment_secret() -> None:
    pipeline = SynthesizedStack(
        name="CashTrace-Pipeline",
        construct_path="CashTrace-Pipeline",
        account="444444444444",
        template={
            "Resources": {
                "P": {
                    "Type": "AWS::IAM::Policy",
                    "Properties": {
                        "PolicyDocument": {
                            "Statement": [
                                _allow(_secret_arn("prod", "cashtrace/prod/api-keys")),
                                _allow("*", "kms:Decrypt"),
                            ]
                        }
                    },
                }
            }
        },
    )
    (finding,) = _findings(pipeline, _stack("prod"))
    assert "cashtrace/prod/api-keys" in finding and "(none)" in finding


# ---- non-compliant: the deny policy ----


def test_a_secret_without_the_deny_policy_is_refused() -> None:
    (finding,) = _findings(_stack("prod", deny=False))
    assert "Property 6" in finding and "CashTrace-Prod/Secrets/ApiKeys/Resource" in finding


def test_a_deny_policy_for_another_environment_does_not_count() -> None:
    stack = _stack("prod")
    stack.resources["ApiKeysPolicy"]["Properties"]["ResourcePolicy"] = _deny_policy("staging")
    assert len(_findings(stack)) == 1


# ---- which environment a stack belongs to ----


def test_stack_environment_comes_from_the_tag_then_the_name() -> None:
    assert stack_environment(_stack("prod", tags=True, name="Whatever")) == "prod"
    assert stack_environment(_stack("prod", tags=False, name="CashTrace-Prod")) == "prod"
    untagged_stage = SynthesizedStack(name="x", construct_path="Pipeline/Staging/Environment", template={})
    assert stack_environment(untagged_stage) == "staging"
    assert stack_environment(SynthesizedStack(name="CashTrace-Pipeline", construct_path="p", template={})) is None


# ---- generated grants ----

_SENSITIVE = st.sampled_from(
    ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:*", "secretsmanager:Get*"]
)


@st.composite
def _specific_grant(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    """A grant from one environment's stack on one named secret of some environment."""
    source, target = draw(st.sampled_from(ENVIRONMENTS)), draw(st.sampled_from(ENVIRONMENTS))
    suffix = draw(st.sampled_from(["", "-AbCdEf", "-??????", "*"]))
    purpose = draw(st.sampled_from(["api-keys", "database", "payments/provider"]))
    return source, target, _allow(_secret_arn(target, f"cashtrace/{target}/{purpose}{suffix}"), draw(_SENSITIVE))


@given(_specific_grant())
def test_a_named_grant_is_refused_exactly_when_it_crosses_environments(grant: tuple[str, str, dict[str, Any]]) -> None:
    source, target, statement = grant
    stacks = [_stack(env, statements=[statement] if env == source else []) for env in ENVIRONMENTS]
    findings = _findings(*stacks)
    assert bool(findings) == (source != target)
    if findings:
        assert f"belongs to environment {target}" in findings[0]


@given(
    st.sampled_from(ENVIRONMENTS),
    st.sampled_from(["*", "secret:*", "secret:cashtrace/*", "secret:cashtrace/*/api-keys", "secret:c*"]),
    st.sampled_from(["*", "", "{own}"]),
    _SENSITIVE,
)
def test_a_wildcard_grant_is_refused_from_every_environment(
    source: str, resource: str, account: str, action: str
) -> None:
    owner = account.format(own=ACCOUNTS[source])
    arn = "*" if resource == "*" else f"arn:aws:secretsmanager:{REGION}:{owner}:{resource}"
    stacks = [_stack(env, statements=[_allow(arn, action)] if env == source else []) for env in ENVIRONMENTS]
    assert _findings(*stacks)


# ---- synthesis fails (the "Done when") ----

PROD_SECRET_PATH = "CashTrace-Prod/ApiKeys/Resource"
STAGING_POLICY_PATH = "CashTrace-Staging/Workload/DefaultPolicy/Resource"


@pytest.mark.synth
@pytest.mark.parametrize("how", ["construct", "arn", "wildcard"])
def test_granting_a_staging_role_read_on_a_prod_secret_fails_synthesis(how: str, tmp_path: Path) -> None:
    # Path metadata, as `cdk synth` writes it, so findings name construct paths.
    app = make_app(tmp_path, **{"aws:cdk:enable-path-metadata": True})
    # One account for both so that the by-construct grant is a legal cross-stack reference.
    env = Environment(account="123456789012", region=REGION)
    prod = Stack(app, "CashTrace-Prod", env=env, tags={"environment": "prod"})
    staging = Stack(app, "CashTrace-Staging", env=env, tags={"environment": "staging"})
    secret = secretsmanager.Secret(prod, "ApiKeys", secret_name="cashtrace/prod/api-keys")
    for statement in isolation_statements("prod", "123456789012"):
        secret.add_to_resource_policy(statement)
    role = iam.Role(staging, "Workload", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    if how == "construct":
        secret.grant_read(role)
    else:
        name = "cashtrace/prod/api-keys-AbCdEf" if how == "arn" else "cashtrace/*"
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"],
                resources=[f"arn:aws:secretsmanager:{REGION}:123456789012:secret:{name}"],
            )
        )
    Validations.of(app).add_plugins(CashTraceChecks([SecretIsolation()]))

    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        app.synth()
    assert "Property 6" in str(failure.value) and PROD_SECRET_PATH in str(failure.value)

    (violation,) = [v for p in validation_report(tmp_path)["pluginReports"] for v in p["violations"]]
    assert violation["ruleName"] == "CT-P6-SecretIsolation"
    assert "Property 6" in violation["description"]
    assert STAGING_POLICY_PATH in violation["description"]
    assert PROD_SECRET_PATH in violation["description"]
    assert [c["constructPath"] for c in violation["violatingConstructs"]] == [STAGING_POLICY_PATH]


def test_report_is_json_serializable_for_the_cli() -> None:
    # The plugin's messages end up in cdk.out/validation-report.json; keep them plain text.
    findings = _findings(*_app(_allow("*")))
    assert json.loads(json.dumps(findings)) == findings


def test_sub_and_attachment_references_are_resolved() -> None:
    by_sub = _allow({"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:*:secret:cashtrace/prod/*"})
    assert _findings(*_app(by_sub))
    attachment = {
        "DbAttachment": {
            "Type": "AWS::SecretsManager::SecretTargetAttachment",
            "Properties": {"SecretId": {"Ref": "ApiKeys"}, "TargetId": "db", "TargetType": "AWS::RDS::DBInstance"},
        }
    }
    own = _stack("staging", statements=[_allow({"Ref": "DbAttachment"})], extra=attachment)
    assert _findings(own) == []
    prod = _stack("prod", extra=attachment)
    prod_output = {"Outputs": {"Db": {"Value": {"Ref": "DbAttachment"}, "Export": {"Name": "prod-db"}}}}
    prod = SynthesizedStack(
        name=prod.name,
        construct_path=prod.construct_path,
        account=prod.account,
        tags=prod.tags,
        template={**prod.template, **prod_output},
    )
    (finding,) = _findings(_stack("staging", statements=[_allow({"Fn::ImportValue": "prod-db"})]), prod)
    assert "CashTrace-Prod/Secrets/ApiKeys/Resource" in finding
