"""Snapshots of every synthesized stack, so a pull request shows what a change does to each template.

Asset hashes and account ids are masked: they change with every code edit and every machine,
and would bury the real diff. Update with `make snapshot-update`; CI never does.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from tests.conftest import ENVIRONMENT_STACKS

_ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")
_ACCOUNT = re.compile(r"\b\d{12}\b")


def masked(template: dict[str, Any]) -> Any:
    text = json.dumps(template, sort_keys=True)
    text = _ASSET_HASH.sub("<asset-hash>", text)
    text = _ACCOUNT.sub("<account>", text)
    return json.loads(text)


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("stack_name", ENVIRONMENT_STACKS)
def test_environment_stack_template(
    stack_name: str, templates: dict[str, dict[str, Any]], snapshot_json: SnapshotAssertion
) -> None:
    assert masked(templates[stack_name]) == snapshot_json


def test_pipeline_stack_template(templates: dict[str, dict[str, Any]], snapshot_json: SnapshotAssertion) -> None:
    assert masked(templates["CashTrace-Pipeline"]) == snapshot_json


def test_masking_hides_only_hashes_and_accounts() -> None:
    template = {"A": "a" * 64, "B": "arn:aws:iam::123456789012:root", "C": "10.20.0.0/16"}
    assert masked(template) == {"A": "<asset-hash>", "B": "arn:aws:iam::<account>:root", "C": "10.20.0.0/16"}
