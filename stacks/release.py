"""Which release the app synthesizes: `-c release=<release.json>`, `-c image-digest=sha256:...`, or none.

With a manifest (the pipeline's synth, `make rehearse`, `cdk deploy ... -c release=release.json`) or a
bare digest, every environment pins that digest, and a tag, a missing digest or the placeholder is
refused with DEPLOY_CI_FAILED naming the field. With neither, the app synthesizes the placeholder
digest (`make synth` on a laptop), which can never be deployed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.release_manifest import PLACEHOLDER_RELEASE, ReleaseManifest, load, require_digest

RELEASE_CONTEXT = "release"
IMAGE_DIGEST_CONTEXT = "image-digest"
# Before issue 13 deploys took `-c image-tag`; it is refused, not ignored, so no one ships a tag thinking it pinned.
RETIRED_IMAGE_TAG_CONTEXT = "image-tag"
# `cdk deploy CashTrace-Prod -c break-glass="<reason>"`: the promotion gate lets an unverified release
# through and records the reason. Top-level stacks only: the pipeline's stages always pass the gate.
BREAK_GLASS_CONTEXT = "break-glass"
CONTEXT_KEYS = (RELEASE_CONTEXT, IMAGE_DIGEST_CONTEXT, RETIRED_IMAGE_TAG_CONTEXT, BREAK_GLASS_CONTEXT)
# A reason someone can audit later (an incident id and a sentence), and that fits a stack output.
BREAK_GLASS_REASON_LENGTH = (10, 500)


def release_from_context(context: Mapping[str, Any]) -> ReleaseManifest:
    """The release named by the CDK context, or the placeholder release when none is named."""
    manifest_path = context.get(RELEASE_CONTEXT)
    digest = context.get(IMAGE_DIGEST_CONTEXT)
    tag = context.get(RETIRED_IMAGE_TAG_CONTEXT)
    if tag:
        raise DeploymentError(
            ErrorCode.CI_FAILED,
            f"{tag!r}: images are deployed by digest only; pass -c release=<release.json> or "
            "-c image-digest=sha256:<64 hex>",
            field=f"context.{RETIRED_IMAGE_TAG_CONTEXT}",
        )
    if manifest_path and digest:
        raise DeploymentError(
            ErrorCode.CI_FAILED,
            "give the release manifest or a digest, not both: two inputs could name two images",
            field=f"context.{IMAGE_DIGEST_CONTEXT}",
        )
    if manifest_path:
        return load(str(manifest_path))
    if digest:
        return ReleaseManifest(
            repository=PLACEHOLDER_RELEASE.repository,
            digest=require_digest(str(digest), f"context.{IMAGE_DIGEST_CONTEXT}"),
            commit_sha="",
            built_at="",
        )
    return PLACEHOLDER_RELEASE


def break_glass_from_context(context: Mapping[str, Any]) -> str | None:
    """The break-glass reason of `-c break-glass="<reason>"`, or None; a flag without a real reason is refused."""
    value = context.get(BREAK_GLASS_CONTEXT)
    if value is None:
        return None
    reason = " ".join(str(value).split())
    shortest, longest = BREAK_GLASS_REASON_LENGTH
    if not shortest <= len(reason) <= longest or reason.lower() in ("true", "false", "yes", "1"):
        raise DeploymentError(
            ErrorCode.APPROVAL_REQUIRED,
            f"{reason!r}: say why the release cannot wait for staging, its tests and an approval "
            f"({shortest}-{longest} characters, e.g. an incident id and a sentence); it is recorded",
            field=f"context.{BREAK_GLASS_CONTEXT}",
        )
    return reason


def require_repository(release: ReleaseManifest, repository_name: str) -> None:
    """The manifest's repository is the one the environments pull from (the pipeline's release repository)."""
    if release.repository != repository_name:
        raise DeploymentError(
            ErrorCode.CI_FAILED,
            f"names the repository {release.repository!r}, but the environments pull from {repository_name!r}",
            field="release.image.repository",
        )
