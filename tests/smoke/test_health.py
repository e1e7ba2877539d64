"""Smoke tests right after a production deployment (the pipeline's SmokeTests step): read-only calls only."""

from __future__ import annotations

import os

import pytest

from tests.live_api import VERSION_PATH, ServiceClient, client_from_environment, expected_release, live

pytestmark = live
# The ALB health check's own timeout in config (deployment_strategy.health_check_timeout).
LATENCY_BUDGET_MS = float(os.environ.get("CASHTRACE_LATENCY_BUDGET_MS", "5000"))


@pytest.fixture(scope="module")
def service() -> ServiceClient:
    return client_from_environment()


def test_health_is_consistently_ok_and_fast(service: ServiceClient) -> None:
    # Several calls spread over the load balancer's targets, old and new.
    results = [service.health() for _ in range(5)]
    assert all(result["healthy"] for result in results), results
    assert max(result["latency"] for result in results) < LATENCY_BUDGET_MS, results


def test_production_runs_the_approved_release(service: ServiceClient) -> None:
    release = expected_release()
    if release is None:
        pytest.skip("CASHTRACE_RELEASE_MANIFEST is not set: no release to compare /version with")
    version = service.get(VERSION_PATH).json()
    assert (version.get("commitSha"), version.get("imageDigest")) == (release.commit_sha, release.digest), version


def test_protected_api_is_routed(service: ServiceClient) -> None:
    assert service.get(os.environ.get("CASHTRACE_PROTECTED_PATH", "/api/v1/transactions")).status in (401, 403)
