"""The monitoring capability: the `Monitoring` facade (dashboard, topics, paging) and its sections."""

from cashtrace_constructs.config.monitoring import pagerduty_secret_name
from cashtrace_constructs.monitoring.data_stores import redis_member_cluster_ids
from cashtrace_constructs.monitoring.facade import Monitoring, MonitoringProps
from cashtrace_constructs.monitoring.paging import CRITICAL, RUNBOOKS, WARNING

__all__ = [
    "CRITICAL",
    "RUNBOOKS",
    "WARNING",
    "Monitoring",
    "MonitoringProps",
    "pagerduty_secret_name",
    "redis_member_cluster_ids",
]
