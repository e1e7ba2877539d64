"""Bucket exposure: the public-access block, canned ACLs and `*` grants in bucket policies."""

from __future__ import annotations

from typing import Any

import pytest

from cashtrace_constructs.checks import PublicBuckets
from tests.checks.rule_templates import findings

BLOCKED = {
    switch: True for switch in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
}


def bucket(**properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::S3::Bucket", "Properties": {"PublicAccessBlockConfiguration": dict(BLOCKED), **properties}}


def policy(statement: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {"Bucket": {"Ref": "Data"}, "PolicyDocument": {"Statement": [statement]}},
    }


DENY_INSECURE = {
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": "s3:*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
OAC_READ = {
    "Effect": "Allow",
    "Principal": {"Service": "cloudfront.amazonaws.com"},
    "Action": "s3:GetObject",
    "Condition": {"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::1:distribution/X"}},
}


def test_a_blocked_bucket_with_deny_and_service_statements_passes() -> None:
    assert findings(PublicBuckets(), {"Data": bucket(), "P1": policy(DENY_INSECURE), "P2": policy(OAC_READ)}) == []


@pytest.mark.parametrize("switch", sorted(BLOCKED))
def test_each_public_access_block_switch_off_is_refused(switch: str) -> None:
    resources = {"Data": bucket(PublicAccessBlockConfiguration={**BLOCKED, switch: False})}
    (finding,) = findings(PublicBuckets(), resources)
    assert "Data" in finding and switch in finding


def test_a_bucket_without_a_public_access_block_is_refused() -> None:
    (finding,) = findings(PublicBuckets(), {"Data": {"Type": "AWS::S3::Bucket", "Properties": {}}})
    assert "does not block public access" in finding


def test_a_public_canned_acl_is_refused() -> None:
    assert any("PublicRead" in f for f in findings(PublicBuckets(), {"Data": bucket(AccessControl="PublicRead")}))


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::1:root", "*"]}])
def test_an_unconditioned_allow_to_everyone_is_refused(principal: Any) -> None:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "*"}
    (finding,) = findings(PublicBuckets(), {"Data": bucket(), "Policy": policy(statement)})
    assert "Policy" in finding and "Data" in finding and "everyone" in finding


def test_a_conditioned_allow_to_everyone_is_not_a_public_grant() -> None:
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}},
    }
    assert findings(PublicBuckets(), {"Data": bucket(), "Policy": policy(statement)}) == []
