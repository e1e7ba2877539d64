"""The live tests' HTTP client, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests import live_api
from tests.live_api import ServiceClient


class _Service(BaseHTTPRequestHandler):
    failures_left = 0

    def do_GET(self) -> None:
        if self.path == "/flaky" and _Service.failures_left > 0:
            _Service.failures_left -= 1
            self._reply(503, {"error": "warming up"})
        elif self.path in ("/health", "/flaky"):
            self._reply(200, {"status": "ok"})
        elif self.path == "/api/v1/transactions":
            self._reply(401, {"error": "unauthenticated"})
        elif self.path == "/broken":
            self._reply(500, {"error": "boom"})
        else:
            self._reply(404, {"error": "not found"})

    def _reply(self, status: int, body: dict[str, str]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Service)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_health_is_reported_as_a_health_check_result(server: str) -> None:
    result = ServiceClient(server).health()
    assert result["healthy"] is True and result["status"] == 200
    assert result["endpoint"] == f"{server}/health" and result["latency"] >= 0
    assert set(result) == {"timestamp", "endpoint", "status", "latency", "healthy"}


def test_client_errors_are_returned_not_retried(server: str) -> None:
    reply = ServiceClient(server, backoff=0).get("/api/v1/transactions")
    assert reply.status == 401 and reply.json() == {"error": "unauthenticated"}
    assert ServiceClient(server, backoff=0).get("/nope").status == 404


def test_server_errors_are_retried_then_returned(server: str) -> None:
    _Service.failures_left = 2
    assert ServiceClient(server, attempts=3, backoff=0).get("/flaky").status == 200
    assert ServiceClient(server, attempts=2, backoff=0).get("/broken").status == 500


def test_an_unreachable_service_is_unhealthy_not_a_crash() -> None:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    result = ServiceClient("http://127.0.0.1:9", attempts=2, backoff=0, timeout=1).health()
    assert result["healthy"] is False and result["status"] == 0


def test_base_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(live_api.BASE_URL_ENV, "https://staging.cashtrace.ng/")
    assert live_api.base_url() == "https://staging.cashtrace.ng"
    monkeypatch.delenv(live_api.BASE_URL_ENV)
    assert live_api.base_url() is None
    with pytest.raises(ValueError, match="CASHTRACE_BASE_URL"):
        ServiceClient("ftp://example")
