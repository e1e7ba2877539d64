"""A small HTTP client for the integration and smoke tests that run against a deployed environment.

Standard library only: the pipeline's test steps install pytest and nothing else. Parameters, all
environment variables so that the pipeline and `make test` pass them alike:

- CASHTRACE_BASE_URL: the environment's base URL (the stack's ServiceUrl output), http or https;
  without it the live tests skip.
- CASHTRACE_CA_BUNDLE: a PEM file of CAs to trust instead of the system's (a private or test CA).
- CASHTRACE_RELEASE_MANIFEST: the release.json of the release being tested; /version must match it.
- CASHTRACE_RETRY_BACKOFF_SECONDS: the first pause before retrying a 5xx or a refused connection.
"""

from __future__ import annotations

import json
import os
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from cashtrace_constructs.release_manifest import ReleaseManifest, load

BASE_URL_ENV = "CASHTRACE_BASE_URL"
CA_BUNDLE_ENV = "CASHTRACE_CA_BUNDLE"
RELEASE_MANIFEST_ENV = "CASHTRACE_RELEASE_MANIFEST"
BACKOFF_ENV = "CASHTRACE_RETRY_BACKOFF_SECONDS"
HEALTH_PATH = "/health"
VERSION_PATH = "/version"


def base_url() -> str | None:
    value = os.environ.get(BASE_URL_ENV, "").strip()
    return value.rstrip("/") or None


def expected_release() -> ReleaseManifest | None:
    """The release the deployed environment must report, or None when no manifest was given."""
    path = os.environ.get(RELEASE_MANIFEST_ENV, "").strip()
    return load(path) if path else None


def client_from_environment() -> ServiceClient:
    root = base_url()
    assert root is not None
    return ServiceClient(
        root,
        ca_bundle=os.environ.get(CA_BUNDLE_ENV, "").strip() or None,
        backoff=float(os.environ.get(BACKOFF_ENV, "1.0")),
    )


live = pytest.mark.skipif(base_url() is None, reason=f"{BASE_URL_ENV} is not set: no deployed environment to call")


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    latency_ms: float

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class ServiceClient:
    """GETs against one deployed environment; 5xx and connection errors are retried with backoff."""

    def __init__(
        self,
        root: str,
        *,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff: float = 1.0,
        ca_bundle: str | None = None,
    ) -> None:
        if not root.startswith(("https://", "http://")):
            raise ValueError(f"{BASE_URL_ENV} must be an http(s) URL, got {root!r}")
        self.root = root.rstrip("/")
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff
        # Certificates are always verified; a CA bundle only changes whom to trust.
        self.context = ssl.create_default_context(cafile=ca_bundle) if root.startswith("https://") else None

    def get(self, path: str) -> Reply:
        url = f"{self.root}{path}"
        last_error: Exception | None = None
        for attempt in range(self.attempts):
            started = time.monotonic()
            try:
                request = urllib.request.Request(url, headers={"Accept": "application/json"})
                with urllib.request.urlopen(request, timeout=self.timeout, context=self.context) as response:
                    return Reply(response.status, response.read(), (time.monotonic() - started) * 1000)
            except urllib.error.HTTPError as error:
                reply = Reply(error.code, error.read(), (time.monotonic() - started) * 1000)
                if error.code < 500:
                    return reply
                last_error = error
                if attempt == self.attempts - 1:
                    return reply
            except (urllib.error.URLError, TimeoutError) as error:
                last_error = error
            if attempt < self.attempts - 1:
                time.sleep(self.backoff * 2**attempt)
        raise ConnectionError(f"GET {url} failed after {self.attempts} attempts: {last_error}")

    def health(self, path: str = HEALTH_PATH) -> dict[str, Any]:
        """One health check as the design's HealthCheckResult (timestamp, endpoint, status, latency, healthy)."""
        try:
            reply = self.get(path)
            status, latency = reply.status, reply.latency_ms
        except ConnectionError:
            status, latency = 0, float(self.timeout * 1000)
        return {
            "timestamp": datetime.now(UTC).isoformat(),
            "endpoint": f"{self.root}{path}",
            "status": status,
            "latency": round(latency, 1),
            "healthy": status == 200,
        }
