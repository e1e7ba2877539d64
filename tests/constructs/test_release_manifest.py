"""The release manifest: what it accepts, what it refuses (DEPLOY_CI_FAILED naming the field), its CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cashtrace_constructs import release_manifest
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.release_manifest import (
    PLACEHOLDER_DIGEST,
    PLACEHOLDER_RELEASE,
    ReleaseManifest,
    is_placeholder,
    load,
    parse,
)

DIGEST = "sha256:" + "c" * 64
COMMIT = "0123456789abcdef0123456789abcdef01234567"  # pragma: allowlist secret


def _manifest(**changes: Any) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "schemaVersion": 1,
        "image": {"repository": "cashtrace/api", "digest": DIGEST},
        "commitSha": COMMIT,
        "builtAt": "2026-11-28T03:00:00Z",
    }
    for key, value in changes.items():
        if key.startswith("image_"):
            image = dict(manifest["image"])
            if value is None:
                image.pop(key.removeprefix("image_"))
            else:
                image[key.removeprefix("image_")] = value
            manifest["image"] = image
        elif value is None:
            manifest.pop(key)
        else:
            manifest[key] = value
    return manifest


def test_a_valid_manifest_names_one_image_by_digest() -> None:
    manifest = parse(_manifest())
    assert manifest == ReleaseManifest("cashtrace/api", DIGEST, COMMIT, "2026-11-28T03:00:00Z")
    assert manifest.image == f"cashtrace/api@{DIGEST}" and not manifest.is_placeholder
    assert parse(manifest.to_json()) == manifest


@pytest.mark.parametrize(
    ("changes", "field", "why"),
    [
        ({"image_digest": None, "image_tag": "v1.2.3"}, "release.image.digest", "names the tag 'v1.2.3' instead"),
        ({"image_digest": "v1.2.3"}, "release.image.digest", "is a tag"),
        ({"image_digest": "cashtrace/api:v1.2.3"}, "release.image.digest", "not a sha256 digest"),
        ({"image_digest": None}, "release.image.digest", "missing"),
        ({"image_digest": PLACEHOLDER_DIGEST}, "release.image.digest", "placeholder"),
        ({"image_digest": "sha256:" + "C" * 64}, "release.image.digest", "not a sha256 digest"),
        ({"image_tag": "v1.2.3"}, "release.image.tag", "repository and digest only"),
        ({"image_repository": "Not A Repo"}, "release.image.repository", "ECR repository name"),
        ({"image": "cashtrace/api@" + DIGEST}, "release.image", "must be an object"),
        ({"schemaVersion": 2}, "release.schemaVersion", "must be 1"),
        ({"schemaVersion": None}, "release.schemaVersion", "must be 1"),
        ({"commitSha": "abc123"}, "release.commitSha", "40-hex"),
        ({"commitSha": None}, "release.commitSha", "40-hex"),
        ({"builtAt": "2026-11-28 03:00"}, "release.builtAt", "ISO 8601 UTC"),
        ({"builtAt": "2026-02-30T03:00:00Z"}, "release.builtAt", "not a valid time"),
        ({"commit": COMMIT}, "release.commit", "not a field"),
    ],
)
def test_an_invalid_manifest_is_refused_naming_the_field(changes: dict[str, Any], field: str, why: str) -> None:
    with pytest.raises(DeploymentError) as error:
        parse(_manifest(**changes))
    assert (error.value.code, error.value.field) == (ErrorCode.CI_FAILED, field)
    assert why in str(error.value)


def test_a_manifest_of_the_old_shape_is_refused() -> None:
    # What release.yml wrote before issue 13: a tag beside the digest, no schema version.
    with pytest.raises(DeploymentError, match=r"\[release.schemaVersion\]"):
        parse({"image": {"repository": "cashtrace/api", "tag": COMMIT, "digest": DIGEST}, "commit": COMMIT})
    with pytest.raises(DeploymentError, match=r"\[release\]: must be a JSON object"):
        parse([DIGEST])


def test_the_placeholder_is_marked_and_can_never_pass_for_a_release() -> None:
    assert is_placeholder(PLACEHOLDER_DIGEST) and PLACEHOLDER_RELEASE.is_placeholder
    assert not is_placeholder(DIGEST)
    with pytest.raises(DeploymentError, match="placeholder"):
        parse(PLACEHOLDER_RELEASE.to_json())


def test_load_refuses_a_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(DeploymentError, match=r"DEPLOY_CI_FAILED \[release\]: the release manifest .* does not exist"):
        load(tmp_path / "release.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(DeploymentError, match="is not JSON"):
        load(tmp_path / "broken.json")


def test_the_command_line_writes_checks_and_summarizes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "release.json"
    arguments = ["write", str(path), "--repository", "cashtrace/api", "--digest", DIGEST, "--commit", COMMIT]
    assert release_manifest.main(arguments) == 0
    written = json.loads(path.read_text())
    assert written["image"] == {"repository": "cashtrace/api", "digest": DIGEST} and written["commitSha"] == COMMIT
    assert load(path).built_at == written["builtAt"]
    capsys.readouterr()
    assert release_manifest.main(["summary", str(path)]) == 0
    summary = capsys.readouterr().out.strip()
    assert summary == load(path).revision_summary() and COMMIT in summary and DIGEST in summary
    assert release_manifest.main(["check", str(path)]) == 0
    assert capsys.readouterr().out.strip() == f"cashtrace/api@{DIGEST}"
    # CI pushing a tag where the digest goes fails the release job before anything is uploaded.
    assert release_manifest.main([*arguments[:4], "--digest", "v1", "--commit", COMMIT]) == 1
    assert "DEPLOY_CI_FAILED [release.image.digest]" in capsys.readouterr().err
