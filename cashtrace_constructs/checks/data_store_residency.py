"""Property 7 (data residency) for data stores: each store encrypted at rest and confined to its region.

The generic data-residency rule finds other regions named anywhere in a template and multi-region
KMS keys; this rule adds what a region name does not show: cross-region features switched on by
an identifier or a flag, copy actions to a vault outside the stack, and stores left unencrypted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from cashtrace_constructs.checks.rule import Finding, StackRule, SynthesizedStack
from cashtrace_constructs.checks.template import of_type, references
from cashtrace_constructs.errors import ErrorCode

Properties = Mapping[str, Any]
Problem = tuple[str, str]  # (location, reason)

# Resource types that by definition hold or replicate data in more than one region.
MULTI_REGION_TYPES: Mapping[str, str] = {
    "AWS::RDS::GlobalCluster": "an Aurora global database replicates to other regions",
    "AWS::ElastiCache::GlobalReplicationGroup": "a global datastore replicates to other regions",
    "AWS::KMS::ReplicaKey": "a replica key shares key material with a key in another region",
}


def _rds(properties: Properties) -> Iterator[Problem]:
    if properties.get("SourceDBInstanceIdentifier") or properties.get("DBClusterIdentifier"):
        # Replicas and cluster members inherit encryption from their source; a cross-region
        # source is caught by SourceRegion below.
        pass
    elif properties.get("StorageEncrypted") is not True:
        yield "Properties.StorageEncrypted", "storage is not encrypted"
    if properties.get("SourceRegion"):
        yield "Properties.SourceRegion", "is a cross-region read replica"
    if properties.get("AutomaticBackupReplicationRegion"):
        yield "Properties.AutomaticBackupReplicationRegion", "replicates automated backups to another region"
    if properties.get("GlobalClusterIdentifier"):
        yield "Properties.GlobalClusterIdentifier", "joins a global (multi-region) cluster"


def _replication_group(properties: Properties) -> Iterator[Problem]:
    if properties.get("AtRestEncryptionEnabled") is not True:
        yield "Properties.AtRestEncryptionEnabled", "data at rest is not encrypted"
    if properties.get("TransitEncryptionEnabled") is not True:
        yield "Properties.TransitEncryptionEnabled", "data in transit is not encrypted"
    if properties.get("GlobalReplicationGroupId"):
        yield "Properties.GlobalReplicationGroupId", "joins a global datastore replicated to other regions"


def _cache_cluster(properties: Properties) -> Iterator[Problem]:
    yield "Type", "a single cache cluster cannot encrypt at rest; use a replication group"


def _bucket(properties: Properties) -> Iterator[Problem]:
    if not (properties.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration"):
        yield "Properties.BucketEncryption", "has no default encryption"


def _vault(properties: Properties) -> Iterator[Problem]:
    if not properties.get("EncryptionKeyArn"):
        yield "Properties.EncryptionKeyArn", "has no customer-managed KMS key of its own"


def _log_group(properties: Properties) -> Iterator[Problem]:
    if not properties.get("KmsKeyId"):
        yield "Properties.KmsKeyId", "is not encrypted with a customer-managed KMS key"


CHECKS: Mapping[str, Callable[[Properties], Iterator[Problem]]] = {
    "AWS::RDS::DBInstance": _rds,
    "AWS::RDS::DBCluster": _rds,
    "AWS::ElastiCache::ReplicationGroup": _replication_group,
    "AWS::ElastiCache::CacheCluster": _cache_cluster,
    "AWS::S3::Bucket": _bucket,
    "AWS::Backup::BackupVault": _vault,
    "AWS::Logs::LogGroup": _log_group,
}


class DataStoreResidency(StackRule):
    rule_id = "CT-P7-DataStoreResidency"
    property_name = "Property 7 (data residency)"
    description = (
        "Every data store (RDS, ElastiCache, S3, Backup vaults, log groups, KMS keys) is encrypted, "
        "single-region, and never copied to another region."
    )
    fix = (
        "Use the data-layer constructs (PostgresDatabase, RedisCache, ApplicationStorage, DatabaseBackups); "
        "remove global clusters/datastores, replica keys, cross-region replicas and backup copy actions."
    )

    def check_stack(self, stack: SynthesizedStack) -> Iterable[Finding]:
        code = ErrorCode.RESIDENCY_VIOLATION.value
        vaults = {lid for lid, _ in of_type(stack.template, "AWS::Backup::BackupVault")}
        for logical_id, resource in stack.resources.items():
            kind = str(resource.get("Type", ""))
            properties = resource.get("Properties") or {}
            problems: list[Problem] = []
            if kind in MULTI_REGION_TYPES:
                problems.append(("Type", MULTI_REGION_TYPES[kind]))
            if kind in CHECKS:
                problems.extend(CHECKS[kind](properties))
            if kind == "AWS::Backup::BackupPlan":
                problems.extend(self._copy_actions(properties, vaults))
            for location, reason in problems:
                yield self.finding(
                    stack, f"{code}: {kind} {logical_id} {reason}", logical_id=logical_id, location=location
                )

    @staticmethod
    def _copy_actions(properties: Properties, local_vaults: set[str]) -> Iterator[Problem]:
        # A vault ARN in another region or account is a literal or an import; only a vault of
        # this region-pinned stack is provably in the region.
        rules = (properties.get("BackupPlan") or {}).get("BackupPlanRule") or []
        for rule_index, rule in enumerate(rules):
            for action_index, action in enumerate(rule.get("CopyActions") or []):
                destination = action.get("DestinationBackupVaultArn")
                if not references(destination) & local_vaults:
                    yield (
                        f"Properties.BackupPlan.BackupPlanRule[{rule_index}].CopyActions[{action_index}]",
                        f"copies recovery points to {destination!r}, which is not a vault of this stack",
                    )
