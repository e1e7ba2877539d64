"""Least privilege: no `*` actions on `*` resources."""

from __future__ import annotations

from typing import Any

import pytest

from cashtrace_constructs.checks import IamFullAdmin
from tests.checks.rule_templates import findings


def policy(statement: dict[str, Any], *, inline: bool = False) -> dict[str, Any]:
    document = {"Version": "2012-10-17", "Statement": [statement]}
    if inline:
        return {
            "R": {
                "Type": "AWS::IAM::Role",
                "Properties": {"Policies": [{"PolicyName": "p", "PolicyDocument": document}]},
            }
        }
    return {"P": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": document}}}


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::bucket/*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*"},
    ],
)
def test_scoped_or_denying_statements_pass(statement: dict[str, Any]) -> None:
    assert findings(IamFullAdmin(), policy(statement)) == []


@pytest.mark.parametrize("action", ["*", "*:*", ["s3:GetObject", "*"]])
@pytest.mark.parametrize("inline", [False, True])
def test_every_action_on_every_resource_is_refused(action: Any, inline: bool) -> None:
    (finding,) = findings(IamFullAdmin(), policy({"Effect": "Allow", "Action": action, "Resource": "*"}, inline=inline))
    assert "every action on every resource" in finding


def test_not_resource_counts_as_every_resource() -> None:
    statement = {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::x"}
    assert len(findings(IamFullAdmin(), policy(statement))) == 1
