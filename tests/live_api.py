"""A small HTTP client for the integration and smoke tests that run against a deployed environment.

Standard library only: the pipeline's test steps install pytest and nothing else. The base URL
comes from CASHTRACE_BASE_URL (the stack's ServiceUrl output); without it the live tests skip.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

BASE_URL_ENV = "CASHTRACE_BASE_URL"
HEALTH_PATH = "/health"


def base_url() -> str | None:
    value = os.environ.get(BASE_URL_ENV, "").strip()
    return value.rstrip("/") or None


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

    def __init__(self, root: str, *, timeout: float = 10.0, attempts: int = 3, backoff: float = 1.0) -> None:
        if not root.startswith(("https://", "http://")):
            raise ValueError(f"{BASE_URL_ENV} must be an http(s) URL, got {root!r}")
        self.root = root.rstrip("/")
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff

    def get(self, path: str) -> Reply:
        url = f"{self.root}{path}"
        last_error: Exception | None = None
        for attempt in range(self.attempts):
            started = time.monotonic()
            try:
                request = urllib.request.Request(url, headers={"Accept": "application/json"})
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
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
