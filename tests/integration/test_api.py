"""Integration tests against the freshly deployed staging environment (the pipeline's IntegrationTests step)."""

from __future__ import annotations

import os

import pytest

from tests.live_api import VERSION_PATH, ServiceClient, client_from_environment, expected_release, live

pytestmark = live
# A route that exists only behind authentication; without credentials it must refuse, not fail.
PROTECTED_PATH = os.environ.get("CASHTRACE_PROTECTED_PATH", "/api/v1/transactions")


@pytest.fixture(scope="module")
def service() -> ServiceClient:
    return client_from_environment()


def test_health_endpoint_answers_ok(service: ServiceClient) -> None:
    result = service.health()
    assert result["healthy"], result


def test_the_environment_runs_the_release_being_tested(service: ServiceClient) -> None:
    release = expected_release()
    if release is None:
        pytest.skip("CASHTRACE_RELEASE_MANIFEST is not set: no release to compare /version with")
    reply = service.get(VERSION_PATH)
    assert reply.status == 200, reply
    version = reply.json()
    assert (version.get("commitSha"), version.get("imageDigest")) == (release.commit_sha, release.digest), version


def test_protected_api_refuses_anonymous_callers(service: ServiceClient) -> None:
    assert service.get(PROTECTED_PATH).status in (401, 403)


def test_unknown_routes_are_not_server_errors(service: ServiceClient) -> None:
    assert service.get("/__cashtrace_pipeline_probe__").status == 404
