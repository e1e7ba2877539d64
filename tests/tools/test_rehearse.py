"""`make rehearse`: a release synthesized as the pipeline does pins staging and prod to its digest, and only it.

One rehearsal of the real app (two syntheses, in parallel) for the module; the analysis is then
tried on edited copies of its templates, so every check of the rehearsal is shown to fail too.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from cashtrace_constructs.checks.template import of_type
from cashtrace_constructs.release_manifest import PLACEHOLDER_DIGEST, load, write
from tools.rehearse.__main__ import main
from tools.rehearse.rehearsal import PIPELINE, changes, gate_command, pins, run_gate, templates

COMMIT = "0123456789abcdef0123456789abcdef01234567"  # pragma: allowlist secret


def _manifest(path: Path, image: dict[str, str]) -> Path:
    data = {"schemaVersion": 1, "image": image, "commitSha": COMMIT, "builtAt": "2026-11-28T03:00:00Z"}
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("image", "why"),
    [
        ({"repository": "cashtrace/api", "tag": "v1.4.2"}, "names the tag 'v1.4.2' instead"),
        ({"repository": "cashtrace/api", "digest": "v1.4.2"}, "is a tag"),
        ({"repository": "cashtrace/api", "digest": PLACEHOLDER_DIGEST}, "placeholder"),
    ],
    ids=["tag-instead-of-digest", "tag-in-the-digest-field", "placeholder"],
)
def test_a_release_naming_a_tag_or_the_placeholder_is_refused_before_synthesis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], image: dict[str, str], why: str
) -> None:
    release = _manifest(tmp_path / "release.json", image)
    assert main(["--release", str(release), "--workdir", str(tmp_path / "work")]) == 1
    error = capsys.readouterr().err
    assert "DEPLOY_CI_FAILED [release.image.digest]" in error and why in error
    # Refused before anything was synthesized.
    assert not (tmp_path / "work" / "release.out").exists()


@pytest.mark.synth
def test_make_rehearse_shows_what_ships_and_each_of_its_checks_can_fail(tmp_path: Path) -> None:
    """One rehearsal (two syntheses of the real app): what it prints, then its checks on edited copies.

    One test, not several sharing a fixture: pytest-xdist would run such a fixture once per worker.
    """
    digest = "sha256:" + "7" * 64
    release = tmp_path / "given.json"
    write(release, repository="cashtrace/api", digest=digest, commit_sha=COMMIT)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["--release", str(release), "--workdir", str(tmp_path)])
    output = printed.getvalue()
    assert code == 0, output

    # (a) the pinned digest per stage, (b) nothing stateful, (c) the gate, (d) the record.
    for stage, family in (("Staging", "cashtrace-staging-api"), ("Prod", "cashtrace-prod-api")):
        assert re.search(rf"^  {stage} +{family} +cashtrace/api@{digest}$", output, re.MULTILINE), output
    assert "stateful resources changed: none" in output and "NOT EXPECTED" not in output
    assert f"asks ECR for the scan of cashtrace/api@{digest}; with a clean scan it exits 0" in output
    assert output.count(f"commitSha {COMMIT}") == 3
    assert f"OK: staging and prod would ship cashtrace/api@{digest}" in output

    # (b) a next release changes the task definitions, their rollout, prod's promotion gate and the
    # security gate's build, nothing else.
    before, after = templates(tmp_path / "release.out"), templates(tmp_path / "next.out")
    changed = {(c.stack, c.resource_type) for c in changes(before, after)}
    staged = (f"{PIPELINE}/Staging/Environment", f"{PIPELINE}/Prod/Environment")
    for stack in ("CashTrace-Staging", "CashTrace-Prod", *staged):
        assert {(stack, "AWS::ECS::TaskDefinition"), (stack, "Custom::EcsDeployment")} <= changed
    assert {(stack, t) for stack, t in changed if t == "Custom::PromotionGate"} == {
        ("CashTrace-Prod", "Custom::PromotionGate"), (f"{PIPELINE}/Prod/Environment", "Custom::PromotionGate")
    }  # fmt: skip
    assert {t for _, t in changed} == {
        "AWS::ECS::TaskDefinition", "Custom::EcsDeployment", "Custom::PromotionGate", "AWS::CodeBuild::Project"
    }  # fmt: skip
    assert {pin.digest for pin in pins(after)} == {load(tmp_path / "next.json").digest}

    # A stateful change is caught, and so is a stage running another image.
    edited: dict[str, Any] = copy.deepcopy(before)
    prod = edited[f"{PIPELINE}/Prod/Environment"]
    (database_id, database), *_ = of_type(prod, "AWS::RDS::DBInstance")
    database["Properties"]["AllocatedStorage"] = "999"
    (change,) = changes(before, edited)
    assert (change.logical_id, change.stateful, change.expected) == (database_id, True, False)
    for _, task in of_type(prod, "AWS::ECS::TaskDefinition"):
        for container in task["Properties"]["ContainerDefinitions"]:
            container["Image"] = json.loads(json.dumps(container["Image"]).replace(f"@{digest}", ":hotfix"))
    assert [pin.image for pin in pins(edited) if pin.stage == "Prod"] == ["cashtrace/api@hotfix"]

    # (c) the gate, as synthesized for this release, refuses a manifest naming another digest.
    other = tmp_path / "other.json"
    write(other, repository="cashtrace/api", digest="sha256:" + "8" * 64, commit_sha=COMMIT)
    code, asked, gate_output = run_gate(gate_command(before[PIPELINE]), other)
    assert code == 1 and asked == {} and "DEPLOY_CI_FAILED [release.image.digest]" in gate_output
