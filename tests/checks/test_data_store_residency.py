"""Property 7 for data stores: encryption present, no multi-region features, no copy to a foreign vault."""

from __future__ import annotations

from typing import Any

import pytest

from cashtrace_constructs.checks import DataStoreResidency, SynthesizedStack, default_rules, evaluate
from tests.conftest import ENVIRONMENT_STACKS

FOREIGN_VAULT = "arn:aws:backup:eu-west-1:123456789012:backup-vault:x"

COMPLIANT: dict[str, Any] = {
    "Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}},
    "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"StorageEncrypted": True}},
    "Cluster": {"Type": "AWS::RDS::DBCluster", "Properties": {"StorageEncrypted": True}},
    "Cache": {
        "Type": "AWS::ElastiCache::ReplicationGroup",
        "Properties": {"AtRestEncryptionEnabled": True, "TransitEncryptionEnabled": True},
    },
    "Bucket": {
        "Type": "AWS::S3::Bucket",
        "Properties": {
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {}}]}
        },
    },
    "Vault": {"Type": "AWS::Backup::BackupVault", "Properties": {"EncryptionKeyArn": {"Fn::GetAtt": ["Key", "Arn"]}}},
    "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"KmsKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}},
    "Plan": {
        "Type": "AWS::Backup::BackupPlan",
        "Properties": {
            "BackupPlan": {
                "BackupPlanRule": [
                    {
                        "RuleName": "Daily",
                        "CopyActions": [{"DestinationBackupVaultArn": {"Fn::GetAtt": ["Vault", "BackupVaultArn"]}}],
                    }
                ]
            }
        },
    },
}


def findings(resources: dict[str, Any]) -> list[str]:
    stack = SynthesizedStack(name="S", construct_path="S", template={"Resources": resources}, region="af-south-1")
    return [f.message for f in evaluate([DataStoreResidency()], [stack])]


def with_change(logical_id: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {**COMPLIANT, logical_id: resource}


def test_encrypted_single_region_stores_with_a_local_copy_are_compliant() -> None:
    assert findings(COMPLIANT) == []


@pytest.mark.parametrize(
    ("logical_id", "resource", "expected"),
    [
        ("Db", {"Type": "AWS::RDS::DBInstance", "Properties": {}}, "storage is not encrypted"),
        (
            "Db",
            {"Type": "AWS::RDS::DBInstance", "Properties": {"StorageEncrypted": True, "SourceRegion": "eu-west-1"}},
            "cross-region read replica",
        ),
        (
            "Db",
            {
                "Type": "AWS::RDS::DBInstance",
                "Properties": {"StorageEncrypted": True, "AutomaticBackupReplicationRegion": "eu-west-1"},
            },
            "replicates automated backups",
        ),
        (
            "Cluster",
            {"Type": "AWS::RDS::DBCluster", "Properties": {"StorageEncrypted": True, "GlobalClusterIdentifier": "g"}},
            "global (multi-region) cluster",
        ),
        ("Global", {"Type": "AWS::RDS::GlobalCluster", "Properties": {}}, "Aurora global database"),
        (
            "Cache",
            {"Type": "AWS::ElastiCache::ReplicationGroup", "Properties": {"TransitEncryptionEnabled": True}},
            "at rest is not encrypted",
        ),
        (
            "Cache",
            {"Type": "AWS::ElastiCache::ReplicationGroup", "Properties": {"AtRestEncryptionEnabled": True}},
            "in transit is not encrypted",
        ),
        (
            "Cache",
            {
                "Type": "AWS::ElastiCache::ReplicationGroup",
                "Properties": {
                    "AtRestEncryptionEnabled": True,
                    "TransitEncryptionEnabled": True,
                    "GlobalReplicationGroupId": "g",
                },
            },
            "global datastore",
        ),
        ("Node", {"Type": "AWS::ElastiCache::CacheCluster", "Properties": {}}, "cannot encrypt at rest"),
        ("GlobalCache", {"Type": "AWS::ElastiCache::GlobalReplicationGroup", "Properties": {}}, "global datastore"),
        ("Bucket", {"Type": "AWS::S3::Bucket", "Properties": {}}, "no default encryption"),
        ("Vault", {"Type": "AWS::Backup::BackupVault", "Properties": {}}, "no customer-managed KMS key"),
        ("Logs", {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 365}}, "not encrypted"),
        ("Replica", {"Type": "AWS::KMS::ReplicaKey", "Properties": {}}, "replica key"),
        (
            "Plan",
            {
                "Type": "AWS::Backup::BackupPlan",
                "Properties": {
                    "BackupPlan": {
                        "BackupPlanRule": [
                            {
                                "RuleName": "Daily",
                                "CopyActions": [{"DestinationBackupVaultArn": FOREIGN_VAULT}],
                            }
                        ]
                    }
                },
            },
            "not a vault of this stack",
        ),
    ],
)
def test_each_non_compliant_store_is_named(logical_id: str, resource: dict[str, Any], expected: str) -> None:
    messages = findings(with_change(logical_id, resource))
    assert len(messages) == 1, messages
    assert messages[0].startswith("Property 7 (data residency): DEPLOY_RESIDENCY_VIOLATION")
    assert logical_id in messages[0] and expected in messages[0]


def test_the_real_environment_stacks_satisfy_property_7_for_data_stores(templates: dict[str, dict[str, Any]]) -> None:
    for name in ENVIRONMENT_STACKS:
        stack = SynthesizedStack(name=name, construct_path=name, template=templates[name], region="af-south-1")
        assert [f for f in evaluate(default_rules(), [stack]) if f.rule_id.startswith("CT-P7")] == []
        types = {r["Type"] for r in templates[name]["Resources"].values()}
        assert {"AWS::RDS::DBInstance", "AWS::ElastiCache::ReplicationGroup", "AWS::Backup::BackupVault"} <= types
