"""The deploy hook publishes its HealthCheckResults for the deployment record (botocore Stubber for both APIs)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from cashtrace_constructs.deployment_record import HEALTH_CHECKS, HEALTH_CHECKS_SOURCE
from lambdas.deployment_health_check import handler as hook
from lambdas.deployment_record import handler as recorder
from tests.lambdas.record_events import RELEASE

EVENT = {"DeploymentId": "d-ABCDEF123", "LifecycleEventHookExecutionId": "hook-execution-1"}
DESCRIPTION = f"api commit={RELEASE.commit_sha} digest={RELEASE.digest}"


class _Healthy(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def target(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Healthy)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_port}/health"
    for name, value in {
        "TEST_URL": url,
        "HEALTH_CHECK_TIMEOUT_SECONDS": "1",
        "HEALTH_CHECK_FAILURES": "2",
        "REQUIRED_SUCCESSES": "2",
        "CHECK_SPACING_SECONDS": "0",
    }.items():
        monkeypatch.setenv(name, value)
    yield url
    httpd.shutdown()
    httpd.server_close()


def _client(service: str) -> Any:
    return boto3.client(service, region_name="af-south-1", aws_access_key_id="x", aws_secret_access_key="x")


def test_the_hook_reports_first_then_publishes_every_result_with_the_release(target: str) -> None:
    codedeploy, events = _client("codedeploy"), _client("events")
    published: list[dict[str, Any]] = []
    events.meta.events.register("provide-client-params.events.PutEvents", lambda params, **_: published.append(params))
    with Stubber(codedeploy) as deploys, Stubber(events) as bus:
        deploys.add_response(
            "put_lifecycle_event_hook_execution_status",
            {"lifecycleEventHookExecutionId": EVENT["LifecycleEventHookExecutionId"]},
            {
                "deploymentId": EVENT["DeploymentId"],
                "lifecycleEventHookExecutionId": EVENT["LifecycleEventHookExecutionId"],
                "status": "Succeeded",
            },
        )
        deploys.add_response(
            "get_deployment",
            {"deploymentInfo": {"deploymentId": EVENT["DeploymentId"], "description": DESCRIPTION}},
            {"deploymentId": EVENT["DeploymentId"]},
        )
        bus.add_response("put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]}, {"Entries": ANY})
        outcome = hook.handler(EVENT, None, codedeploy=codedeploy, events=events)
        deploys.assert_no_pending_responses()
        bus.assert_no_pending_responses()
    (entry,) = published[0]["Entries"]
    assert (entry["Source"], entry["DetailType"]) == (HEALTH_CHECKS_SOURCE, HEALTH_CHECKS)
    detail = json.loads(entry["Detail"])
    assert detail["deploymentId"] == EVENT["DeploymentId"] and detail["status"] == "Succeeded"
    assert detail["healthChecks"] == outcome["healthChecks"] and len(detail["healthChecks"]) == 2
    # The recorder reads the release back from the description the EcsDeployment gave the deployment.
    assert recorder.release_of(detail["description"]) == {
        "commitSha": RELEASE.commit_sha,
        "imageDigest": RELEASE.digest,
    }


def test_a_failure_to_publish_never_changes_the_verdict(target: str) -> None:
    codedeploy = _client("codedeploy")
    with Stubber(codedeploy) as deploys:
        deploys.add_response(
            "put_lifecycle_event_hook_execution_status",
            {"lifecycleEventHookExecutionId": EVENT["LifecycleEventHookExecutionId"]},
            None,
        )
        deploys.add_client_error("get_deployment", "AccessDeniedException", "no", 400)
        outcome = hook.handler(EVENT, None, codedeploy=codedeploy, events=_client("events"))
        deploys.assert_no_pending_responses()
    assert outcome["status"] == "Succeeded"


def test_the_hook_and_the_record_name_the_event_alike() -> None:
    assert (hook.RESULTS_SOURCE, hook.RESULTS_DETAIL_TYPE) == (HEALTH_CHECKS_SOURCE, HEALTH_CHECKS)
    assert recorder.HEALTH_CHECKS == HEALTH_CHECKS
