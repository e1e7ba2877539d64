"""How the API service runs and is released: image, ports, drain times, strategy, rollback, deploy hook.

The defaults are the timing model's inputs (docs/service.md); the correctness rules recompute the
budgets from the synthesized template, so changing a number here is safe only if Properties 5, 9
and 10 still hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated

from cashtrace_constructs.config.placeholders import PLACEHOLDER_PIPELINE_ACCOUNT
from cashtrace_constructs.config.validation import (
    ACCOUNT_RE,
    NAME_RE,
    REPOSITORY_RE,
    Between,
    check_bounds,
    require,
    require_match,
)
from cashtrace_constructs.errors import ErrorCode
from cashtrace_constructs.release_manifest import COMMIT_RE, DIGEST_RE, PLACEHOLDER_DIGEST
from cashtrace_constructs.timing import MAX_ROLLBACK_SECONDS, rollback_seconds

# The hook stops checking this long before its Lambda timeout to report its verdict to CodeDeploy
# (`_REPORT_RESERVE_SECONDS` of lambdas/deployment_health_check/handler.py, which has no CDK imports;
# tests/config/test_deployment_hook_config.py runs that hook loop against the rule below).
HOOK_REPORT_RESERVE_SECONDS = 10

_HEALTH = ErrorCode.HEALTH_CHECK_FAILED


class StrategyType(StrEnum):
    BLUE_GREEN = "blue_green"
    CANARY = "canary"


@dataclass(frozen=True)
class DeploymentStrategy:
    type: StrategyType
    health_check_path: str
    # The ALB health check timeout must be 2..120 s and shorter than its interval.
    health_check_timeout: Annotated[int, Between(2, 120, _HEALTH)]
    canary_percentage: Annotated[int | None, Between(1, 99)] = None

    def validate(self, path: str) -> None:
        require(
            isinstance(self.type, StrategyType),
            ErrorCode.CONFIG_INVALID,
            f"{path}.type",
            f"must be one of {[s.value for s in StrategyType]}, got {self.type!r}",
        )
        require(
            self.health_check_path.startswith("/"),
            _HEALTH,
            f"{path}.health_check_path",
            f"must be an absolute path, got {self.health_check_path!r}",
        )
        check_bounds(self, path)
        canary = self.type is StrategyType.CANARY
        require(
            canary == (self.canary_percentage is not None),
            ErrorCode.CONFIG_INVALID,
            f"{path}.canary_percentage",
            "a canary strategy needs a canary percentage"
            if canary
            else f"only a canary strategy takes a canary percentage, this one is {self.type.value}",
        )


@dataclass(frozen=True)
class RollbackConfig:
    automatic: bool
    health_check_failures: Annotated[int, Between(1, 10)]
    rollback_timeout: Annotated[int, Between(1, MAX_ROLLBACK_SECONDS, ErrorCode.ROLLBACK_FAILED, "Property 5")]

    def validate(self, path: str) -> None:
        # Every environment, not only prod: the CT-P5 rule holds every deployment group to it, and
        # staging rehearses the rollback prod relies on.
        require(
            self.automatic,
            ErrorCode.ROLLBACK_FAILED,
            f"{path}.automatic",
            "every environment must roll back automatically on failure and on its rollback alarms (Property 5)",
        )
        check_bounds(self, path)


@dataclass(frozen=True)
class DeploymentHookConfig:
    """The AfterAllowTestTraffic hook that health-checks a release on the test listener.

    Each check's timeout is `DeploymentStrategy.health_check_timeout`; the failures it tolerates
    are `RollbackConfig.health_check_failures`.
    """

    # Lambda stops any function after 15 minutes.
    timeout_seconds: Annotated[int, Between(1, 900, _HEALTH)] = 300
    # Consecutive healthy checks before the hook lets CodeDeploy shift production traffic.
    required_successes: Annotated[int, Between(1, 10, _HEALTH)] = 3
    check_spacing_seconds: Annotated[int, Between(1, 60, _HEALTH)] = 5


@dataclass(frozen=True)
class ServiceConfig:
    """How the API service runs: image, ports, health checks, drain times, rollback alarms, deploy hook."""

    name: str = "api"
    repository_account: str = PLACEHOLDER_PIPELINE_ACCOUNT
    repository_name: str = "cashtrace/api"
    # The image by digest only, from the release manifest (stacks/release.py); a tag can be moved
    # after the scan. The default is the synth-only placeholder, which no deploy accepts.
    image_digest: str = PLACEHOLDER_DIGEST
    # The commit the image was built from ("" when a deploy names a bare digest); /version reports it.
    commit_sha: str = ""
    container_port: Annotated[int, Between(1024, 65535)] = 8080
    # Unprivileged, so it can never be one of the production listener's ports (80, 443).
    test_listener_port: Annotated[int, Between(1024, 65535)] = 9443
    # The longest request the API serves; every drain time is derived from it (Property 10).
    longest_request_seconds: Annotated[int, Between(1, 3600)] = 30
    deregistration_delay_seconds: Annotated[int, Between(0, 3600)] = 35
    # Fargate caps stopTimeout at 120 s.
    stop_timeout_seconds: Annotated[int, Between(2, 120)] = 45
    health_check_interval_seconds: Annotated[int, Between(5, 300, _HEALTH)] = 10
    healthy_threshold: Annotated[int, Between(2, 10, _HEALTH)] = 2
    unhealthy_threshold: Annotated[int, Between(2, 10, _HEALTH)] = 2
    health_check_grace_period_seconds: Annotated[int, Between(0, 7200, _HEALTH)] = 60
    log_retention_days: int = 365
    # Rollback alarms (Property 5): 1-minute periods, few evaluation periods.
    alarm_period_seconds: int = 60
    alarm_evaluation_periods: Annotated[int, Between(1, 10)] = 2
    target_5xx_threshold: Annotated[int, Between(1, 100000)] = 5
    p99_latency_threshold_ms: Annotated[int, Between(10, 60000)] = 2000
    canary_interval_minutes: Annotated[int, Between(1, 60)] = 5
    # Blue tasks stay this long after the switch so that a rollback is a traffic switch;
    # CodeDeploy keeps the original task set for at most 2880 minutes.
    blue_termination_wait_minutes: Annotated[int, Between(1, 2880, ErrorCode.ROLLBACK_FAILED)] = 15
    # Step scale-out (Property 9): a 1-minute alarm, 1 datapoint.
    scale_out_cooldown_seconds: Annotated[int, Between(0, 3600, ErrorCode.RESOURCE_LIMIT)] = 15
    scale_out_evaluation_periods: Annotated[int, Between(1, 10, ErrorCode.RESOURCE_LIMIT)] = 1
    deployment_hook: DeploymentHookConfig = field(default_factory=DeploymentHookConfig)

    def validate(self, path: str) -> None:
        require_match(NAME_RE, self.name, f"{path}.name", "lower-case letters, digits and dashes")
        require_match(ACCOUNT_RE, self.repository_account, f"{path}.repository_account", "a 12-digit AWS account id")
        require(
            bool(REPOSITORY_RE.match(self.repository_name)) and len(self.repository_name) <= 256,
            ErrorCode.CONFIG_INVALID,
            f"{path}.repository_name",
            f"must be a valid ECR repository name, got {self.repository_name!r}",
        )
        require_match(
            DIGEST_RE, self.image_digest, f"{path}.image_digest", "a 'sha256:<64 hex>' digest", ErrorCode.CI_FAILED
        )
        require(
            self.commit_sha == "" or bool(COMMIT_RE.match(self.commit_sha)),
            ErrorCode.CI_FAILED,
            f"{path}.commit_sha",
            f"must be a 40-hex git commit sha (or empty when unknown), got {self.commit_sha!r}",
        )
        check_bounds(self, path)
        # In-flight requests finish on the old task only if the load balancer and ECS wait for them.
        for name in ("deregistration_delay_seconds", "stop_timeout_seconds"):
            require(
                getattr(self, name) >= self.longest_request_seconds,
                ErrorCode.CONFIG_INVALID,
                f"{path}.{name}",
                f"must be at least longest_request_seconds ({self.longest_request_seconds}) to drain (Property 10)",
            )
        require(
            self.health_check_grace_period_seconds >= self.healthy_threshold * self.health_check_interval_seconds,
            _HEALTH,
            f"{path}.health_check_grace_period_seconds",
            "must cover healthy_threshold x health_check_interval_seconds, or ECS replaces tasks still starting",
        )
        # CloudWatch alarms on standard metrics: 60 s or a multiple of it.
        require(
            self.alarm_period_seconds >= 60 and self.alarm_period_seconds % 60 == 0,
            ErrorCode.CONFIG_INVALID,
            f"{path}.alarm_period_seconds",
            f"must be a multiple of 60, got {self.alarm_period_seconds}",
        )
        check_bounds(self.deployment_hook, f"{path}.deployment_hook")


def require_release_timing(
    service: ServiceConfig, strategy: DeploymentStrategy, rollback: RollbackConfig, path: str
) -> None:
    """What the release needs of the three configs together; `path` is the environment's root."""
    # Refuse here what the Property 5 rule would refuse at synth: alarms too slow for the budget.
    worst_rollback = rollback_seconds(service.alarm_period_seconds, service.alarm_evaluation_periods)
    require(
        worst_rollback <= rollback.rollback_timeout,
        ErrorCode.ROLLBACK_FAILED,
        f"{path}.rollback.rollback_timeout",
        f"the rollback alarms ({service.alarm_evaluation_periods} x {service.alarm_period_seconds} s) "
        f"give a worst-case rollback of {worst_rollback} s, over this {rollback.rollback_timeout} s budget",
    )
    # A release whose checks each take nearly the whole timeout is healthy; the hook must still fit them.
    hook = service.deployment_hook
    needed = (
        hook.required_successes * strategy.health_check_timeout
        + (hook.required_successes - 1) * hook.check_spacing_seconds
        + HOOK_REPORT_RESERVE_SECONDS
    )
    require(
        needed <= hook.timeout_seconds,
        _HEALTH,
        f"{path}.service.deployment_hook.timeout_seconds",
        f"{hook.required_successes} healthy checks of up to {strategy.health_check_timeout} s, "
        f"{hook.check_spacing_seconds} s apart, and the report need {needed} s, more than {hook.timeout_seconds} s",
    )
