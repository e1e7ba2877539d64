"""The release manifest (`release.json`): the one input that names the image a release ships.

CI writes it (`python -m cashtrace_constructs.release_manifest write ...`) into the source zip it
hands the pipeline; the pipeline's synth pins every task definition to its digest, the image scan
gate checks that digest, and the deployment record reads its commit back. Pure Python (no CDK), so
the gate, the live-test suites and CI's workflow read it through this module too.

    {"schemaVersion": 1,
     "image": {"repository": "cashtrace/api", "digest": "sha256:<64 hex>"},
     "commitSha": "<40 hex>",
     "builtAt": "<ISO 8601 UTC, e.g. 2026-11-28T03:00:00Z>"}
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cashtrace_constructs.errors import DeploymentError, ErrorCode

SCHEMA_VERSION = 1
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
# ECR repository names: lower-case path components separated by '.', '_' or '-'.
REPOSITORY_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
_BUILT_AT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z$")

# What a synth without a release pins: a well-formed digest no image can have (finding bytes that
# hash to it is a preimage attack on SHA-256), so ECS could never pull it. Every environment
# stack synthesized with it carries a CloudFormation rule that refuses the deployment as well.
PLACEHOLDER_DIGEST = "sha256:" + "0" * 64
PLACEHOLDER_COMMIT = "0" * 40
# What CodePipeline's S3 source shows as the revision summary: the object metadata
# `codepipeline-artifact-revision-summary`, which CI sets from `ReleaseManifest.revision_summary`.
REVISION_SUMMARY_METADATA = "codepipeline-artifact-revision-summary"


def is_placeholder(digest: str) -> bool:
    """True for the digest a synth without a release pins; preflight and promotion must refuse it."""
    return digest == PLACEHOLDER_DIGEST


def _refuse(field: str, message: str) -> DeploymentError:
    return DeploymentError(ErrorCode.CI_FAILED, message, field=field)


def require_digest(value: Any, field: str) -> str:
    """`value` as a deployable image digest: a sha256 digest, not a tag, not the placeholder."""
    if not isinstance(value, str) or not value:
        raise _refuse(field, "missing: a release names its image by sha256 digest")
    if not DIGEST_RE.match(value):
        kind = "a tag" if ":" not in value and "@" not in value else "not a sha256 digest"
        raise _refuse(
            field,
            f"{value!r} is {kind}: a release names its image by 'sha256:<64 hex>', because a tag can be "
            "moved after the scan",
        )
    if is_placeholder(value):
        raise _refuse(field, "is the synth-only placeholder digest, which names no image and can never be deployed")
    return value


@dataclass(frozen=True)
class ReleaseManifest:
    """One release: which image (repository and digest), built from which commit, when."""

    repository: str
    digest: str
    commit_sha: str
    built_at: str

    @property
    def is_placeholder(self) -> bool:
        return is_placeholder(self.digest)

    @property
    def image(self) -> str:
        return f"{self.repository}@{self.digest}"

    def to_json(self) -> dict[str, Any]:
        return {
            "schemaVersion": SCHEMA_VERSION,
            "image": {"repository": self.repository, "digest": self.digest},
            "commitSha": self.commit_sha,
            "builtAt": self.built_at,
        }

    def revision_summary(self) -> str:
        """The S3 source object's revision summary; the deployment record parses it back."""
        return f"commit={self.commit_sha} digest={self.digest} repository={self.repository}"


PLACEHOLDER_RELEASE = ReleaseManifest(
    repository="cashtrace/api", digest=PLACEHOLDER_DIGEST, commit_sha=PLACEHOLDER_COMMIT, built_at=""
)


def parse(data: Any, *, root: str = "release") -> ReleaseManifest:
    """Validate a decoded manifest; every refusal is DEPLOY_CI_FAILED naming the field (`release.image.digest`)."""
    if not isinstance(data, Mapping):
        raise _refuse(root, f"must be a JSON object, got {type(data).__name__}")
    version = data.get("schemaVersion")
    if version != SCHEMA_VERSION:
        raise _refuse(f"{root}.schemaVersion", f"must be {SCHEMA_VERSION}, got {version!r}")
    unknown = sorted(set(data) - {"schemaVersion", "image", "commitSha", "builtAt"})
    if unknown:
        raise _refuse(f"{root}.{unknown[0]}", "is not a field of the release manifest")
    image = data.get("image")
    if not isinstance(image, Mapping):
        raise _refuse(f"{root}.image", "must be an object with repository and digest")
    repository = image.get("repository")
    if not isinstance(repository, str) or not REPOSITORY_RE.match(repository) or len(repository) > 256:
        raise _refuse(f"{root}.image.repository", f"must be an ECR repository name, got {repository!r}")
    if "digest" not in image and "tag" in image:
        raise _refuse(
            f"{root}.image.digest",
            f"missing: the manifest names the tag {image['tag']!r} instead, and a tag can be moved after the scan",
        )
    digest = require_digest(image.get("digest"), f"{root}.image.digest")
    extra = sorted(set(image) - {"repository", "digest"})
    if extra:
        # A tag beside the digest would leave two answers to "which image is this release".
        raise _refuse(f"{root}.image.{extra[0]}", "is not a field of the release image (repository and digest only)")
    commit = data.get("commitSha")
    if not isinstance(commit, str) or not COMMIT_RE.match(commit):
        raise _refuse(f"{root}.commitSha", f"must be a full 40-hex git commit sha, got {commit!r}")
    built_at = data.get("builtAt")
    if not isinstance(built_at, str) or not _BUILT_AT_RE.match(built_at):
        raise _refuse(f"{root}.builtAt", f"must be an ISO 8601 UTC time like 2026-11-28T03:00:00Z, got {built_at!r}")
    try:
        datetime.fromisoformat(built_at.replace("Z", "+00:00"))
    except ValueError:
        raise _refuse(f"{root}.builtAt", f"{built_at!r} is not a valid time") from None
    return ReleaseManifest(repository=repository, digest=digest, commit_sha=commit, built_at=built_at)


def load(path: Path | str, *, root: str = "release") -> ReleaseManifest:
    """Read and validate `release.json`; a missing or malformed file is DEPLOY_CI_FAILED too."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise _refuse(root, f"the release manifest {path} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise _refuse(root, f"{path} is not JSON: {error}") from None
    return parse(data, root=root)


def write(
    path: Path | str, *, repository: str, digest: str, commit_sha: str, built_at: str | None = None
) -> ReleaseManifest:
    """Validate and write a manifest (CI's release job); `built_at` defaults to now."""
    stamp = built_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    manifest = parse(
        {
            "schemaVersion": SCHEMA_VERSION,
            "image": {"repository": repository, "digest": digest},
            "commitSha": commit_sha,
            "builtAt": stamp,
        }
    )
    Path(path).write_text(json.dumps(manifest.to_json(), indent=2, sort_keys=True) + "\n")
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    """`write` a manifest, `check` one, or print its S3 revision `summary` (CI's release job)."""
    parser = argparse.ArgumentParser(prog="python -m cashtrace_constructs.release_manifest", description=main.__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    writing = commands.add_parser("write")
    writing.add_argument("path", type=Path)
    writing.add_argument("--repository", required=True)
    writing.add_argument("--digest", required=True)
    writing.add_argument("--commit", required=True)
    writing.add_argument("--built-at")
    for name in ("check", "summary"):
        commands.add_parser(name).add_argument("path", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "write":
            manifest = write(
                args.path,
                repository=args.repository,
                digest=args.digest,
                commit_sha=args.commit,
                built_at=args.built_at,
            )
        else:
            manifest = load(args.path)
    except DeploymentError as error:
        print(error, file=sys.stderr)
        return 1
    print(manifest.revision_summary() if args.command == "summary" else manifest.image)
    return 0


if __name__ == "__main__":
    sys.exit(main())
