"""Property 4 inside the production stack: its release task definitions wait for a promotion gate of their digest."""

from __future__ import annotations

from typing import Any

import pytest

from cashtrace_constructs.checks import PromotionGateBeforeRelease
from cashtrace_constructs.checks.promotion_gate import GATE_TYPE, dependencies
from tests.checks.rule_templates import findings

DIGEST = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32
IMAGE = f"444444444444.dkr.ecr.af-south-1.amazonaws.com/cashtrace/api@{DIGEST}"


def _template(
    *, depends_on: Any = ("Gate",), gate_digest: str = DIGEST, image: str = IMAGE, gate: bool = True
) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "GateFunction": {"Type": "AWS::Lambda::Function", "Properties": {}},
        "Task": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {"ContainerDefinitions": [{"Name": "api", "Image": image}]},
            "DependsOn": list(depends_on),
        },
        # A sidecar from a public registry is not the release.
        "Grafana": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {"ContainerDefinitions": [{"Name": "grafana", "Image": "grafana/grafana:12.0.0"}]},
        },
        "Database": {"Type": "AWS::RDS::DBInstance", "Properties": {}, "DependsOn": ["Gate"]},
    }
    if gate:
        resources["Gate"] = {
            "Type": GATE_TYPE,
            "Properties": {"ServiceToken": {"Fn::GetAtt": ["GateFunction", "Arn"]}, "ImageDigest": gate_digest},
        }
    return resources


def test_a_release_waiting_for_the_gate_of_its_digest_passes() -> None:
    assert findings(PromotionGateBeforeRelease(), _template()) == []


def test_waiting_through_another_resource_counts() -> None:
    # The task definition waits for its role, which waits for the gate.
    template = _template(depends_on=["Role"])
    template["Role"] = {"Type": "AWS::IAM::Role", "Properties": {}, "DependsOn": "Gate"}
    assert findings(PromotionGateBeforeRelease(), template) == []


def test_a_release_that_does_not_wait_for_the_gate_is_refused() -> None:
    (finding,) = findings(PromotionGateBeforeRelease(), _template(depends_on=[]))
    assert finding.startswith("CashTrace-Prod/Task:")
    assert "DEPLOY_APPROVAL_REQUIRED" in finding and "without waiting for the promotion gate" in finding


def test_a_gate_checking_another_digest_is_refused() -> None:
    (finding,) = findings(PromotionGateBeforeRelease(), _template(gate_digest=OTHER))
    assert finding.startswith("CashTrace-Prod/Gate: Property 4 (staging validation): DEPLOY_APPROVAL_REQUIRED: ")
    assert f"the promotion gate checks {OTHER}" in finding
    assert f"container 'api' runs {DIGEST}" in finding


def test_a_production_stack_without_a_gate_is_refused() -> None:
    (finding,) = findings(PromotionGateBeforeRelease(), _template(gate=False, depends_on=[]))
    assert "no promotion gate (Custom::PromotionGate)" in finding


def test_a_gate_backed_by_no_function_of_the_stack_is_refused() -> None:
    template = _template()
    template["Gate"]["Properties"]["ServiceToken"] = "arn:aws:lambda:af-south-1:111111111111:function:yes"
    assert any(
        "not backed by a function of this stack" in finding
        for finding in findings(PromotionGateBeforeRelease(), template)
    )


@pytest.mark.parametrize("environment", ["dev", "staging"])
def test_other_environments_are_not_judged(environment: str) -> None:
    assert findings(PromotionGateBeforeRelease(), _template(gate=False, depends_on=[]), environment=environment) == []


def test_dependencies_follow_depends_on_and_references_transitively() -> None:
    template = {
        "Resources": {
            "A": {"Type": "X", "DependsOn": "B", "Properties": {"Role": {"Fn::GetAtt": ["C", "Arn"]}}},
            "B": {"Type": "X", "Properties": {"Name": {"Fn::Sub": "${D}-x"}}},
            "C": {"Type": "X"},
            "D": {"Type": "X", "DependsOn": ["A"]},
        }
    }
    assert dependencies(template, "A") == {"A", "B", "C", "D"}
    assert dependencies(template, "C") == set()


# ---- the real app (both deploy paths of prod) --------------------------------------------------


PROD_TEMPLATES = ("CashTrace-Prod", "CashTrace-Pipeline/Prod/Environment")


@pytest.mark.parametrize("stack", PROD_TEMPLATES)
def test_in_both_prod_templates_the_task_definition_depends_on_the_promotion_gate(
    templates: dict[str, dict[str, Any]], stack: str
) -> None:
    resources = templates[stack]["Resources"]
    (gate,) = [logical_id for logical_id, resource in resources.items() if resource["Type"] == GATE_TYPE]
    api = [
        logical_id
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::ECS::TaskDefinition"
        and any(".dkr.ecr." in str(c.get("Image")) for c in resource["Properties"]["ContainerDefinitions"])
    ]
    assert api and all(gate in resources[task].get("DependsOn", []) for task in api)
    # The stateful resources that matter wait too: an unverified deploy changes none of them.
    for stateful in ("AWS::RDS::DBInstance", "AWS::ElastiCache::ReplicationGroup"):
        (logical_id,) = [name for name, resource in resources.items() if resource["Type"] == stateful]
        assert gate in resources[logical_id].get("DependsOn", [])
    # The rollout starts from the task definition, so it waits for the gate too.
    (rollout,) = [name for name, resource in resources.items() if resource["Type"] == "Custom::EcsDeployment"]
    assert gate in dependencies(templates[stack], rollout)
    assert findings(PromotionGateBeforeRelease(), resources) == []


def test_only_prod_has_a_promotion_gate(templates: dict[str, dict[str, Any]]) -> None:
    for stack in ("CashTrace-Dev", "CashTrace-Staging", "CashTrace-Pipeline/Staging/Environment"):
        assert not [r for r in templates[stack]["Resources"].values() if r["Type"] == GATE_TYPE], stack
