"""The reference service on 127.0.0.1: its routes, TLS, graceful shutdown, and `python -m service` under SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from service import healthcheck
from service.server import ServiceHandler, ServiceSettings
from tests.service.harness import running
from tests.tls import Certificate, _with_openssl, self_signed

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ServiceSettings(host="127.0.0.1", port=0, commit_sha="c" * 40, image_digest="sha256:" + "d" * 64)


def _get(url: str, *, context: ssl.SSLContext | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5, context=context) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_health_ready_version_and_the_protected_api() -> None:
    with running(LOCAL) as service:
        assert _get(f"{service.url}/health") == (200, {"status": "ok"})
        assert _get(f"{service.url}/ready") == (200, {"ready": True})
        assert _get(f"{service.url}/version") == (200, {"commitSha": "c" * 40, "imageDigest": "sha256:" + "d" * 64})
        assert _get(f"{service.url}/api/v1/transactions")[0] == 401
        assert _get(f"{service.url}/api/v1/transactions", headers={"Authorization": "Bearer x"})[0] == 403
        assert _get(f"{service.url}/nope?x=1") == (404, {"error": "not found"})
        post = urllib.request.Request(f"{service.url}/health", data=b"{}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(post, timeout=5)
        assert refused.value.code == 405


def test_settings_come_from_the_task_definitions_environment() -> None:
    settings = ServiceSettings.from_environment(
        {
            "PORT": "9000",
            "CASHTRACE_COMMIT_SHA": "a" * 40,
            "CASHTRACE_IMAGE_DIGEST": "sha256:x",
            "SHUTDOWN_TIMEOUT_SECONDS": "5",
        }
    )
    assert (settings.host, settings.port, settings.commit_sha, settings.image_digest) == (
        "0.0.0.0",
        9000,
        "a" * 40,
        "sha256:x",
    )
    assert settings.shutdown_timeout_seconds == 5 and settings.tls_cert_file is None
    assert ServiceSettings.from_environment({}).commit_sha == "unknown"


def test_tls_with_a_self_signed_certificate(tmp_path: Path) -> None:
    certificate = self_signed(tmp_path)
    settings = ServiceSettings(
        host="127.0.0.1", port=0, tls_cert_file=str(certificate.cert_file), tls_key_file=str(certificate.key_file)
    )
    with running(settings) as service:
        assert service.url.startswith("https://127.0.0.1:")
        trusting = ssl.create_default_context(cafile=str(certificate.ca_bundle))
        assert _get(f"{service.url}/health", context=trusting) == (200, {"status": "ok"})
        # Without the CA bundle the certificate is not trusted: verification is on.
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            _get(f"{service.url}/health", context=ssl.create_default_context())
        # A client that never finishes its handshake does not hold up the others.
        with socket.create_connection(service.server.server_address[:2]):
            assert _get(f"{service.url}/ready", context=trusting)[0] == 200


def test_the_openssl_fallback_makes_a_usable_certificate(tmp_path: Path) -> None:
    certificate = Certificate(tmp_path / "o.crt", tmp_path / "o.key")
    _with_openssl(certificate, "127.0.0.1")
    ssl.create_default_context(cafile=str(certificate.ca_bundle)).load_cert_chain(
        certificate.cert_file, certificate.key_file
    )


class _Slow(ServiceHandler):
    """A route that takes a while, to have a request in flight when the service is told to stop."""

    started = threading.Event()

    def do_GET(self) -> None:
        if self.path.startswith("/slow"):
            _Slow.started.set()
            time.sleep(float(self.path.rsplit("/", 1)[-1]))
            self.reply(200, {"slow": "done"})
        else:
            super().do_GET()


def test_a_request_in_flight_finishes_and_new_connections_are_refused_after_stop() -> None:
    _Slow.started.clear()
    with running(LOCAL, _Slow) as service:
        replies: list[Any] = []
        caller = threading.Thread(target=lambda: replies.append(_get(f"{service.url}/slow/0.5")))
        caller.start()
        assert _Slow.started.wait(5)
        started = time.monotonic()
        assert service.shut_down() is True
        caller.join(5)
        assert replies == [(200, {"slow": "done"})]
        assert time.monotonic() - started < 5
        with pytest.raises(urllib.error.URLError):
            _get(f"{service.url}/health")


def test_shutdown_gives_up_on_requests_longer_than_its_timeout() -> None:
    _Slow.started.clear()
    settings = ServiceSettings(host="127.0.0.1", port=0, shutdown_timeout_seconds=0.3)
    with running(settings, _Slow) as service:
        threading.Thread(target=lambda: _get(f"{service.url}/slow/3"), daemon=True).start()
        assert _Slow.started.wait(5)
        started = time.monotonic()
        assert service.shut_down() is False
        assert time.monotonic() - started < 2


def test_health_and_readiness_say_draining_while_stopping() -> None:
    with running(LOCAL, _Slow) as service:
        service.server.draining.set()
        assert _get(f"{service.url}/health") == (503, {"status": "draining"})
        assert _get(f"{service.url}/ready") == (503, {"ready": False})


def test_the_image_healthcheck_reads_health_on_the_local_port() -> None:
    with running(LOCAL) as service:
        port = str(service.server.server_address[1])
        assert healthcheck.main(port) == 0
    assert healthcheck.main(port) == 1


def test_python_m_service_stops_cleanly_on_sigterm_within_the_stop_timeout(tmp_path: Path) -> None:
    """The container's entry point as ECS runs it: PORT from the environment, SIGTERM, exit 0, no file written."""
    environment = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": "0",
        "PYTHONPATH": str(ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "CASHTRACE_COMMIT_SHA": "e" * 40,
        "CASHTRACE_IMAGE_DIGEST": "sha256:" + "f" * 64,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "service"], cwd=tmp_path, env=environment, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stderr is not None
        serving = json.loads(process.stderr.readline())
        assert serving["message"] == "serving"
        assert _get(f"{serving['url']}/version")[1]["commitSha"] == "e" * 40
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        # ECS's stop timeout is 45 s; an idle service stops at once.
        assert time.monotonic() - started < 5
        messages = [json.loads(line)["message"] for line in process.stderr.read().splitlines()]
        assert messages[-1] == "stopped"
    finally:
        process.kill()
        process.wait()
    # Runs on a read-only root filesystem: it wrote nothing where it ran.
    assert list(tmp_path.iterdir()) == []
