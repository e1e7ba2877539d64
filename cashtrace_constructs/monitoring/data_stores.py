"""Dashboard rows and alarms of the data stores: RDS PostgreSQL (pages on a full volume) and Redis nodes."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_rds as rds
from cdk_monitoring_constructs import (
    CustomMetricGroup,
    CustomMetricWithAlarm,
    CustomThreshold,
    ElastiCacheClusterType,
    HighConnectionCountThreshold,
    MaxItemsCountThreshold,
    MinUsageCountThreshold,
    MonitoringFacade,
    UsageThreshold,
)

from cashtrace_constructs.config import MonitoringConfig
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.monitoring.paging import CRITICAL, WARNING

_GIB = 1024**3


def redis_member_cluster_ids(replication_group: elasticache.CfnReplicationGroup) -> list[str]:
    """The node clusters of a cluster-mode-disabled replication group (`<group>-001`, ...).

    ElastiCache publishes host and engine metrics per node cluster, not per replication group.
    """
    count = replication_group.num_cache_clusters
    replicas = replication_group.replicas_per_node_group
    if count is None and replication_group.num_node_groups == 1 and isinstance(replicas, int):
        # One shard given as primary + replicas: the same node clusters as num_cache_clusters.
        count = replicas + 1
    if not isinstance(count, int) or count < 1:
        raise DeploymentError(
            ErrorCode.CONFIG_INVALID,
            "the replication group needs a literal num_cache_clusters to be monitored per node",
            field="cache.num_cache_clusters",
        )
    return [f"{replication_group.ref}-{index:03d}" for index in range(1, count + 1)]


def monitor_database(
    facade: MonitoringFacade,
    config: MonitoringConfig,
    *,
    instance: rds.IDatabaseInstance,
    read_replicas: Sequence[rds.IDatabaseInstance] = (),
    name: str = "Database",
) -> None:
    """CPU, free storage and connections of an RDS instance; replica lag of its read replicas."""
    facade.monitor_rds_instance(
        instance=instance,
        alarm_friendly_name=name,
        human_readable_name=f"{name} (RDS PostgreSQL)",
        add_cpu_usage_alarm={WARNING: UsageThreshold(max_usage_percent=config.database_cpu_percent)},
        # A full volume stops every write: page.
        add_free_storage_space_alarm={
            CRITICAL: MinUsageCountThreshold(min_count=config.database_min_free_storage_gib * _GIB)
        },
        add_max_connection_count_alarm={
            WARNING: HighConnectionCountThreshold(max_connection_count=config.database_max_connections)
        },
    )
    for index, replica in enumerate(read_replicas):
        _warn_above(
            facade,
            alarm_friendly_name=f"{name}Replica{index + 1}",
            human_readable_name=f"{name} read replica {index + 1}",
            title="Replica lag (s)",
            metric=replica.metric("ReplicaLag", statistic="Maximum", period=Duration.minutes(1)),
            metric_alarm_name="ReplicaLag",
            threshold=config.database_max_replica_lag_seconds,
        )


def monitor_cache(
    facade: MonitoringFacade, config: MonitoringConfig, *, cluster_ids: Sequence[str], name: str = "Cache"
) -> None:
    """CPU, evictions and memory of each Redis node cluster (see `redis_member_cluster_ids`)."""
    for index, cluster_id in enumerate(cluster_ids):
        node = f"{name}Node{index + 1}"
        facade.monitor_elasti_cache_cluster(
            cluster_id=cluster_id,
            cluster_type=ElastiCacheClusterType.REDIS,
            alarm_friendly_name=node,
            human_readable_name=f"{name} node {index + 1} (Redis)",
            add_cpu_usage_alarm={WARNING: UsageThreshold(max_usage_percent=config.cache_cpu_percent)},
            add_max_evicted_items_count_alarm={
                WARNING: MaxItemsCountThreshold(max_items_count=config.cache_max_evictions)
            },
        )
        _warn_above(
            facade,
            alarm_friendly_name=f"{node}Memory",
            human_readable_name=f"{name} node {index + 1} memory",
            title="Redis memory used (% of maxmemory)",
            metric=cloudwatch.Metric(
                namespace="AWS/ElastiCache",
                metric_name="DatabaseMemoryUsagePercentage",
                dimensions_map={"CacheClusterId": cluster_id},
                statistic="Maximum",
                period=Duration.minutes(1),
            ),
            metric_alarm_name="MemoryUsage",
            threshold=config.cache_memory_percent,
        )


def _warn_above(
    facade: MonitoringFacade,
    *,
    alarm_friendly_name: str,
    human_readable_name: str,
    title: str,
    metric: cloudwatch.Metric,
    metric_alarm_name: str,
    threshold: float,
) -> None:
    """One metric on the dashboard with a warning alarm above `threshold`."""
    facade.monitor_custom(
        alarm_friendly_name=alarm_friendly_name,
        human_readable_name=human_readable_name,
        metric_groups=[
            CustomMetricGroup(
                title=title,
                metrics=[
                    CustomMetricWithAlarm(
                        metric=metric,
                        alarm_friendly_name=metric_alarm_name,
                        add_alarm={
                            WARNING: CustomThreshold(
                                threshold=threshold,
                                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                            )
                        },
                    )
                ],
            )
        ],
    )
