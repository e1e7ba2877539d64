"""An environment refuses monitoring thresholds out of range and unpinned images (TLS: test_endpoint_config)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cashtrace_constructs.config import EnvironmentConfig, MonitoringConfig
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.grafana import init_script, provisioning_files
from stacks.environments import all_environments, staging


def _with_monitoring(**changes: object) -> EnvironmentConfig:
    return replace(staging(), monitoring=MonitoringConfig(**changes))  # type: ignore[arg-type]


def test_every_environment_has_a_valid_monitoring_config() -> None:
    for config in all_environments():
        config.monitoring.validate(f"{config.name}.monitoring")


@given(percent=st.integers())
def test_percent_thresholds_outside_1_to_100_are_refused(percent: int) -> None:
    if 1 <= percent <= 100:
        assert _with_monitoring(service_cpu_percent=percent).monitoring.service_cpu_percent == percent
    else:
        with pytest.raises(DeploymentError) as error:
            _with_monitoring(service_cpu_percent=percent)
        assert error.value.field == "staging.monitoring.service_cpu_percent"
        assert error.value.code is ErrorCode.CONFIG_INVALID


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"grafana_image_tag": "latest"}, "grafana_image_tag", ErrorCode.CONFIG_INVALID),
        ({"collector_image_tag": "main"}, "collector_image_tag", ErrorCode.CONFIG_INVALID),
        ({"database_min_free_storage_gib": 0}, "database_min_free_storage_gib", ErrorCode.CONFIG_INVALID),
        ({"metrics_port": 80}, "metrics_port", ErrorCode.CONFIG_INVALID),
        ({"metrics_path": "metrics"}, "metrics_path", ErrorCode.CONFIG_INVALID),
        ({"grafana_cpu": 300}, "grafana_cpu", ErrorCode.RESOURCE_LIMIT),
        ({"evaluation_periods": 0}, "evaluation_periods", ErrorCode.CONFIG_INVALID),
        ({"grafana_plugins": ("bad plugin",)}, "grafana_plugins[0]", ErrorCode.CONFIG_INVALID),
    ],
)
def test_bad_values_are_refused_with_field_and_code(changes: dict[str, object], field: str, code: ErrorCode) -> None:
    with pytest.raises(DeploymentError) as error:
        _with_monitoring(**changes)
    assert error.value.field == f"staging.monitoring.{field}"
    assert error.value.code is code


def test_provisioning_files_map_the_repo_tree_into_grafanas_provisioning(tmp_path: Path) -> None:
    files = {f.target for f in provisioning_files()}
    assert {"datasources/datasources.yaml", "dashboards/dashboards.yaml"} <= files
    assert any(t.startswith("dashboards/json/") and t.endswith(".json") for t in files)
    (tmp_path / "provisioning").mkdir()
    (tmp_path / "dashboards").mkdir()
    (tmp_path / "dashboards" / "broken.json").write_text("{not json")
    with pytest.raises(ValueError):
        provisioning_files(tmp_path)


def test_init_script_writes_each_file_from_its_variable() -> None:
    files = provisioning_files()
    script = init_script(files)
    for index, item in enumerate(files):
        assert f'"$CT_FILE_{index}" > /provisioning/{item.target}' in script


def test_init_script_reproduces_the_files_byte_for_byte(tmp_path: Path) -> None:
    import os
    import subprocess

    files = provisioning_files()
    environment = {**os.environ, **{f"CT_FILE_{i}": f.content for i, f in enumerate(files)}}
    subprocess.run(["sh", "-c", init_script(files, mount=str(tmp_path))], env=environment, check=True)
    for item in files:
        assert (tmp_path / item.target).read_text() == item.content


def test_provisioning_files_carry_no_dollar_brace_text() -> None:
    # CloudFormation's template validation rejects "${...}" outside Fn::Sub; the test apps skip
    # that validation, `cdk synth` does not.
    for item in provisioning_files():
        assert "${" not in item.content, item.target
