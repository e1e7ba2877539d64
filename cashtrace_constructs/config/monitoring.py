"""Alarm thresholds, the Prometheus scrape, and the in-region Grafana of one environment."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from cashtrace_constructs.config.validation import Between, check_bounds, require, require_match
from cashtrace_constructs.errors import ErrorCode

_PINNED_RELEASE_TAG_RE = re.compile(r"^v?\d+\.\d+\.\d+$")
_GRAFANA_PLUGIN_RE = re.compile(r"^[a-z0-9-]+(@\d+\.\d+\.\d+)?$")
# Fargate's valid CPU units; memory must also fit the CPU size (checked by ECS at deploy).
_FARGATE_CPU_UNITS = (256, 512, 1024, 2048, 4096)

_PERCENT = Between(1, 100)
_POSITIVE = Between(1)


def pagerduty_secret_name(environment_name: str) -> str:
    """Where an operator stores the PagerDuty CloudWatch-integration URL of one environment.

    It must exist before the environment's first deploy (a CloudFormation dynamic reference);
    the stacks and `make preflight` share this name.
    """
    return f"cashtrace/{environment_name}/pagerduty-integration-url"


@dataclass(frozen=True)
class MonitoringConfig:
    """Alarm thresholds, the Prometheus scrape, and the in-region Grafana of one environment.

    Percentages are of the resource's capacity; every alarm evaluates `evaluation_periods`
    one-minute datapoints (CloudWatch's standard resolution) before it changes state.
    """

    evaluation_periods: Annotated[int, Between(1, 5)] = 3
    service_cpu_percent: Annotated[int, _PERCENT] = 80
    service_memory_percent: Annotated[int, _PERCENT] = 80
    database_cpu_percent: Annotated[int, _PERCENT] = 80
    database_min_free_storage_gib: Annotated[int, _POSITIVE] = 10
    database_max_connections: Annotated[int, _POSITIVE] = 200
    database_max_replica_lag_seconds: Annotated[int, _POSITIVE] = 60
    cache_cpu_percent: Annotated[int, _PERCENT] = 75
    cache_memory_percent: Annotated[int, _PERCENT] = 80
    cache_max_evictions: Annotated[int, _POSITIVE] = 100
    # The app's Prometheus endpoint inside its task (the ADOT sidecar scrapes localhost).
    metrics_port: Annotated[int, Between(1024, 65535)] = 9464
    metrics_path: str = "/metrics"
    scrape_interval_seconds: Annotated[int, Between(5, 300)] = 30
    # Images are pinned by release tag so a deploy never pulls an unreviewed "latest".
    collector_image_tag: str = "v0.43.3"
    grafana_image_tag: str = "12.2.1"
    # Installed by Grafana at start (AMP needs its SigV4 data source plugin); `name@version` pins one.
    grafana_plugins: tuple[str, ...] = ("grafana-amazonprometheus-datasource",)
    grafana_cpu: int = 512
    grafana_memory_mib: Annotated[int, Between(512, 30720, ErrorCode.RESOURCE_LIMIT)] = 1024
    log_retention_days: Annotated[int, Between(30)] = 365
    # Fargate needs up to ~2 minutes to start a task; a shortfall this long means tasks cannot start.
    service_task_shortfall_minutes: Annotated[int, _POSITIVE] = 5

    def validate(self, path: str) -> None:
        check_bounds(self, path)
        require(
            self.metrics_path.startswith("/"),
            ErrorCode.CONFIG_INVALID,
            f"{path}.metrics_path",
            f"must be an absolute path, got {self.metrics_path!r}",
        )
        for name in ("collector_image_tag", "grafana_image_tag"):
            require_match(
                _PINNED_RELEASE_TAG_RE, getattr(self, name), f"{path}.{name}", "a pinned release tag like 1.2.3"
            )
        for index, plugin in enumerate(self.grafana_plugins):
            require_match(
                _GRAFANA_PLUGIN_RE,
                plugin,
                f"{path}.grafana_plugins[{index}]",
                "a Grafana plugin id, optionally @version",
            )
        require(
            self.grafana_cpu in _FARGATE_CPU_UNITS,
            ErrorCode.RESOURCE_LIMIT,
            f"{path}.grafana_cpu",
            f"must be a Fargate CPU size {_FARGATE_CPU_UNITS}, got {self.grafana_cpu}",
        )
