"""The Control Tower gate: cfn-guard and the rules come out of the pinned wheel, and a failing control is
reported per resource with its construct path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tools.control_tower import evaluate, extract_bundle, parse_report
from tools.control_tower.guard import GuardBundle, rules_by_type, rules_for

ENCRYPTED = {"KmsMasterKeyId": "alias/aws/sqs"}
QUEUE_WITHOUT_DLQ = {"Type": "AWS::SQS::Queue", "Properties": {**ENCRYPTED}}
QUEUE_WITH_DLQ = {
    "Type": "AWS::SQS::Queue",
    "Properties": {
        **ENCRYPTED,
        "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}, "maxReceiveCount": 3},
    },
}
DEAD_LETTERS = {
    "Type": "AWS::SQS::Queue",
    "Properties": {**ENCRYPTED, "RedriveAllowPolicy": {"redrivePermission": "allowAll"}},
}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> GuardBundle:
    return extract_bundle(tmp_path_factory.mktemp("guard"))


def _template(tmp_path: Path, resources: dict[str, Any]) -> Path:
    for logical_id, resource in resources.items():
        resource.setdefault("Metadata", {"aws:cdk:path": f"Test/{logical_id}/Resource"})
    path = tmp_path / "Test.template.json"
    path.write_text(json.dumps({"Resources": resources}))
    return path


def test_the_wheel_carries_cfn_guard_and_the_control_tower_rules(bundle: GuardBundle) -> None:
    assert bundle.binary.is_file() and bundle.rule_count > 200
    assert bundle.version == "0.0.62"


def test_a_queue_without_a_dead_letter_queue_fails_ct_sqs_pr_1_naming_its_construct(
    bundle: GuardBundle, tmp_path: Path
) -> None:
    template = _template(tmp_path, {"Work": QUEUE_WITHOUT_DLQ})
    (finding,) = evaluate(bundle, [template])
    assert (finding.control, finding.logical_id, finding.location) == ("CT.SQS.PR.1", "Work", "Test/Work/Resource")


def test_a_queue_with_a_dlq_and_a_declared_dead_letter_queue_pass(bundle: GuardBundle, tmp_path: Path) -> None:
    template = _template(tmp_path, {"Work": QUEUE_WITH_DLQ, "Dlq": DEAD_LETTERS})
    assert evaluate(bundle, [template]) == []


def test_only_rules_naming_a_type_of_the_template_are_run(bundle: GuardBundle, tmp_path: Path) -> None:
    rules = rules_by_type(bundle.rules)
    selected = rules_for(_template(tmp_path, {"Work": QUEUE_WITHOUT_DLQ}), rules)
    assert selected and all("AWS::SQS::Queue" in rules[path] for path in selected)
    assert len(selected) < len(rules)


def test_a_report_without_construct_metadata_falls_back_to_template_and_logical_id() -> None:
    report = [
        {
            "name": "/nowhere/X.template.json",
            "not_compliant": [
                {
                    "Rule": {
                        "name": "sqs_dlq_check",
                        "checks": [
                            {"messages": {"custom_message": "[CT.SQS.PR.1]: Require a DLQ"}},
                            {"traversed_to": {"path": "/Resources/Work/Properties"}},
                        ],
                    }
                }
            ],
        }
    ]
    (finding,) = parse_report(report)
    assert (finding.control, finding.rule, finding.location) == ("CT.SQS.PR.1", "sqs_dlq_check", "X.template.json:Work")


def test_the_command_prints_each_failing_control_with_its_resources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tools.control_tower.__main__ import main

    _template(tmp_path, {"Work": QUEUE_WITHOUT_DLQ})
    assert main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert (
        "1 failing resource checks" in out and "CT.SQS.PR.1 (sqs_dlq_check): 1" in out and "Test/Work/Resource" in out
    )
