"""Autoscaling of the task count: target tracking for the steady state, a step policy for bursts (Property 9)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from cashtrace_constructs.config import AutoScalingConfig, ServiceConfig


def task_count_scaling(
    scope: Construct,
    *,
    config: ServiceConfig,
    scaling: AutoScalingConfig,
    cluster: ecs.ICluster,
    service: ecs.FargateService,
) -> autoscaling.ScalableTarget:
    """The service's scalable target (`Scaling`) with CPU and memory tracking and step scale-out policies."""
    target = autoscaling.ScalableTarget(
        scope,
        "Scaling",
        service_namespace=autoscaling.ServiceNamespace.ECS,
        resource_id=f"service/{cluster.cluster_name}/{service.service_name}",
        scalable_dimension="ecs:service:DesiredCount",
        min_capacity=scaling.min_replicas,
        max_capacity=scaling.max_replicas,
    )
    target.node.add_dependency(service)
    minute = Duration.minutes(1)
    # Target tracking keeps the steady state and scales in slowly (scale_down_delay).
    for name, metric, target_value in (
        ("Cpu", service.metric_cpu_utilization(period=minute), scaling.target_cpu),
        ("Memory", service.metric_memory_utilization(period=minute), scaling.target_memory),
    ):
        target.scale_to_track_metric(
            f"{name}Tracking",
            custom_metric=metric,
            target_value=target_value,
            scale_in_cooldown=Duration.seconds(scaling.scale_down_delay),
            scale_out_cooldown=Duration.seconds(config.scale_out_cooldown_seconds),
        )
        # Target tracking waits for 3 one-minute datapoints; this step policy reacts to one.
        threshold = min(target_value + 15, 95)
        target.scale_on_metric(
            f"{name}StepScaleOut",
            metric=metric,
            scaling_steps=[
                autoscaling.ScalingInterval(upper=threshold, change=0),
                autoscaling.ScalingInterval(lower=threshold, change=50),
                autoscaling.ScalingInterval(lower=min(threshold + 10, 99), change=100),
            ],
            adjustment_type=autoscaling.AdjustmentType.PERCENT_CHANGE_IN_CAPACITY,
            min_adjustment_magnitude=1,
            evaluation_periods=config.scale_out_evaluation_periods,
            datapoints_to_alarm=config.scale_out_evaluation_periods,
            cooldown=Duration.seconds(config.scale_out_cooldown_seconds),
            metric_aggregation_type=autoscaling.MetricAggregationType.MAXIMUM,
        )
    return target
