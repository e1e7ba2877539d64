"""The timing model of rollbacks (Property 5) and scale-out (Property 9): constants and arithmetic.

Pure functions: config validates against them, and `checks/timing_paths.py` applies them to the
synthesized templates for the rules and `python -m tools.budgets`. The constants are assumptions,
documented in docs/service.md; a load test in a real account should replace them with measured numbers.
"""

from __future__ import annotations

# ALB and ECS publish 1-minute metrics; a datapoint reaches the alarm evaluator within ~20 s.
METRIC_PUBLICATION_LAG_SECONDS = 20
# CodeDeploy polls the deployment group's alarms; it stops and rolls back within a minute of ALARM.
CODEDEPLOY_ALARM_REACTION_SECONDS = 60
# Rollback moves the production listener back to the blue target group (tasks still running).
TRAFFIC_REROUTE_SECONDS = 15
# Fargate: capacity, ENI, image pull through the in-VPC ECR endpoint, container start.
FARGATE_TASK_START_SECONDS = 60
# Property 9 and the cap of Property 5 (the design's 3 and 5 minutes).
SCALE_OUT_BUDGET_SECONDS = 180
MAX_ROLLBACK_SECONDS = 300

ROLLBACK_BUDGET_METADATA = "cashtrace:rollback-budget-seconds"
LONGEST_REQUEST_METADATA = "cashtrace:longest-request-seconds"
# A service that must stop before its replacement starts (one writer) says so, and why.
ZERO_DOWNTIME_EXEMPTION = "cashtrace:zero-downtime-exemption"


def alarm_detection_seconds(period_seconds: int, datapoints: int) -> int:
    """From a persistent breach starting to the alarm entering ALARM."""
    return period_seconds * datapoints + METRIC_PUBLICATION_LAG_SECONDS


def rollback_seconds(period_seconds: int, datapoints: int) -> int:
    """From a bad release hurting traffic to production traffic back on the blue tasks."""
    return (
        alarm_detection_seconds(period_seconds, datapoints)
        + CODEDEPLOY_ALARM_REACTION_SECONDS
        + TRAFFIC_REROUTE_SECONDS
    )


def time_to_healthy_seconds(healthy_threshold: int, interval_seconds: int) -> int:
    return healthy_threshold * interval_seconds


def scale_out_seconds(period_seconds: int, datapoints: int, cooldown_seconds: int, healthy_seconds: int) -> int:
    """From load crossing the step alarm's threshold to new tasks healthy in the target group.

    The cooldown counts in full: in the worst case the breach starts just after an earlier step.
    """
    return (
        alarm_detection_seconds(period_seconds, datapoints)
        + cooldown_seconds
        + FARGATE_TASK_START_SECONDS
        + healthy_seconds
    )
