"""Database protection: private and encrypted everywhere; deletion protection and backups in staging/prod."""

from __future__ import annotations

from typing import Any

import pytest

from cashtrace_constructs.checks import DatabaseProtection
from tests.checks.rule_templates import findings

SAFE = {"PubliclyAccessible": False, "StorageEncrypted": True, "DeletionProtection": True, "BackupRetentionPeriod": 7}


def database(**overrides: Any) -> dict[str, Any]:
    return {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": {**SAFE, **overrides}}}


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_a_protected_database_passes_everywhere(environment: str) -> None:
    assert findings(DatabaseProtection(), database(), environment=environment) == []


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_a_public_or_unencrypted_database_is_refused_in_every_environment(environment: str) -> None:
    found = findings(
        DatabaseProtection(), database(PubliclyAccessible=True, StorageEncrypted=False), environment=environment
    )
    assert any("publicly accessible" in f for f in found)
    assert any("does not encrypt" in f for f in found)


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_protected_environments_need_deletion_protection_and_a_week_of_backups(environment: str) -> None:
    found = findings(
        DatabaseProtection(), database(DeletionProtection=False, BackupRetentionPeriod=3), environment=environment
    )
    assert any("no deletion protection" in f for f in found)
    assert any("3 day(s)" in f for f in found)


def test_absent_deletion_protection_and_retention_fall_back_to_the_rds_defaults() -> None:
    props = {"PubliclyAccessible": False, "StorageEncrypted": True}
    found = findings(DatabaseProtection(), {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": props}})
    assert any("no deletion protection" in f for f in found) and any("1 day(s)" in f for f in found)


def test_dev_may_drop_deletion_protection_and_keep_fewer_backups() -> None:
    assert (
        findings(DatabaseProtection(), database(DeletionProtection=False, BackupRetentionPeriod=1), environment="dev")
        == []
    )


def test_a_cluster_member_inherits_its_protection_from_the_cluster() -> None:
    member = {"Type": "AWS::RDS::DBInstance", "Properties": {"DBClusterIdentifier": {"Ref": "Cluster"}}}
    assert findings(DatabaseProtection(), {"Member": member}) == []
