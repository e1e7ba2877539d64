"""Fixtures of the promotion gate's tests: the pipeline account's record in moto, CloudFormation on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from tests.lambdas.custom_resource import response_server
from tests.lambdas.promotion_gate_world import (
    GATE_ENVIRONMENT,
    RECORDER_ENVIRONMENT,
    create_record,
    empty,
    pipeline_session,
)


@pytest.fixture(scope="module")
def pipeline_table() -> Iterator[Any]:
    """The pipeline account's deployment record in moto, for a module's tests."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",  # pragma: allowlist secret
            **RECORDER_ENVIRONMENT,
        }.items():
            patch.setenv(name, value)
        with mock_aws():
            yield create_record(pipeline_session())


@pytest.fixture
def table(pipeline_table: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The record, emptied after each test; the gate's and the recorder's settings in the environment."""
    for name, value in {**GATE_ENVIRONMENT, **RECORDER_ENVIRONMENT}.items():
        monkeypatch.setenv(name, value)
    yield pipeline_table
    empty(pipeline_table)


@pytest.fixture
def cloudformation() -> Iterator[Any]:
    with response_server() as server:
        yield server
