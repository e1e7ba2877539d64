"""release.yml builds the reference service and hands the pipeline a manifest written by the manifest module."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml

from cashtrace_constructs.release_manifest import REVISION_SUMMARY_METADATA
from stacks.environments import pipeline

ROOT = Path(__file__).resolve().parents[2]


def _release() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    return loaded


def _step(name: str) -> str:
    (step,) = [s for s in _release()["jobs"]["release"]["steps"] if s.get("name") == name]
    return str(step["run"])


def test_release_builds_the_reference_service_with_its_commit() -> None:
    environment = _release()["env"]
    assert (ROOT / environment["APP_CONTEXT"] / "Dockerfile").is_file()
    build = _step("build the image")
    assert '--build-arg "COMMIT_SHA=${GITHUB_SHA}"' in build and '"${APP_CONTEXT}"' in build


def test_the_manifest_names_the_pipelines_repository_and_the_pushed_digest() -> None:
    environment = _release()["env"]
    config = pipeline()
    assert environment["ECR_REPOSITORY"] == config.release_repository
    assert environment["SOURCE_OBJECT_KEY"] == config.source_object_key
    hand = _step("hand the source to the CD pipeline")
    written = hand.split("python3 -m cashtrace_constructs.release_manifest write", 1)[1]
    command = shlex.split(written.replace("\\\n", " ").split("\n", 1)[0])
    expected = ["--repository", "${ECR_REPOSITORY}", "--digest", "${DIGEST}", "--commit", "${GITHUB_SHA}"]
    assert command == [config.release_manifest, *expected]
    # The zip carries the manifest at its root, where the pipeline's synth and gate read it.
    assert f"zip -q cashtrace.zip {config.release_manifest}" in hand
    # The deployment record's commit and digest come back through the S3 source's revision summary.
    assert "release_manifest summary release.json" in hand and REVISION_SUMMARY_METADATA in hand
