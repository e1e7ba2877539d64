"""ECR scan on push."""

from __future__ import annotations

from typing import Any

import pytest

from cashtrace_constructs.checks import ImageScanOnPush
from tests.checks.rule_templates import findings


def repository(**properties: Any) -> dict[str, Any]:
    return {"Repo": {"Type": "AWS::ECR::Repository", "Properties": properties}}


def test_a_repository_scanning_on_push_passes() -> None:
    assert findings(ImageScanOnPush(), repository(ImageScanningConfiguration={"ScanOnPush": True})) == []


@pytest.mark.parametrize("properties", [{}, {"ImageScanningConfiguration": {"ScanOnPush": False}}])
def test_a_repository_without_scan_on_push_is_refused(properties: dict[str, Any]) -> None:
    (finding,) = findings(ImageScanOnPush(), repository(**properties))
    assert "Repo" in finding and "scan" in finding
