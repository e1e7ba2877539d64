"""The gate's failures: every one ends the pipeline step with exit 1 and one `DEPLOY_CI_FAILED` line, no traceback.

The pipeline's CodeBuild log is what an operator reads: it must name the cause in one line. ECR
through botocore's Stubber; network and setup failures through a client that raises them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from tools.image_scan_gate.__main__ import main

DIGEST = "sha256:" + "b" * 64
REQUEST = {"repositoryName": "cashtrace/api", "imageId": {"imageDigest": DIGEST}}
ARGUMENTS = ["--repository", "cashtrace/api", "--digest", DIGEST, "--wait-seconds", "0"]


def _client() -> Any:
    return boto3.client("ecr", region_name="af-south-1", aws_access_key_id="test", aws_secret_access_key="test")


def _one_failure_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert lines[0].startswith("DEPLOY_CI_FAILED")
    return lines[0]


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("ImageNotFoundException", "is not in ECR"),
        ("RepositoryNotFoundException", "is not in ECR"),
        ("AccessDeniedException", "ECR denied"),
        ("ThrottlingException", "ECR failed"),
    ],
)
def test_ecr_errors_end_in_one_ci_failed_line(code: str, says: str, capsys: pytest.CaptureFixture[str]) -> None:
    ecr = _client()
    with Stubber(ecr) as stub:
        stub.add_client_error("describe_image_scan_findings", code, "details", expected_params=REQUEST)
        assert main(ARGUMENTS, ecr=ecr) == 1
    line = _one_failure_line(capsys)
    assert says in line and code in line


def test_a_failure_on_a_later_page_ends_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    ecr = _client()
    first = {
        "imageScanStatus": {"status": "COMPLETE"},
        "imageScanFindings": {"findings": [], "findingSeverityCounts": {}},
        "nextToken": "page-2",
    }
    with Stubber(ecr) as stub:
        stub.add_response("describe_image_scan_findings", first, REQUEST)
        stub.add_client_error("describe_image_scan_findings", "ThrottlingException")
        assert main(ARGUMENTS, ecr=ecr) == 1
    assert "ThrottlingException" in _one_failure_line(capsys)


def test_an_unreachable_ecr_ends_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ecr = _client()

    def unreachable(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://api.ecr.af-south-1.amazonaws.com")

    monkeypatch.setattr(ecr, "describe_image_scan_findings", unreachable)
    assert main(ARGUMENTS, ecr=ecr) == 1
    assert "cannot reach ECR" in _one_failure_line(capsys)


def test_no_region_ends_in_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    assert main(ARGUMENTS) == 1
    assert "NoRegionError" in _one_failure_line(capsys)


@pytest.mark.parametrize(
    "manifest",
    ["[1, 2]", '{"image": "cashtrace/api@sha256:00"}', '{"image": {}}', "not json", '"release"'],
    ids=["a-list", "image-not-an-object", "no-digest-or-tag", "not-json", "a-string"],
)
def test_a_manifest_of_the_wrong_shape_ends_in_one_line(
    manifest: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "release.json"
    path.write_text(manifest)
    assert main(["--repository", "cashtrace/api", "--release-manifest", str(path)], ecr=_client()) == 1
    _one_failure_line(capsys)


def test_a_missing_manifest_ends_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--repository", "cashtrace/api", "--release-manifest", str(tmp_path / "absent.json")]) == 1
    assert "missing" in _one_failure_line(capsys)


def test_a_json_error_message_stays_on_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "release.json"
    path.write_text(json.dumps({"image": {"digest": DIGEST}})[:-3] + "\n\n")
    assert main(["--repository", "cashtrace/api", "--release-manifest", str(path)], ecr=_client()) == 1
    _one_failure_line(capsys)
