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


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    workdir = tmp_path_factory.mktemp("rehearsal")
    release = workdir / "given.json"
    write(release, repository="cashtrace/api", digest="sha256:" + "7" * 64, commit_sha=COMMIT)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["--release", str(release), "--workdir", str(workdir)])
    return code, printed.getvalue(), workdir


@pytest.mark.synth
def test_the_rehearsal_prints_the_pinned_digest_per_stage_and_passes(rehearsal: tuple[int, str, Path]) -> None:
    code, printed, _ = rehearsal
    assert code == 0, printed
    digest = "sha256:" + "7" * 64
    for stage, family in (("Staging", "cashtrace-staging-api"), ("Prod", "cashtrace-prod-api")):
        assert re.search(rf"^  {stage} +{family} +cashtrace/api@{digest}$", printed, re.MULTILINE), printed
    assert "stateful resources changed: none" in printed and "NOT EXPECTED" not in printed
    assert f"asks ECR for the scan of cashtrace/api@{digest}; with a clean scan it exits 0" in printed
    assert printed.count(f"commitSha {COMMIT}") == 3
    assert f"OK: staging and prod would ship cashtrace/api@{digest}" in printed


@pytest.mark.synth
def test_the_next_release_changes_only_task_definitions_and_their_rollout(rehearsal: tuple[int, str, Path]) -> None:
    _, _, workdir = rehearsal
    before, after = templates(workdir / "release.out"), templates(workdir / "next.out")
    changed = {(c.stack, c.resource_type) for c in changes(before, after)}
    for stack in (
        "CashTrace-Staging",
        "CashTrace-Prod",
        f"{PIPELINE}/Staging/Environment",
        f"{PIPELINE}/Prod/Environment",
    ):
        assert {(stack, "AWS::ECS::TaskDefinition"), (stack, "Custom::EcsDeployment")} <= changed
    assert (PIPELINE, "AWS::CodeBuild::Project") in changed
    assert {t for _, t in changed} == {"AWS::ECS::TaskDefinition", "Custom::EcsDeployment", "AWS::CodeBuild::Project"}
    next_digest = load(workdir / "next.json").digest
    assert {pin.digest for pin in pins(after)} == {next_digest}


@pytest.mark.synth
def test_a_stateful_change_or_another_image_is_caught(rehearsal: tuple[int, str, Path]) -> None:
    _, _, workdir = rehearsal
    before = templates(workdir / "release.out")
    after: dict[str, Any] = copy.deepcopy(before)
    prod = after[f"{PIPELINE}/Prod/Environment"]
    (database_id, database), *_ = of_type(prod, "AWS::RDS::DBInstance")
    database["Properties"]["AllocatedStorage"] = "999"
    (change,) = changes(before, after)
    assert (change.logical_id, change.stateful, change.expected) == (database_id, True, False)
    for _, task in of_type(prod, "AWS::ECS::TaskDefinition"):
        for container in task["Properties"]["ContainerDefinitions"]:
            container["Image"] = json.loads(json.dumps(container["Image"]).replace("@sha256:" + "7" * 64, ":hotfix"))
    assert [pin.image for pin in pins(after) if pin.stage == "Prod"] == ["cashtrace/api@hotfix"]


@pytest.mark.synth
def test_the_gate_refuses_a_manifest_other_than_the_one_it_was_synthesized_for(
    rehearsal: tuple[int, str, Path], tmp_path: Path
) -> None:
    _, _, workdir = rehearsal
    command = gate_command(templates(workdir / "release.out")[PIPELINE])
    other = tmp_path / "other.json"
    write(other, repository="cashtrace/api", digest="sha256:" + "8" * 64, commit_sha=COMMIT)
    code, asked, printed = run_gate(command, other)
    assert code == 1 and asked == {} and "DEPLOY_CI_FAILED [release.image.digest]" in printed
