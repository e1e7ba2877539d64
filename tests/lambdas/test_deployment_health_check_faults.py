"""Faults of the AfterAllowTestTraffic hook: whatever breaks, CodeDeploy hears a status when the event has ids.

Each test says what the caller (CodeDeploy) sees. CodeDeploy through botocore's Stubber (which
checks every request against the real API model), the target on 127.0.0.1.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from lambdas.deployment_health_check import handler as hook

EVENT = {"DeploymentId": "d-FAULTS123", "LifecycleEventHookExecutionId": "hook-execution-9"}
REPORT = {
    "deploymentId": EVENT["DeploymentId"],
    "lifecycleEventHookExecutionId": EVENT["LifecycleEventHookExecutionId"],
}
ANSWER = {"lifecycleEventHookExecutionId": EVENT["LifecycleEventHookExecutionId"]}


class _Server(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        server: Any = self.server
        server.hits += 1
        if server.redirect_to:
            self.send_response(302)
            self.send_header("Location", server.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


def _serve(redirect_to: str | None = None) -> ThreadingHTTPServer:
    httpd: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Server)
    httpd.hits, httpd.redirect_to = 0, redirect_to
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return httpd


@pytest.fixture
def healthy() -> Iterator[ThreadingHTTPServer]:
    server = _serve()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def codedeploy(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Stubber]]:
    monkeypatch.setattr(hook.time, "sleep", lambda seconds: None)
    client = boto3.client("codedeploy", region_name="af-south-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _configure(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    for name, value in {
        "TEST_URL": url,
        "HEALTH_CHECK_TIMEOUT_SECONDS": "1",
        "HEALTH_CHECK_FAILURES": "1",
        "REQUIRED_SUCCESSES": "1",
        "CHECK_SPACING_SECONDS": "0",
    }.items():
        monkeypatch.setenv(name, value)


@dataclass
class _Context:
    seconds: float

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


def test_missing_settings_report_failed(codedeploy: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch) -> None:
    client, stubber = codedeploy
    monkeypatch.delenv("TEST_URL", raising=False)
    stubber.add_response("put_lifecycle_event_hook_execution_status", ANSWER, {**REPORT, "status": "Failed"})
    outcome = hook.handler(EVENT, None, codedeploy=client)
    # CodeDeploy sees Failed at once and rolls back, instead of waiting an hour for the hook.
    assert outcome["status"] == "Failed" and "TEST_URL" in outcome["reason"]


def test_invalid_settings_report_failed(codedeploy: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch) -> None:
    client, stubber = codedeploy
    _configure(monkeypatch, "http://127.0.0.1:9/health")
    monkeypatch.setenv("HEALTH_CHECK_FAILURES", "many")
    stubber.add_response("put_lifecycle_event_hook_execution_status", ANSWER, {**REPORT, "status": "Failed"})
    assert "ValueError" in hook.handler(EVENT, None, codedeploy=client)["reason"]


def test_a_redirect_to_a_healthy_host_is_unhealthy_and_never_followed(
    healthy: ThreadingHTTPServer, codedeploy: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stubber = codedeploy
    redirecting = _serve(redirect_to=f"http://127.0.0.1:{healthy.server_port}/health")
    try:
        _configure(monkeypatch, f"http://127.0.0.1:{redirecting.server_port}/health")
        stubber.add_response("put_lifecycle_event_hook_execution_status", ANSWER, {**REPORT, "status": "Failed"})
        outcome = hook.handler(EVENT, None, codedeploy=client)
    finally:
        redirecting.shutdown()
        redirecting.server_close()
    # CodeDeploy sees Failed: a 302 is not a healthy answer, and the other host was never asked.
    assert [check["status"] for check in outcome["healthChecks"]] == [302]
    assert redirecting.hits == 1 and healthy.hits == 0  # type: ignore[attr-defined]


def test_an_event_without_ids_raises_and_reports_nothing(codedeploy: tuple[Any, Stubber]) -> None:
    client, _ = codedeploy
    # Nothing to report to: the invocation fails, so Lambda retries, then the DLQ and its alarm.
    for event in ({}, {"DeploymentId": "d-1"}, {"LifecycleEventHookExecutionId": "h"}, "not-an-object"):
        with pytest.raises(ValueError, match="not a CodeDeploy lifecycle hook event"):
            hook.handler(event, None, codedeploy=client)  # type: ignore[arg-type]


def test_a_throttled_report_is_retried(
    healthy: ThreadingHTTPServer, codedeploy: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stubber = codedeploy
    _configure(monkeypatch, f"http://127.0.0.1:{healthy.server_port}/health")
    stubber.add_client_error("put_lifecycle_event_hook_execution_status", "ThrottlingException", http_status_code=400)
    stubber.add_response("put_lifecycle_event_hook_execution_status", ANSWER, {**REPORT, "status": "Succeeded"})
    # CodeDeploy sees Succeeded once, on the second call.
    assert hook.handler(EVENT, None, codedeploy=client)["status"] == "Succeeded"


def test_a_report_that_keeps_failing_fails_the_invocation(
    healthy: ThreadingHTTPServer, codedeploy: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stubber = codedeploy
    _configure(monkeypatch, f"http://127.0.0.1:{healthy.server_port}/health")
    for _ in range(3):
        stubber.add_client_error("put_lifecycle_event_hook_execution_status", "AccessDeniedException")
    # Lambda retries the invocation (twice), then the dead-letter queue alarms; CodeDeploy's own
    # hook timeout fails the deployment, which rolls back.
    with pytest.raises(Exception, match="AccessDenied"):
        hook.handler(EVENT, None, codedeploy=client)


def test_a_retried_invocation_after_a_report_is_quiet(
    healthy: ThreadingHTTPServer, codedeploy: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stubber = codedeploy
    _configure(monkeypatch, f"http://127.0.0.1:{healthy.server_port}/health")
    stubber.add_client_error(
        "put_lifecycle_event_hook_execution_status", "LifecycleEventAlreadyCompletedException", http_status_code=400
    )
    # CodeDeploy keeps the status it has; the duplicate delivery ends without an error or a retry.
    assert hook.handler(EVENT, None, codedeploy=client)["status"] == "Succeeded"


def test_too_little_time_left_reports_failed_without_checking(
    healthy: ThreadingHTTPServer, codedeploy: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stubber = codedeploy
    _configure(monkeypatch, f"http://127.0.0.1:{healthy.server_port}/health")
    stubber.add_response("put_lifecycle_event_hook_execution_status", ANSWER, {**REPORT, "status": "Failed"})
    outcome = hook.handler(EVENT, _Context(seconds=9), codedeploy=client)
    # CodeDeploy sees Failed before the Lambda times out; no check was started that could not finish.
    assert outcome["status"] == "Failed" and "too little" in outcome["reason"]
    assert healthy.hits == 0  # type: ignore[attr-defined]


def test_a_crash_in_the_checks_reports_failed(codedeploy: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch) -> None:
    client, stubber = codedeploy
    _configure(monkeypatch, "http://127.0.0.1:9/health")

    def crash(*_: object) -> hook.HealthCheckResult:
        raise RuntimeError("resolver exploded")

    monkeypatch.setattr(hook, "check_once", crash)
    stubber.add_response("put_lifecycle_event_hook_execution_status", ANSWER, {**REPORT, "status": "Failed"})
    assert "resolver exploded" in hook.handler(EVENT, None, codedeploy=client)["reason"]
