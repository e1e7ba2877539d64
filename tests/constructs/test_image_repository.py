"""`ServiceImageRepository` in a small stack of its own (it lives in the tooling account)."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Template

from cashtrace_constructs.checks.template import of_type
from cashtrace_constructs.errors import DeploymentError
from cashtrace_constructs.image_repository import PULL_ACTIONS, ServiceImageRepository, ServiceImageRepositoryProps
from tests.synth import make_app, stack_in_region


@pytest.fixture(scope="module")
def template() -> dict:  # type: ignore[type-arg]
    app = make_app()
    stack = stack_in_region(app, "Tooling")
    ServiceImageRepository(
        stack,
        "Api",
        props=ServiceImageRepositoryProps(
            repository_name="cashtrace/api", puller_account_ids=["111111111111", "333333333333"]
        ),
    )
    return Template.from_stack(stack).to_json()  # type: ignore[no-any-return]


def _repository(template: dict) -> dict:  # type: ignore[type-arg]
    [repo] = [r["Properties"] for _, r in of_type(template, "AWS::ECR::Repository")]
    return repo  # type: ignore[no-any-return]


def test_repository_is_immutable_scanned_and_kms_encrypted(template: dict) -> None:  # type: ignore[type-arg]
    repo = _repository(template)
    assert repo["ImageTagMutability"] == "IMMUTABLE"
    assert repo["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert repo["EncryptionConfiguration"]["EncryptionType"] == "KMS"
    rules = json.loads(repo["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    assert {rule["selection"]["tagStatus"] for rule in rules} == {"untagged", "any"}


def test_only_environment_accounts_may_pull_and_never_push(template: dict) -> None:  # type: ignore[type-arg]
    [statement] = _repository(template)["RepositoryPolicyText"]["Statement"]
    assert sorted(statement["Action"]) == sorted(PULL_ACTIONS)
    principals = json.dumps(statement["Principal"])
    assert "111111111111" in principals and "333333333333" in principals
    assert not any("Put" in action or "Delete" in action for action in statement["Action"])


def test_pullers_decrypt_only_through_ecr(template: dict) -> None:  # type: ignore[type-arg]
    [key] = [r["Properties"] for _, r in of_type(template, "AWS::KMS::Key")]
    [via_ecr] = [s for s in key["KeyPolicy"]["Statement"] if s.get("Sid") == "DecryptThroughEcrForEnvironmentAccounts"]
    assert via_ecr["Condition"]["StringEquals"]["kms:ViaService"] == "ecr.af-south-1.amazonaws.com"
    assert key.get("MultiRegion") in (None, False) and key["EnableKeyRotation"] is True


def test_bad_puller_account_is_refused() -> None:
    app = make_app()
    with pytest.raises(DeploymentError) as failure:
        ServiceImageRepository(
            stack_in_region(app),
            "Api",
            props=ServiceImageRepositoryProps(repository_name="cashtrace/api", puller_account_ids=["prod"]),
        )
    assert failure.value.field == "puller_account_ids[0]"
