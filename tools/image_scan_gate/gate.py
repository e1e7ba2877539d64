"""Property 3: block a release whose image has an ECR scan finding at or above the threshold.

Pipeline code (boto3 only, no CDK). The pipeline's CodeBuild step runs it before staging as
`python -m tools.image_scan_gate`; a blocking finding exits non-zero with DEPLOY_CI_FAILED.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cashtrace_constructs.config import SEVERITIES
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.release_manifest import ReleaseManifest, require_digest

# Lowest first; the pipeline config refuses a threshold outside this order.
SEVERITY_ORDER = SEVERITIES
# Basic scanning reports UNDEFINED and Inspector UNTRIAGED for CVEs not yet scored; they rank
# below every threshold but are listed so an operator sees them.
UNRANKED = frozenset({"UNDEFINED", "UNTRIAGED"})
# Still scanning: wait (bounded) for the result.
IN_PROGRESS = frozenset({"IN_PROGRESS", "PENDING"})
# Results are in: COMPLETE for basic scanning, ACTIVE for enhanced (continuous) scanning.
READY = frozenset({"COMPLETE", "ACTIVE"})
# ECR's answers that mean the image to ship is not there.
_MISSING = frozenset({"ImageNotFoundException", "RepositoryNotFoundException"})
_DENIED = frozenset({"AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "ExpiredTokenException"})


@dataclass(frozen=True)
class ReleaseImage:
    """The image a release ships, by digest only: a tag could be moved after the scan."""

    repository: str
    digest: str

    def __post_init__(self) -> None:
        require_digest(self.digest, "release.image.digest")

    @property
    def image_id(self) -> dict[str, str]:
        return {"imageDigest": self.digest}

    @property
    def label(self) -> str:
        return f"{self.repository}@{self.digest}"


def release_image(repository: str, *, digest: str | None, manifest: ReleaseManifest | None) -> ReleaseImage:
    """The image to check: the pipeline's pinned `digest`, which the source's manifest must agree with.

    The pipeline writes the digest its stage templates pin into this step; the manifest comes from the
    source artifact of the running execution. They differ only when a stage of an older execution is
    retried after the pipeline moved on, and then the gate would check one image and deploy another.
    """
    if manifest is not None:
        if manifest.repository != repository:
            raise DeploymentError(
                ErrorCode.CI_FAILED,
                f"names the repository {manifest.repository!r}, the gate checks {repository!r}",
                field="release.image.repository",
            )
        if digest is not None and digest != manifest.digest:
            raise DeploymentError(
                ErrorCode.CI_FAILED,
                f"the pipeline was synthesized for {digest} but this execution's manifest names {manifest.digest}; "
                "start a new execution instead of retrying an old one",
                field="release.image.digest",
            )
        return ReleaseImage(repository=repository, digest=manifest.digest)
    if digest is None:
        raise DeploymentError(ErrorCode.CI_FAILED, "give the release digest or manifest", field="release.image.digest")
    return ReleaseImage(repository=repository, digest=digest)


@dataclass(frozen=True)
class ScanVerdict:
    image: ReleaseImage
    threshold: str
    counts: Mapping[str, int]
    blocking: tuple[str, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return not self.blocking

    def summary(self) -> str:
        counts = ", ".join(f"{severity}={count}" for severity, count in sorted(self.counts.items())) or "none"
        if self.passed:
            return f"{self.image.label}: no finding at or above {self.threshold} (findings: {counts})"
        return (
            f"{self.image.label}: {len(self.blocking)} finding(s) at or above {self.threshold} block the release "
            f"(findings: {counts}): {', '.join(self.blocking[:20])}"
        )


def rank(severity: str) -> int:
    """Position in SEVERITY_ORDER; unranked severities sit below INFORMATIONAL."""
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else -1


def _require_threshold(threshold: str) -> str:
    if threshold not in SEVERITY_ORDER:
        raise DeploymentError(
            ErrorCode.CONFIG_INVALID,
            f"must be one of {', '.join(SEVERITY_ORDER)}, got {threshold!r}",
            field="pipeline.vulnerability_severity_threshold",
        )
    return threshold


def _findings(pages: Iterable[Mapping[str, Any]]) -> tuple[Counter[str], list[tuple[str, str]], Counter[str]]:
    """Severity counts and names of every finding over all pages, plus the summary counts ECR reports."""
    counts: Counter[str] = Counter()
    reported: Counter[str] = Counter()
    names: list[tuple[str, str]] = []
    for page in pages:
        findings = page.get("imageScanFindings") or {}
        reported = Counter(findings.get("findingSeverityCounts") or {}) or reported
        for finding in findings.get("findings") or []:
            counts[finding.get("severity", "UNDEFINED")] += 1
            names.append((finding.get("severity", "UNDEFINED"), finding.get("name", "?")))
        for finding in findings.get("enhancedFindings") or []:
            # Inspector keeps suppressed and closed findings; only active ones describe the image.
            if finding.get("status", "ACTIVE") != "ACTIVE":
                continue
            vulnerability = (finding.get("packageVulnerabilityDetails") or {}).get("vulnerabilityId")
            counts[finding.get("severity", "UNTRIAGED")] += 1
            names.append((finding.get("severity", "UNTRIAGED"), vulnerability or finding.get("title", "?")))
    return counts, names, reported


def one_line(text: str, limit: int = 300) -> str:
    """A reason fit for one line of the pipeline log."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _scan_findings(ecr: Any, image: ReleaseImage, request: Mapping[str, Any]) -> dict[str, Any]:
    """One DescribeImageScanFindings call; ECR's and the network's failures become DEPLOY_CI_FAILED."""
    try:
        page: dict[str, Any] = ecr.describe_image_scan_findings(**request)
        return page
    except ecr.exceptions.ScanNotFoundException:
        raise
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        if code in _MISSING:
            reason = f"{image.label} is not in ECR ({code}): push the release image before the gate runs"
        elif code in _DENIED:
            reason = f"ECR denied reading the scan of {image.label} ({code}: {message})"
        else:
            reason = f"ECR failed reading the scan of {image.label} ({code}: {message})"
        raise DeploymentError(ErrorCode.CI_FAILED, one_line(reason), field="release.image") from None
    except BotoCoreError as error:
        raise DeploymentError(
            ErrorCode.CI_FAILED, one_line(f"cannot reach ECR for {image.label}: {error}"), field="release.image"
        ) from None


def evaluate(
    ecr: Any,
    image: ReleaseImage,
    *,
    threshold: str = "HIGH",
    wait_seconds: float = 600,
    poll_seconds: float = 15,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ScanVerdict:
    """Read the image's scan findings (waiting up to `wait_seconds` for a running scan) and judge them.

    Raises DeploymentError DEPLOY_CI_FAILED when the scan never completes or failed: an image
    that was not scanned is not known to be safe.
    """
    threshold = _require_threshold(threshold)
    deadline = clock() + wait_seconds
    request = {"repositoryName": image.repository, "imageId": image.image_id}
    while True:
        try:
            first = _scan_findings(ecr, image, request)
            status = (first.get("imageScanStatus") or {}).get("status", "")
            description = (first.get("imageScanStatus") or {}).get("description", "")
        except ecr.exceptions.ScanNotFoundException:
            status, description = "NOT_STARTED", "no scan exists for this image yet"
        if status in READY:
            break
        if status not in IN_PROGRESS and status != "NOT_STARTED":
            raise DeploymentError(
                ErrorCode.CI_FAILED,
                f"{image.label}: the image scan ended {status} ({description}); an unscanned image cannot ship",
                field="release.image",
            )
        if clock() + poll_seconds > deadline:
            raise DeploymentError(
                ErrorCode.CI_FAILED,
                f"{image.label}: the image scan is still {status} after {wait_seconds:.0f} s",
                field="release.image",
            )
        sleep(poll_seconds)

    pages = [first]
    token = first.get("nextToken")
    while token:
        page = _scan_findings(ecr, image, {**request, "nextToken": token})
        pages.append(page)
        token = page.get("nextToken")
    counts, names, reported = _findings(pages)
    # The summary counts cover findings the listing may omit; either source can block.
    totals = Counter({severity: max(counts[severity], reported[severity]) for severity in {*counts, *reported}})
    floor = rank(threshold)
    blocking = tuple(f"{name} ({severity})" for severity, name in names if rank(severity) >= floor)
    if not blocking and any(rank(severity) >= floor and count for severity, count in totals.items()):
        blocking = tuple(f"{count} {severity}" for severity, count in totals.items() if rank(severity) >= floor)
    return ScanVerdict(image=image, threshold=threshold, counts=dict(totals), blocking=blocking)


def enforce(verdict: ScanVerdict) -> None:
    if not verdict.passed:
        raise DeploymentError(
            ErrorCode.CI_FAILED, f"Property 3 (security scan): {verdict.summary()}", field="release.image"
        )
