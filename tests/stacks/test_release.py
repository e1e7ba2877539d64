"""Which release the app synthesizes: a manifest, a bare digest, or the placeholder; and what it refuses."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from cashtrace_constructs.checks.promotion_gate import GATE_TYPE
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.release_manifest import PLACEHOLDER_RELEASE, write
from stacks import environments
from stacks.app import build_app
from stacks.release import break_glass_from_context, release_from_context
from stacks.stage import CashTraceStage
from tests.synth import make_app

DIGEST = "sha256:" + "d" * 64
COMMIT = "0123456789abcdef0123456789abcdef01234567"  # pragma: allowlist secret


def test_no_release_named_is_the_placeholder() -> None:
    assert release_from_context({}) is PLACEHOLDER_RELEASE
    assert release_from_context({"release": None, "image-digest": ""}) is PLACEHOLDER_RELEASE


def test_a_manifest_names_digest_and_commit(tmp_path: Path) -> None:
    path = tmp_path / "release.json"
    written = write(path, repository="cashtrace/api", digest=DIGEST, commit_sha=COMMIT)
    assert release_from_context({"release": str(path)}) == written


def test_a_bare_digest_names_no_commit() -> None:
    release = release_from_context({"image-digest": DIGEST})
    assert (release.digest, release.commit_sha, release.repository) == (DIGEST, "", "cashtrace/api")


@pytest.mark.parametrize(
    ("context", "field"),
    [
        ({"image-digest": "v1.4.2"}, "context.image-digest"),
        ({"image-digest": PLACEHOLDER_RELEASE.digest}, "context.image-digest"),
        ({"image-tag": "v1.4.2"}, "context.image-tag"),
        ({"image-digest": DIGEST, "release": "release.json"}, "context.image-digest"),
        ({"release": "/nonexistent/release.json"}, "release"),
    ],
)
def test_a_tag_a_placeholder_or_two_inputs_are_refused(context: dict[str, str], field: str) -> None:
    with pytest.raises(DeploymentError) as error:
        release_from_context(context)
    assert (error.value.code, error.value.field) == (ErrorCode.CI_FAILED, field)


def test_a_manifest_naming_a_tag_is_refused_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "release.json"
    path.write_text(
        json.dumps(
            {
                "schemaVersion": 1,
                "image": {"repository": "cashtrace/api", "tag": "v1.4.2"},
                "commitSha": COMMIT,
                "builtAt": "2026-11-28T03:00:00Z",
            }
        )
    )
    with pytest.raises(DeploymentError, match=r"DEPLOY_CI_FAILED \[release.image.digest\]: missing: .* 'v1.4.2'"):
        release_from_context({"release": str(path)})


# ---- break-glass: `cdk deploy CashTrace-Prod -c break-glass="<reason>"` -------------------------


def test_no_break_glass_unless_asked() -> None:
    assert break_glass_from_context({}) is None


def test_a_break_glass_reason_is_kept_in_one_line() -> None:
    assert break_glass_from_context({"break-glass": "INC-42:\n payments down,  hotfix"}) == (
        "INC-42: payments down, hotfix"
    )


@pytest.mark.parametrize("value", ["", "true", "1", "   ", "hotfix", "x" * 501])
def test_break_glass_without_a_real_reason_is_refused(value: str) -> None:
    with pytest.raises(DeploymentError) as error:
        break_glass_from_context({"break-glass": value})
    assert (error.value.code, error.value.field) == (ErrorCode.APPROVAL_REQUIRED, "context.break-glass")


@pytest.mark.synth
def test_break_glass_is_recorded_on_the_top_level_prod_stack(tmp_path: Path) -> None:
    reason = "INC-4711: payments down, hotfix cannot wait for staging"
    app = make_app(tmp_path, **{"break-glass": reason})
    stacks = build_app(app, [environments.prod()], with_pipeline=False)
    template = Template.from_stack(stacks["prod"]).to_json()
    (gate,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == GATE_TYPE]
    assert gate["BreakGlassReason"] == reason
    assert template["Outputs"]["BreakGlassReason"]["Value"] == reason
    # Whatever the gate decided, and why, is an output of the stack too.
    assert template["Outputs"]["PromotionEvidence"]["Value"]["Fn::GetAtt"][1] == "Evidence"


def test_the_pipeline_stages_never_take_break_glass(templates: dict[str, dict[str, Any]]) -> None:
    # build_app passes the reason to the top-level stacks only; CashTraceStage has no such input.
    assert "break_glass_reason" not in inspect.signature(CashTraceStage).parameters
    stage = templates["CashTrace-Pipeline/Prod/Environment"]
    (gate,) = [r["Properties"] for r in stage["Resources"].values() if r["Type"] == GATE_TYPE]
    assert "BreakGlassReason" not in gate and "BreakGlassReason" not in stage["Outputs"]
