"""PipelineConfig: the pipeline's own settings are refused with a field path when wrong."""

from __future__ import annotations

from typing import Any

import pytest

from cashtrace_constructs.config import PipelineConfig, SecurityConfig
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from stacks import environments


def _config(**overrides: Any) -> PipelineConfig:
    return PipelineConfig(**{"account": "444444444444", "region": "af-south-1", **overrides})


def test_defaults_match_the_design() -> None:
    config = environments.pipeline()
    assert config.stack_name == "CashTrace-Pipeline"
    assert config.vulnerability_severity_threshold == "HIGH"
    assert config.promotion == ("staging", "prod")
    assert config.release_repository == "cashtrace/api"


def test_pipeline_account_comes_from_context_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert environments.pipeline({"account.pipeline": "555555555555"}).account == "555555555555"
    monkeypatch.setenv("CASHTRACE_PIPELINE_ACCOUNT", "666666666666")
    assert environments.pipeline().account == "666666666666"
    monkeypatch.delenv("CASHTRACE_PIPELINE_ACCOUNT")
    assert environments.pipeline().account == "444444444444"


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"account": "12345"}, "pipeline.account", ErrorCode.CONFIG_INVALID),
        ({"region": "eu-west-1"}, "pipeline.region", ErrorCode.RESIDENCY_VIOLATION),
        (
            {"security": SecurityConfig(allowed_regions=("af-south-1", "eu-west-1"))},
            "pipeline.security.allowed_regions[1]",
            ErrorCode.RESIDENCY_VIOLATION,
        ),
        ({"release_repository": "Not A Repo"}, "pipeline.release_repository", ErrorCode.CONFIG_INVALID),
        ({"source_object_key": "source/cashtrace.tar"}, "pipeline.source_object_key", ErrorCode.CONFIG_INVALID),
        ({"release_manifest": "/etc/release.json"}, "pipeline.release_manifest", ErrorCode.CONFIG_INVALID),
        ({"scan_wait_seconds": 7200}, "pipeline.scan_wait_seconds", ErrorCode.CI_FAILED),
        ({"promotion": ("staging", "qa")}, "pipeline.promotion", ErrorCode.CONFIG_INVALID),
        ({"promotion": ("staging", "staging")}, "pipeline.promotion", ErrorCode.CONFIG_INVALID),
        ({"promotion": ()}, "pipeline.promotion", ErrorCode.CONFIG_INVALID),
        (
            {"vulnerability_severity_threshold": "SEVERE"},
            "pipeline.vulnerability_severity_threshold",
            ErrorCode.CONFIG_INVALID,
        ),
    ],
)
def test_bad_values_are_refused_with_their_field(overrides: dict[str, Any], field: str, code: ErrorCode) -> None:
    with pytest.raises(DeploymentError) as error:
        _config(**overrides)
    assert error.value.field == field and error.value.code is code
