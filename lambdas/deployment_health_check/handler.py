"""CodeDeploy AfterAllowTestTraffic hook: real HTTP health checks against the test listener.

Reports Succeeded once `REQUIRED_SUCCESSES` consecutive checks pass, Failed (code
DEPLOY_HEALTH_CHECK_FAILED) once `HEALTH_CHECK_FAILURES` checks have failed. Every check is
logged as the design's HealthCheckResult (timestamp, endpoint, status, latency, healthy).

Whenever the event carries a deployment id and a hook execution id, CodeDeploy hears a status,
whatever goes wrong (bad settings included): an unreported hook holds the deployment for an hour.
A redirect is never followed: `/health` answering 3xx is unhealthy, wherever it points.
With `TEST_CONNECT_HOST` (TLS environments) each check connects there, the load balancer, and
verifies the certificate against TEST_URL's host name, which DNS need not point anywhere yet.
The verdict and every result also go to the deployment record (`publish_results`).
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import boto3

HEALTH_CHECK_FAILED = "DEPLOY_HEALTH_CHECK_FAILED"
# The deployment record (in the pipeline account) keeps every result: they go to this account's
# default bus, which forwards them there with the CodeDeploy events (DeploymentEventForwarder).
RESULTS_SOURCE = "cashtrace.deployment-health"
RESULTS_DETAIL_TYPE = "CashTrace Deployment Health Checks"
# Leave this much of the Lambda timeout to report to CodeDeploy: an unreported hook waits an hour.
_REPORT_RESERVE_SECONDS = 10.0
_REPORT_ATTEMPTS = 3
# CodeDeploy's answer when this execution already has a status (a retried invocation).
_ALREADY_REPORTED = frozenset({"LifecycleEventAlreadyCompletedException"})


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx reaches `check_once` as the HTTPError it is, instead of being followed to another host."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


logger = logging.getLogger()
logger.setLevel(logging.INFO)


@dataclass(frozen=True)
class HealthCheckResult:
    """One HTTP check, as the design's Deployment.healthChecks records it."""

    timestamp: str
    endpoint: str
    status: int
    latency: float  # milliseconds
    healthy: bool
    error: str | None = None


@dataclass(frozen=True)
class HookSettings:
    url: str
    timeout_seconds: float
    failures_allowed: int
    required_successes: int = 3
    spacing_seconds: float = 5.0
    connect_host: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> HookSettings:
        url = environ["TEST_URL"]
        if urlparse(url).scheme not in ("http", "https"):
            raise ValueError(f"TEST_URL must be http(s), got {url!r}")
        return cls(
            url=url,
            timeout_seconds=float(environ.get("HEALTH_CHECK_TIMEOUT_SECONDS", "5")),
            failures_allowed=int(environ.get("HEALTH_CHECK_FAILURES", "3")),
            required_successes=int(environ.get("REQUIRED_SUCCESSES", "3")),
            spacing_seconds=float(environ.get("CHECK_SPACING_SECONDS", "5")),
            connect_host=environ.get("TEST_CONNECT_HOST") or None,
        )


@dataclass
class Verdict:
    healthy: bool
    checks: list[HealthCheckResult] = field(default_factory=list)
    reason: str = ""


class _ConnectTo(urllib.request.HTTPSHandler):
    """HTTPS to `host` (the load balancer), with SNI and certificate verification for the URL's own host."""

    def __init__(self, host: str, context: ssl.SSLContext | None) -> None:
        super().__init__(context=context or ssl.create_default_context())
        self._host = host

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._connection, req, context=self._context)  # type: ignore[attr-defined]

    def _connection(self, url_host: str, **kwargs: Any) -> http.client.HTTPSConnection:
        connection = http.client.HTTPSConnection(url_host, **kwargs)
        target = self._host

        def connect_to_target(address: tuple[str, int], *args: Any, **more: Any) -> socket.socket:
            return socket.create_connection((target, address[1]), *args, **more)

        # http.client opens its socket through this attribute, then wraps it for `url_host`.
        connection._create_connection = connect_to_target  # type: ignore[attr-defined]
        return connection


def check_once(
    url: str, timeout_seconds: float, connect_host: str | None = None, tls_context: ssl.SSLContext | None = None
) -> HealthCheckResult:
    """One GET; healthy means a 2xx within the timeout (and, over HTTPS, a certificate valid for the URL's host)."""
    started = time.monotonic()
    status, error = 0, None
    handlers = [_ConnectTo(connect_host, tls_context)] if connect_host else []
    # Never follow a redirect: a 3xx is answered by the release under test, not by another host.
    opener = urllib.request.build_opener(_RefuseRedirects(), *handlers)
    try:
        # The scheme is checked in HookSettings: only http(s) to our own test listener.
        with opener.open(url, timeout=timeout_seconds) as response:  # nosec B310
            status = int(response.status)
            response.read(1024)
    except urllib.error.HTTPError as failure:
        status = int(failure.code)
    except (urllib.error.URLError, TimeoutError, OSError) as failure:
        reason = getattr(failure, "reason", failure)
        error = f"{type(reason).__name__}: {reason}"
    latency_ms = round((time.monotonic() - started) * 1000, 1)
    healthy = 200 <= status < 300 and latency_ms <= timeout_seconds * 1000
    return HealthCheckResult(
        timestamp=datetime.now(UTC).isoformat(),
        endpoint=url,
        status=status,
        latency=latency_ms,
        healthy=healthy,
        error=error,
    )


def run_checks(
    settings: HookSettings,
    *,
    seconds_left: Callable[[], float] = lambda: float("inf"),
    sleep: Callable[[float], None] = time.sleep,
) -> Verdict:
    """Check until enough consecutive successes, too many failures, or the time runs out."""
    verdict = Verdict(healthy=False)
    failures = consecutive_successes = 0
    while True:
        result = check_once(settings.url, settings.timeout_seconds, settings.connect_host)
        verdict.checks.append(result)
        logger.info(json.dumps({"message": "health check", "healthCheck": asdict(result)}))
        if result.healthy:
            consecutive_successes += 1
            if consecutive_successes >= settings.required_successes:
                verdict.healthy = True
                return verdict
        else:
            failures += 1
            consecutive_successes = 0
            if failures >= settings.failures_allowed:
                verdict.reason = f"{failures} of {len(verdict.checks)} health checks failed"
                return verdict
        if seconds_left() < settings.timeout_seconds + settings.spacing_seconds + _REPORT_RESERVE_SECONDS:
            verdict.reason = "ran out of time before enough consecutive healthy checks"
            return verdict
        sleep(settings.spacing_seconds)


def publish_results(
    deployment_id: str, status: str, checks: list[HealthCheckResult], codedeploy: Any, events: Any
) -> None:
    """The verdict and every HealthCheckResult, with the deployment's description naming its release."""
    info = codedeploy.get_deployment(deploymentId=deployment_id).get("deploymentInfo") or {}
    detail = {
        "deploymentId": deployment_id,
        "status": status,
        "description": info.get("description", ""),
        "healthChecks": [asdict(check) for check in checks],
    }
    entry = {"Source": RESULTS_SOURCE, "DetailType": RESULTS_DETAIL_TYPE, "Detail": json.dumps(detail)}
    response = events.put_events(Entries=[entry])
    if response.get("FailedEntryCount"):
        logger.error(json.dumps({"message": "health checks not published", "entries": response.get("Entries")}))


def _seconds_left(context: Any) -> Callable[[], float]:
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        return lambda: float(context.get_remaining_time_in_millis()) / 1000
    return lambda: float("inf")


def _report(client: Any, deployment_id: str, execution_id: str, status: str, seconds_left: Callable[[], float]) -> None:
    """Tell CodeDeploy, retrying a throttled or failed call while time remains; an earlier report counts."""
    for attempt in range(1, _REPORT_ATTEMPTS + 1):
        try:
            client.put_lifecycle_event_hook_execution_status(
                deploymentId=deployment_id, lifecycleEventHookExecutionId=execution_id, status=status
            )
            return
        except Exception as failure:
            code = getattr(failure, "response", {}).get("Error", {}).get("Code", "")
            if code in _ALREADY_REPORTED:
                logger.warning(json.dumps({"message": "hook already reported", "deploymentId": deployment_id}))
                return
            if attempt == _REPORT_ATTEMPTS or seconds_left() < 2 * attempt:
                raise
            logger.warning(json.dumps({"message": "report failed, retrying", "error": str(failure)}))
            time.sleep(attempt)


def handler(event: Mapping[str, Any], context: Any, codedeploy: Any = None, events: Any = None) -> dict[str, Any]:
    if (
        not isinstance(event, Mapping)
        or not event.get("DeploymentId")
        or not event.get("LifecycleEventHookExecutionId")
    ):
        # Nothing to report to: fail loudly (the Errors alarm, then the dead-letter queue).
        raise ValueError(f"not a CodeDeploy lifecycle hook event: {event!r}"[:500])
    deployment_id, execution_id = str(event["DeploymentId"]), str(event["LifecycleEventHookExecutionId"])
    client = codedeploy or boto3.client("codedeploy")
    seconds_left = _seconds_left(context)
    try:
        settings = HookSettings.from_environment(os.environ)
        if seconds_left() < _REPORT_RESERVE_SECONDS + settings.timeout_seconds:
            verdict = Verdict(healthy=False, reason=f"{seconds_left():.0f} s left: too little for one check")
        else:
            verdict = run_checks(settings, seconds_left=seconds_left)
    except Exception as failure:  # a crash must still report, or CodeDeploy waits for the hook timeout
        logger.exception("health checks crashed")
        verdict = Verdict(healthy=False, reason=f"hook crashed: {type(failure).__name__}: {failure}")
    status = "Succeeded" if verdict.healthy else "Failed"
    _report(client, deployment_id, execution_id, status, seconds_left)
    try:
        publish_results(deployment_id, status, verdict.checks, client, events or boto3.client("events"))
    except Exception:  # the record is a report: failing to send it never changes the verdict already given
        logger.exception("could not publish the health checks to the deployment record")
    outcome: dict[str, Any] = {
        "deploymentId": deployment_id,
        "status": status,
        "healthChecks": [asdict(check) for check in verdict.checks],
    }
    if not verdict.healthy:
        outcome["code"] = HEALTH_CHECK_FAILED
        outcome["reason"] = verdict.reason
        logger.error(
            json.dumps({"message": "deployment unhealthy", "code": HEALTH_CHECK_FAILED, "reason": verdict.reason})
        )
    return outcome
