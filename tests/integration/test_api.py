"""Integration tests against the freshly deployed staging environment (the pipeline's IntegrationTests step)."""

from __future__ import annotations

import os

import pytest

from tests.live_api import ServiceClient, base_url, live

pytestmark = live
# A route that exists only behind authentication; without credentials it must refuse, not fail.
PROTECTED_PATH = os.environ.get("CASHTRACE_PROTECTED_PATH", "/api/v1/transactions")


@pytest.fixture(scope="module")
def service() -> ServiceClient:
    root = base_url()
    assert root is not None
    return ServiceClient(root)


def test_health_endpoint_answers_ok(service: ServiceClient) -> None:
    result = service.health()
    assert result["healthy"], result


def test_the_public_url_is_https() -> None:
    assert str(base_url()).startswith("https://")


def test_protected_api_refuses_anonymous_callers(service: ServiceClient) -> None:
    assert service.get(PROTECTED_PATH).status in (401, 403)


def test_unknown_routes_are_not_server_errors(service: ServiceClient) -> None:
    assert service.get("/__cashtrace_pipeline_probe__").status == 404
