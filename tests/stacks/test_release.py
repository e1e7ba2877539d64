"""Which release the app synthesizes: a manifest, a bare digest, or the placeholder; and what it refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.release_manifest import PLACEHOLDER_RELEASE, write
from stacks.release import release_from_context

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
