"""The reference CashTrace API service: health, readiness, version and graceful shutdown, standard library only.

It stands in for the CashTrace API until the real one plugs in, and is the executable form of the
contract that API must meet (docs/release.md): `GET /health` 200 while it can serve, `GET /ready`
200 once it accepts traffic, `GET /version` naming the commit and image digest it runs, the port
from `PORT`, and on SIGTERM no new connections, in-flight requests finished, exit well inside the
task's stop timeout.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any

logger = logging.getLogger("cashtrace.service")

# A protected route of the API: without credentials it refuses (the live suites probe it).
PROTECTED_PREFIX = "/api/"


@dataclass(frozen=True)
class ServiceSettings:
    """What the task definition hands the container (environment variables) and what it defaults to."""

    # In the container the service listens on every interface (the ALB reaches the task's ENI);
    # tests bind 127.0.0.1.
    host: str = "0.0.0.0"  # noqa: S104  # nosec B104 - the container's own network namespace
    port: int = 8080
    commit_sha: str = "unknown"
    image_digest: str = "unknown"
    # Below ServiceConfig.stop_timeout_seconds (45 s), after which ECS sends SIGKILL.
    shutdown_timeout_seconds: float = 30.0
    # Plain HTTP behind the load balancer, which terminates TLS; a certificate turns TLS on here.
    tls_cert_file: str | None = None
    tls_key_file: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> ServiceSettings:
        return cls(
            host=environ.get("HOST", cls.host),
            port=int(environ.get("PORT", str(cls.port))),
            commit_sha=environ.get("CASHTRACE_COMMIT_SHA") or cls.commit_sha,
            image_digest=environ.get("CASHTRACE_IMAGE_DIGEST") or cls.image_digest,
            shutdown_timeout_seconds=float(environ.get("SHUTDOWN_TIMEOUT_SECONDS", str(cls.shutdown_timeout_seconds))),
            tls_cert_file=environ.get("TLS_CERT_FILE") or None,
            tls_key_file=environ.get("TLS_KEY_FILE") or None,
        )


class ServiceHandler(BaseHTTPRequestHandler):
    """The routes; one instance per request (HTTP/1.0: one request per connection, nothing idle to drain)."""

    server: ServiceServer
    server_version = "cashtrace-reference"
    sys_version = ""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/health":
            self.health()
        elif path == "/ready":
            self.ready()
        elif path == "/version":
            self.version()
        elif path.startswith(PROTECTED_PREFIX):
            self.protected()
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0].startswith(PROTECTED_PREFIX):
            self.protected()
        else:
            self.reply(405, {"error": "method not allowed"})

    def health(self) -> None:
        # Draining: the load balancer should already have deregistered this task; say so if it has not.
        draining = self.server.draining.is_set()
        self.reply(503 if draining else 200, {"status": "draining" if draining else "ok"})

    def ready(self) -> None:
        ready = self.server.ready.is_set() and not self.server.draining.is_set()
        self.reply(200 if ready else 503, {"ready": ready})

    def version(self) -> None:
        settings = self.server.settings
        self.reply(200, {"commitSha": settings.commit_sha, "imageDigest": settings.image_digest})

    def protected(self) -> None:
        # The reference service holds no data, so no credential is good: 401 without one, 403 with one.
        authenticated = bool(self.headers.get("Authorization"))
        self.reply(403 if authenticated else 401, {"error": "forbidden" if authenticated else "unauthenticated"})

    def reply(self, status: int, body: Mapping[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        logger.info(json.dumps({"message": format % args, "client": self.client_address[0]}))


class ServiceServer(ThreadingHTTPServer):
    """Counts connections from accept to close, so that a shutdown waits for exactly those."""

    daemon_threads = True

    def __init__(self, settings: ServiceSettings, handler: type[ServiceHandler] = ServiceHandler) -> None:
        super().__init__((settings.host, settings.port), handler)
        self.settings = settings
        self.ready = threading.Event()
        self.draining = threading.Event()
        self._in_flight = 0
        self._idle = threading.Condition()
        if settings.tls_cert_file:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(settings.tls_cert_file, settings.tls_key_file)
            # The handshake happens in the request's own thread, not in the accept loop.
            self.socket = context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        scheme = "https" if self.settings.tls_cert_file else "http"
        return f"{scheme}://{host!s}:{port}"

    def finish_request(self, request: Any, client_address: Any) -> None:
        if isinstance(request, ssl.SSLSocket):
            request.settimeout(10)
            try:
                request.do_handshake()
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Counted in the accept loop, before the request's thread exists: a connection accepted just
        # before the shutdown is waited for too.
        with self._idle:
            self._in_flight += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        try:
            super().shutdown_request(request)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request is in flight; False when `timeout` ran out first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout=timeout)


def serve(server: ServiceServer, stop: threading.Event) -> bool:
    """Serve until `stop` is set, then drain: refuse new connections, let requests in flight finish.

    Returns whether every request finished within the shutdown timeout.
    """
    loop = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    loop.start()
    server.ready.set()
    logger.info(json.dumps({"message": "serving", "url": server.url, "commitSha": server.settings.commit_sha}))
    stop.wait()
    started = time.monotonic()
    server.draining.set()
    server.shutdown()  # the accept loop ends; connections already accepted carry on in their threads
    server.server_close()
    drained = server.wait_idle(server.settings.shutdown_timeout_seconds)
    logger.info(json.dumps({"message": "stopped", "drained": drained, "seconds": round(time.monotonic() - started, 3)}))
    return drained


def main(environ: Mapping[str, str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = ServiceSettings.from_environment(os.environ if environ is None else environ)
    server = ServiceServer(settings)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return 0 if serve(server, stop) else 1
