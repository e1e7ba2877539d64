"""The AfterAllowTestTraffic hook against a real HTTP server on 127.0.0.1, CodeDeploy via botocore's Stubber."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from lambdas.deployment_health_check import handler as hook

EVENT = {"DeploymentId": "d-ABCDEF123", "LifecycleEventHookExecutionId": "hook-execution-1"}


class _Target(BaseHTTPRequestHandler):
    mode = "ok"

    def do_GET(self) -> None:
        if self.server.mode == "slow":  # type: ignore[attr-defined]
            time.sleep(1.5)
        status = 500 if self.server.mode == "error" else 200  # type: ignore[attr-defined]
        body = b'{"status":"ok"}'
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    httpd.mode = "ok"  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _configure(monkeypatch: pytest.MonkeyPatch, url: str, *, timeout: str = "1", failures: str = "2") -> None:
    monkeypatch.setenv("TEST_URL", url)
    monkeypatch.setenv("HEALTH_CHECK_TIMEOUT_SECONDS", timeout)
    monkeypatch.setenv("HEALTH_CHECK_FAILURES", failures)
    monkeypatch.setenv("REQUIRED_SUCCESSES", "3")
    monkeypatch.setenv("CHECK_SPACING_SECONDS", "0")


def _run(expected_status: str) -> dict[str, Any]:
    client = boto3.client("codedeploy", region_name="af-south-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        stubber.add_response(
            "put_lifecycle_event_hook_execution_status",
            {"lifecycleEventHookExecutionId": EVENT["LifecycleEventHookExecutionId"]},
            {
                "deploymentId": EVENT["DeploymentId"],
                "lifecycleEventHookExecutionId": EVENT["LifecycleEventHookExecutionId"],
                "status": expected_status,
            },
        )
        outcome = hook.handler(EVENT, None, codedeploy=client)
        stubber.assert_no_pending_responses()
    return outcome


def test_healthy_target_reports_succeeded_after_three_good_checks(
    server: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{server.server_port}/health"
    _configure(monkeypatch, url)
    with caplog.at_level(logging.INFO):
        outcome = _run("Succeeded")
    assert outcome["status"] == "Succeeded" and "code" not in outcome
    checks = outcome["healthChecks"]
    assert len(checks) == 3
    assert all(c["endpoint"] == url and c["status"] == 200 and c["healthy"] and c["latency"] >= 0 for c in checks)
    logged = [json.loads(r.getMessage()) for r in caplog.records if r.getMessage().startswith("{")]
    assert [entry["healthCheck"]["status"] for entry in logged if "healthCheck" in entry] == [200, 200, 200]
    assert all({"timestamp", "endpoint", "status", "latency", "healthy"} <= set(e["healthCheck"]) for e in logged)


def test_failing_target_reports_failed_with_the_error_code(
    server: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.mode = "error"  # type: ignore[attr-defined]
    _configure(monkeypatch, f"http://127.0.0.1:{server.server_port}/health", failures="2")
    outcome = _run("Failed")
    assert outcome["code"] == "DEPLOY_HEALTH_CHECK_FAILED"
    assert [c["status"] for c in outcome["healthChecks"]] == [500, 500]
    assert not any(c["healthy"] for c in outcome["healthChecks"])


def test_slow_target_fails_on_the_health_check_timeout(
    server: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.mode = "slow"  # type: ignore[attr-defined]
    _configure(monkeypatch, f"http://127.0.0.1:{server.server_port}/health", timeout="0.3", failures="1")
    started = time.monotonic()
    outcome = _run("Failed")
    assert time.monotonic() - started < 1.4, "the hook must give up at the timeout, not wait for the answer"
    [check] = outcome["healthChecks"]
    assert check["healthy"] is False and check["status"] == 0 and check["error"]
    assert outcome["code"] == "DEPLOY_HEALTH_CHECK_FAILED"


def test_unreachable_target_reports_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    _configure(monkeypatch, f"http://127.0.0.1:{_closed_port()}/health", failures="2")
    outcome = _run("Failed")
    assert len(outcome["healthChecks"]) == 2
    assert all(c["status"] == 0 and "Connection" in (c["error"] or "") for c in outcome["healthChecks"])


def test_one_failure_below_the_threshold_is_tolerated(
    server: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = hook.check_once

    def flaky(url: str, timeout: float, connect_host: str | None = None) -> hook.HealthCheckResult:
        calls["n"] += 1
        server.mode = "error" if calls["n"] == 1 else "ok"  # type: ignore[attr-defined]
        return real(url, timeout, connect_host)

    monkeypatch.setattr(hook, "check_once", flaky)
    _configure(monkeypatch, f"http://127.0.0.1:{server.server_port}/health", failures="2")
    outcome = _run("Succeeded")
    assert [c["status"] for c in outcome["healthChecks"]] == [500, 200, 200, 200]


def test_running_out_of_lambda_time_fails_instead_of_hanging(
    server: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(monkeypatch, f"http://127.0.0.1:{server.server_port}/health")
    settings = hook.HookSettings.from_environment({"TEST_URL": f"http://127.0.0.1:{server.server_port}/"})
    verdict = hook.run_checks(settings, seconds_left=lambda: 1.0, sleep=lambda _: None)
    assert not verdict.healthy and len(verdict.checks) == 1 and "time" in verdict.reason


def test_non_http_urls_are_refused() -> None:
    with pytest.raises(ValueError, match="http"):
        hook.HookSettings.from_environment({"TEST_URL": "file:///etc/passwd"})
