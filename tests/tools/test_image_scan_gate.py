"""The security gate (Property 3) against ECR responses checked by botocore's Stubber."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.release_manifest import PLACEHOLDER_DIGEST, write
from tools.image_scan_gate.__main__ import main
from tools.image_scan_gate.gate import ReleaseImage, enforce, evaluate, rank

DIGEST = "sha256:" + "a" * 64
COMMIT = "0123456789abcdef0123456789abcdef01234567"  # pragma: allowlist secret
IMAGE = ReleaseImage(repository="cashtrace/api", digest=DIGEST)
REQUEST = {"repositoryName": "cashtrace/api", "imageId": {"imageDigest": DIGEST}}


def _client() -> Any:
    return boto3.client("ecr", region_name="af-south-1", aws_access_key_id="test", aws_secret_access_key="test")


def _page(status: str = "COMPLETE", findings: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for finding in findings or []:
        counts[finding["severity"]] = counts.get(finding["severity"], 0) + 1
    return {
        "repositoryName": "cashtrace/api",
        "imageId": {"imageDigest": DIGEST},
        "imageScanStatus": {"status": status, "description": status.lower()},
        "imageScanFindings": {"findings": findings or [], "findingSeverityCounts": counts},
        **extra,
    }


def _finding(severity: str, name: str = "CVE-2026-0001") -> dict[str, Any]:
    return {"name": name, "severity": severity, "uri": f"https://cve.example/{name}"}


def _judge(pages: list[dict[str, Any]], threshold: str = "HIGH", **kwargs: Any) -> Any:
    ecr = _client()
    with Stubber(ecr) as stub:
        for index, page in enumerate(pages):
            request = dict(REQUEST)
            if index and pages[index - 1].get("nextToken"):
                request["nextToken"] = pages[index - 1]["nextToken"]
            stub.add_response("describe_image_scan_findings", page, request)
        verdict = evaluate(ecr, IMAGE, threshold=threshold, sleep=lambda _: None, **kwargs)
        stub.assert_no_pending_responses()
    return verdict


@pytest.mark.parametrize(
    ("severity", "passes"),
    [("CRITICAL", False), ("HIGH", False), ("MEDIUM", True), ("LOW", True), ("UNDEFINED", True)],
    ids=["above", "at", "below", "far-below", "unranked"],
)
def test_findings_above_and_at_the_threshold_block_and_below_pass(severity: str, passes: bool) -> None:
    verdict = _judge([_page(findings=[_finding(severity)])], threshold="HIGH")
    assert verdict.passed is passes
    if not passes:
        with pytest.raises(DeploymentError) as error:
            enforce(verdict)
        assert error.value.code is ErrorCode.CI_FAILED
        assert "CVE-2026-0001" in str(error.value) and "Property 3" in str(error.value)


def test_threshold_comes_from_config_and_moves_the_line() -> None:
    assert not _judge([_page(findings=[_finding("MEDIUM")])], threshold="MEDIUM").passed
    assert _judge([_page(findings=[_finding("HIGH")])], threshold="CRITICAL").passed


def test_no_findings_passes() -> None:
    verdict = _judge([_page()])
    assert verdict.passed and verdict.counts == {}
    enforce(verdict)


def test_a_blocking_finding_on_a_later_page_is_found() -> None:
    pages = [
        _page(findings=[_finding("LOW", f"CVE-2026-{n:04}") for n in range(3)], nextToken="page-2"),
        _page(findings=[_finding("CRITICAL", "CVE-2026-9999")]),
    ]
    pages[1]["imageScanFindings"]["findingSeverityCounts"] = {}
    verdict = _judge(pages)
    assert not verdict.passed
    assert verdict.blocking == ("CVE-2026-9999 (CRITICAL)",)
    assert verdict.counts == {"LOW": 3, "CRITICAL": 1}


def test_summary_counts_block_even_when_the_listing_is_empty() -> None:
    page = _page()
    page["imageScanFindings"]["findingSeverityCounts"] = {"CRITICAL": 2}
    verdict = _judge([page])
    assert not verdict.passed and verdict.blocking == ("2 CRITICAL",)


def test_enhanced_scanning_findings_count_unless_suppressed() -> None:
    active = {"severity": "HIGH", "status": "ACTIVE", "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-1"}}
    suppressed = {"severity": "CRITICAL", "status": "SUPPRESSED", "title": "accepted risk"}
    page = _page("ACTIVE")
    page["imageScanFindings"] = {"enhancedFindings": [active, suppressed]}
    verdict = _judge([page])
    assert verdict.blocking == ("CVE-1 (HIGH)",)


def test_a_scan_in_progress_is_waited_for() -> None:
    verdict = _judge([_page("IN_PROGRESS"), _page("PENDING"), _page(findings=[_finding("LOW")])], wait_seconds=60)
    assert verdict.passed and verdict.counts == {"LOW": 1}


def test_a_scan_that_never_completes_fails_after_the_bound() -> None:
    now = [0.0]
    ecr = _client()
    with Stubber(ecr) as stub:
        # Checks at 0, 10, 20 and 30 s; the next would be past the 30 s bound.
        for _ in range(4):
            stub.add_response("describe_image_scan_findings", _page("IN_PROGRESS"), REQUEST)
        with pytest.raises(DeploymentError) as error:
            evaluate(
                ecr,
                IMAGE,
                wait_seconds=30,
                poll_seconds=10,
                sleep=lambda seconds: now.__setitem__(0, now[0] + seconds),
                clock=lambda: now[0],
            )
        stub.assert_no_pending_responses()
    assert error.value.code is ErrorCode.CI_FAILED and "still IN_PROGRESS after 30 s" in str(error.value)
    assert now[0] == 30


def test_a_missing_scan_is_waited_for_then_fails() -> None:
    ecr = _client()
    with Stubber(ecr) as stub:
        stub.add_client_error("describe_image_scan_findings", "ScanNotFoundException", "no scan", 400)
        with pytest.raises(DeploymentError, match="NOT_STARTED"):
            evaluate(ecr, IMAGE, wait_seconds=0, sleep=lambda _: None)


@pytest.mark.parametrize("status", ["FAILED", "UNSUPPORTED_IMAGE", "FINDINGS_UNAVAILABLE"])
def test_a_failed_scan_blocks_the_release(status: str) -> None:
    with pytest.raises(DeploymentError) as error:
        _judge([_page(status)])
    assert error.value.code is ErrorCode.CI_FAILED and status in str(error.value)


def test_severity_ranking_and_bad_threshold() -> None:
    assert rank("CRITICAL") > rank("HIGH") > rank("MEDIUM") > rank("UNDEFINED")
    with pytest.raises(DeploymentError) as error:
        evaluate(_client(), IMAGE, threshold="SEVERE")
    assert error.value.code is ErrorCode.CONFIG_INVALID


def test_the_gate_checks_digests_only_and_refuses_tags_and_the_placeholder() -> None:
    assert IMAGE.image_id == {"imageDigest": DIGEST}
    for value, why in (("v1.2.3", "is a tag"), (PLACEHOLDER_DIGEST, "placeholder"), ("", "missing")):
        with pytest.raises(DeploymentError, match=why) as error:
            ReleaseImage("cashtrace/api", digest=value)
        assert error.value.code is ErrorCode.CI_FAILED and error.value.field == "release.image.digest"


def _manifest(tmp_path: Path, digest: str = DIGEST, repository: str = "cashtrace/api") -> Path:
    path = tmp_path / "release.json"
    write(path, repository=repository, digest=digest, commit_sha=COMMIT, built_at="2026-11-28T03:00:00Z")
    return path


def test_command_line_reads_the_release_manifest_and_exits_non_zero_on_a_blocking_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = _manifest(tmp_path)
    ecr = _client()
    with Stubber(ecr) as stub:
        stub.add_response("describe_image_scan_findings", _page(findings=[_finding("CRITICAL")]), REQUEST)
        code = main(["--repository", "cashtrace/api", "--release-manifest", str(manifest)], ecr=ecr)
    assert code == 1
    assert "DEPLOY_CI_FAILED" in capsys.readouterr().err
    with Stubber(ecr) as stub:
        stub.add_response("describe_image_scan_findings", _page(), REQUEST)
        assert (
            main(["--repository", "cashtrace/api", "--digest", DIGEST, "--release-manifest", str(manifest)], ecr=ecr)
            == 0
        )
        stub.assert_no_pending_responses()


def test_the_pinned_digest_and_the_sources_manifest_must_agree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A stage of an older execution retried after the pipeline moved on: it would deploy another image.
    other = "sha256:" + "b" * 64
    manifest = _manifest(tmp_path)
    assert main(["--repository", "cashtrace/api", "--digest", other, "--release-manifest", str(manifest)]) == 1
    assert "DEPLOY_CI_FAILED [release.image.digest]" in capsys.readouterr().err
    elsewhere = _manifest(tmp_path, repository="cashtrace/other")
    assert main(["--repository", "cashtrace/api", "--release-manifest", str(elsewhere)]) == 1
    assert "[release.image.repository]" in capsys.readouterr().err
    assert main(["--repository", "cashtrace/api"]) == 1


def test_command_line_fails_on_a_missing_manifest_or_a_tag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--repository", "cashtrace/api", "--release-manifest", str(tmp_path / "absent.json")]) == 1
    assert "DEPLOY_CI_FAILED [release]" in capsys.readouterr().err
    assert main(["--repository", "cashtrace/api", "--digest", "v1.2.3"]) == 1
    assert "DEPLOY_CI_FAILED [release.image.digest]" in capsys.readouterr().err
