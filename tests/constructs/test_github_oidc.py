"""GitHubOidcAccess: the release role GitHub Actions assumes on `main`, and nothing broader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack, Validations
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks, PCIDSS321Checks
from hypothesis import given
from hypothesis import strategies as st

from cashtrace_constructs.checks.template import of_type
from cashtrace_constructs.config import GitHubOidcConfig
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.github_oidc import GitHubOidcAccess, GitHubOidcAccessProps
from stacks.acknowledgments import apply, audited, github_oidc_access
from tests.synth import make_app, stack_in_region, templates_of, unacknowledged, validation_report

KEY_ARN = "arn:aws:kms:af-south-1:123456789012:key/11111111-2222-3333-4444-555555555555"


def _release_access(stack: Stack, config: GitHubOidcConfig) -> GitHubOidcAccess:
    key = kms.Key.from_key_arn(stack, "SourceKey", KEY_ARN)
    return GitHubOidcAccess(
        stack,
        "Release",
        props=GitHubOidcAccessProps(
            config=config,
            ecr_repositories=[ecr.Repository.from_repository_name(stack, "Repo", "cashtrace/api")],
            source_bucket=s3.Bucket.from_bucket_attributes(stack, "Source", bucket_name="cashtrace-source"),
            encryption_keys=[key],
        ),
    )


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    """One small app with the three nag packs, its acknowledgments applied as the pipeline stack would."""
    outdir: Path = tmp_path_factory.mktemp("oidc")
    app = make_app(outdir, report_only=True)
    stack = stack_in_region(app, "Ci")
    _release_access(stack, GitHubOidcConfig(owner="cashtrace", repository="cashtrace-infrastructure"))
    apply(stack, github_oidc_access("Release"))
    Validations.of(app).add_plugins(
        *(audited(pack) for pack in (AwsSolutionsChecks(app), PCIDSS321Checks(app), NIST80053R5Checks(app)))
    )
    assembly = app.synth()
    return templates_of(assembly)["Ci"], validation_report(outdir)


def test_role_is_trusted_only_for_main_of_this_repository_with_the_sts_audience(
    synthesized: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    template, _ = synthesized
    [(_, role)] = list(of_type(template, "AWS::IAM::Role"))
    [statement] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Effect"] == "Allow"
    assert statement["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": "repo:cashtrace/cashtrace-infrastructure:ref:refs/heads/main",
        }
    }
    [(provider_id, provider)] = list(of_type(template, "AWS::IAM::OIDCProvider"))
    # Ref of AWS::IAM::OIDCProvider is its ARN.
    assert statement["Principal"]["Federated"] == {"Ref": provider_id}
    assert provider["Properties"]["Url"] == "https://token.actions.githubusercontent.com"
    assert provider["Properties"]["ClientIdList"] == ["sts.amazonaws.com"]
    assert role["Properties"]["MaxSessionDuration"] == 3600


def _statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    policies = [policy["Properties"]["PolicyDocument"] for _, policy in of_type(template, "AWS::IAM::ManagedPolicy")]
    return [statement for document in policies for statement in document["Statement"]]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_role_may_only_push_images_write_the_source_key_and_use_the_key(
    synthesized: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    template, _ = synthesized
    actions = {a for s in _statements(template) for a in _as_list(s["Action"])}
    assert {"ecr:GetAuthorizationToken", "ecr:PutImage", "ecr:CompleteLayerUpload", "s3:PutObject"} <= actions
    # Nothing that reads data, deletes, deploys or administers.
    forbidden = ("s3:GetObject", "s3:Delete", "ecr:BatchDeleteImage", "iam:", "cloudformation:", "sts:", "kms:Create")
    assert not [a for a in actions if a.startswith(forbidden)], actions
    assert not any(a in ("*", "s3:*", "ecr:*", "kms:*") for a in actions)
    for statement in _statements(template):
        if _as_list(statement["Resource"]) == ["*"]:
            # ECR's login call supports no resource-level permission; everything else is scoped.
            assert _as_list(statement["Action"]) == ["ecr:GetAuthorizationToken"], statement
        elif any(str(a).startswith("s3:") for a in _as_list(statement["Action"])):
            text = str(statement["Resource"])
            assert "cashtrace-source/source/cashtrace.zip" in text and "/*" not in text, statement
        elif any(str(a).startswith("ecr:") for a in _as_list(statement["Action"])):
            assert "repository/cashtrace/api" in str(statement["Resource"]), statement
        else:
            assert _as_list(statement["Resource"]) == [KEY_ARN], statement


def test_three_nag_packs_find_nothing_unacknowledged(synthesized: tuple[dict[str, Any], dict[str, Any]]) -> None:
    _, report = synthesized
    assert unacknowledged(report) == []
    # The one acknowledgment reached the report, so the packs ran and saw the construct.
    suppressed = [
        violation["ruleName"]
        for plugin in report["pluginReports"]
        for violation in plugin.get("suppressedViolations", [])
    ]
    assert "AwsSolutions-IAM5[Resource::*]" in str(suppressed), report


def test_imported_provider_and_a_bucket_with_its_own_key() -> None:
    app = make_app()
    stack = stack_in_region(app, "Imported")
    # A bucket of the same app (the pipeline's source bucket) brings its key along.
    bucket = s3.Bucket(stack, "Source", encryption=s3.BucketEncryption.KMS)
    access = GitHubOidcAccess(
        stack,
        "Release",
        props=GitHubOidcAccessProps(
            config=GitHubOidcConfig(create_provider=False, branch="release"), source_bucket=bucket
        ),
    )
    template = templates_of(app.synth())["Imported"]
    assert list(of_type(template, "AWS::IAM::OIDCProvider")) == []
    assert "oidc-provider/token.actions.githubusercontent.com" in str(stack.resolve(access.provider_arn))
    [(_, role)] = list(of_type(template, "AWS::IAM::Role"))
    condition = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"]
    assert condition["token.actions.githubusercontent.com:sub"].endswith(":ref:refs/heads/release")
    [(key_id, _)] = list(of_type(template, "AWS::KMS::Key"))
    kms_statements = [s for s in _statements(template) if str(s["Action"]).startswith("['kms:")]
    assert [s["Resource"] for s in kms_statements] == [{"Fn::GetAtt": [key_id, "Arn"]}]
    assert not any(str(a).startswith("ecr:") for s in _statements(template) for a in _as_list(s["Action"]))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"branch": "*"}, "github.branch"),
        ({"branch": "feature/*"}, "github.branch"),
        ({"owner": "cash trace"}, "github.owner"),
        ({"repository": ""}, "github.repository"),
        ({"max_session_minutes": 5}, "github.max_session_minutes"),
    ],
)
def test_bad_config_is_refused_with_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(DeploymentError) as raised:
        GitHubOidcConfig(**changes)
    assert raised.value.code is ErrorCode.CONFIG_INVALID
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "github_oidc_access"),
        ({"source_object_key": "source/*"}, "github_oidc_access.source_object_key"),
    ],
)
def test_construct_refuses_a_role_with_nothing_or_a_wildcard_to_write(kwargs: dict[str, Any], field: str) -> None:
    app = make_app()
    stack = stack_in_region(app)
    if kwargs:
        kwargs["source_bucket"] = s3.Bucket.from_bucket_name(stack, "Source", "cashtrace-source")
    with pytest.raises(DeploymentError) as raised:
        GitHubOidcAccess(stack, "Release", props=GitHubOidcAccessProps(config=GitHubOidcConfig(), **kwargs))
    assert raised.value.field == field


def test_the_project_trusts_its_own_repository_main_only() -> None:
    from stacks.environments import github_oidc

    assert github_oidc().subject == "repo:cashtrace/cashtrace-infrastructure:ref:refs/heads/main"


_NAME = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True)


@given(owner=_NAME, repository=_NAME, branch=_NAME.filter(lambda b: ".." not in b))
def test_any_valid_repository_is_trusted_for_exactly_one_branch_ref(owner: str, repository: str, branch: str) -> None:
    config = GitHubOidcConfig(owner=owner, repository=repository, branch=branch)
    assert config.subject == f"repo:{owner}/{repository}:ref:refs/heads/{branch}"


@given(prefix=_NAME, suffix=st.text(alphabet="abc/-", max_size=5))
def test_a_branch_pattern_is_never_accepted(prefix: str, suffix: str) -> None:
    with pytest.raises(DeploymentError) as raised:
        GitHubOidcConfig(branch=f"{prefix}*{suffix}")
    assert raised.value.field == "github.branch"
