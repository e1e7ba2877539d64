"""What each kind of data store says about itself in a template: placement, key, copies, backups, retention.

One function per resource type, each returning `Facts`; `inventory.py` puts them together.
Values are read from the synthesized template only; references are followed within it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cashtrace_constructs.checks.template import listed, of_type, properties, references
from tools.evidence.assembly import Stack

Properties = Mapping[str, Any]


@dataclass
class Facts:
    details: list[str] = field(default_factory=list)
    # None: a regional service that AWS spreads over the region's AZs itself.
    availability_zones: list[str] | None = None
    placement: str = ""
    # The template value naming the key (a reference or an AWS-managed description).
    key: Any = None
    key_default: str = "AWS owned key"
    replication: list[tuple[str, str | None]] = field(default_factory=list)  # (target, region or None = this one)
    backup: list[str] = field(default_factory=list)
    retention: list[str] = field(default_factory=list)
    deletion_protection: bool | None = None


def referenced(value: Any) -> str | None:
    """The one logical id `value` refers to, if it refers to exactly one."""
    found = references(value) - {"AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::URLSuffix"}
    return next(iter(found)) if len(found) == 1 else None


def subnet_zones(stack: Stack, subnet_ids: Any) -> list[str]:
    zones: set[str] = set()
    for subnet in listed(subnet_ids):
        logical_id = referenced(subnet)
        resource = stack.resources.get(logical_id or "")
        if resource and resource.get("Type") == "AWS::EC2::Subnet":
            zone = properties(resource).get("AvailabilityZone")
            zones.add(zone if isinstance(zone, str) else "an AZ chosen at deploy time")
    return sorted(zones)


def _group_zones(stack: Stack, group: Any) -> list[str]:
    resource = stack.resources.get(referenced(group) or "")
    return subnet_zones(stack, properties(resource).get("SubnetIds")) if resource else []


def _days(seconds: Any) -> str:
    return f"{int(seconds) // 86400} days" if isinstance(seconds, (int, str)) and str(seconds).isdigit() else "?"


def _rds(stack: Stack, logical_id: str, props: Properties) -> Facts:
    engine = f"{props.get('Engine', '?')} {props.get('EngineVersion', '')}".strip()
    facts = Facts(details=[engine, str(props.get("DBInstanceClass") or props.get("DBClusterIdentifier") or "")])
    zones = _group_zones(stack, props.get("DBSubnetGroupName"))
    facts.availability_zones = zones
    if props.get("MultiAZ") is True:
        facts.placement = f"primary and synchronous standby in two of {', '.join(zones)}"
    else:
        facts.placement = f"one instance in {props.get('AvailabilityZone') or 'one of ' + ', '.join(zones)}"
    facts.key = props.get("KmsKeyId") if props.get("StorageEncrypted") is True else None
    facts.key_default = "aws/rds (AWS managed)" if props.get("StorageEncrypted") is True else "NOT ENCRYPTED"
    if props.get("SourceRegion"):
        facts.replication.append((f"replica of {props.get('SourceDBInstanceIdentifier')}", str(props["SourceRegion"])))
    if props.get("AutomaticBackupReplicationRegion"):
        facts.replication.append(("automated backups", str(props["AutomaticBackupReplicationRegion"])))
    for other_id, other in of_type(stack.template, "AWS::RDS::DBInstance"):
        source = properties(other).get("SourceDBInstanceIdentifier")
        if other_id != logical_id and logical_id in references(source):
            facts.replication.append((f"read replica {stack.name_of(other_id)}", properties(other).get("SourceRegion")))
    retention = props.get("BackupRetentionPeriod", 1)
    facts.backup.append(f"automated backups and point-in-time recovery, {retention} days")
    facts.deletion_protection = props.get("DeletionProtection") is True
    return facts


def _cache(stack: Stack, logical_id: str, props: Properties) -> Facts:
    engine = f"{props.get('Engine', '?')} {props.get('EngineVersion', '')}".strip()
    nodes = int(props.get("NumNodeGroups", 1)) * (1 + int(props.get("ReplicasPerNodeGroup", 0)))
    nodes = int(props.get("NumCacheClusters", nodes))
    facts = Facts(details=[engine, str(props.get("CacheNodeType", "")), f"{nodes} node(s)"])
    zones = _group_zones(stack, props.get("CacheSubnetGroupName"))
    facts.availability_zones = zones
    multi_az = props.get("MultiAZEnabled") is True
    facts.placement = f"{nodes} node(s) {'spread over' if multi_az else 'in one of'} {', '.join(zones)}"
    facts.key = props.get("KmsKeyId") if props.get("AtRestEncryptionEnabled") is True else None
    facts.key_default = "AWS managed" if props.get("AtRestEncryptionEnabled") is True else "NOT ENCRYPTED"
    facts.details.append("TLS in transit" if props.get("TransitEncryptionEnabled") is True else "NO TLS in transit")
    if nodes > 1:
        facts.replication.append((f"{nodes - 1} in-cluster replica node(s)", None))
    if props.get("GlobalReplicationGroupId"):
        facts.replication.append((f"global datastore {props['GlobalReplicationGroupId']}", "other regions"))
    snapshots = int(props.get("SnapshotRetentionLimit", 0))
    facts.backup.append(f"daily snapshots, {snapshots} days" if snapshots else "no snapshots")
    return facts


def _bucket(stack: Stack, logical_id: str, props: Properties) -> Facts:
    facts = Facts()
    rules = (props.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration") or []
    default = (rules[0] if rules else {}).get("ServerSideEncryptionByDefault") or {}
    algorithm = default.get("SSEAlgorithm")
    facts.key = default.get("KMSMasterKeyID") if algorithm in ("aws:kms", "aws:kms:dsse") else None
    facts.key_default = {"AES256": "S3 managed (SSE-S3)", "aws:kms": "aws/s3 (AWS managed)"}.get(
        str(algorithm), "S3 default (SSE-S3)"
    )
    versioned = (props.get("VersioningConfiguration") or {}).get("Status") == "Enabled"
    facts.backup.append("versioned" if versioned else "not versioned")
    for rule in (props.get("LifecycleConfiguration") or {}).get("Rules") or []:
        if rule.get("Status") != "Enabled":
            continue
        if "ExpirationInDays" in rule:
            facts.retention.append(f"objects expire after {rule['ExpirationInDays']} days")
        noncurrent = (rule.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays")
        if noncurrent is not None:
            facts.retention.append(f"old versions expire after {noncurrent} days")
    for rule in (props.get("ReplicationConfiguration") or {}).get("Rules") or []:
        destination = (rule.get("Destination") or {}).get("Bucket")
        target = referenced(destination)
        if target is not None and target in stack.resources:
            facts.replication.append((f"bucket {stack.name_of(target)}", None))
        else:
            facts.replication.append((f"bucket {destination}", "unknown (not in this stack)"))
    return facts


def _table(stack: Stack, logical_id: str, props: Properties) -> Facts:
    facts = Facts()
    sse = props.get("SSESpecification") or {}
    facts.key = next(
        (
            (replica.get("SSESpecification") or {}).get("KMSMasterKeyId")
            for replica in props.get("Replicas") or []
            if (replica.get("Region") in (None, stack.region))
        ),
        sse.get("KMSMasterKeyId"),
    )
    facts.key_default = "AWS owned key" if not sse.get("SSEEnabled") else "aws/dynamodb (AWS managed)"
    replicas = props.get("Replicas") or [props]
    for replica in replicas:
        region = replica.get("Region")
        if region not in (None, stack.region) and not references(region):
            facts.replication.append(("global-table replica", str(region)))
    pitr = any(
        (replica.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled") is True
        for replica in replicas
    )
    facts.backup.append("point-in-time recovery, 35 days" if pitr else "no point-in-time recovery")
    facts.deletion_protection = any(replica.get("DeletionProtectionEnabled") is True for replica in replicas)
    return facts


def _file_system(stack: Stack, logical_id: str, props: Properties) -> Facts:
    facts = Facts(key=props.get("KmsKeyId") if props.get("Encrypted") is True else None)
    facts.key_default = "aws/elasticfilesystem (AWS managed)" if props.get("Encrypted") is True else "NOT ENCRYPTED"
    zone = props.get("AvailabilityZoneName")
    mounts = [
        properties(target).get("SubnetId")
        for _, target in of_type(stack.template, "AWS::EFS::MountTarget")
        if logical_id in references(properties(target).get("FileSystemId"))
    ]
    facts.availability_zones = [zone] if zone else None
    facts.placement = (
        f"one zone ({zone})" if zone else f"regional; mounted in {', '.join(subnet_zones(stack, mounts)) or 'no AZ'}"
    )
    status = (props.get("BackupPolicy") or {}).get("Status")
    facts.backup.append("AWS Backup default plan (daily, 35 days)" if status == "ENABLED" else "no automatic backup")
    if props.get("ReplicationConfiguration"):
        for destination in props["ReplicationConfiguration"].get("Destinations") or []:
            facts.replication.append(("EFS replica", str(destination.get("Region", stack.region))))
    return facts


def _secret(stack: Stack, logical_id: str, props: Properties) -> Facts:
    facts = Facts(key=props.get("KmsKeyId"), key_default="aws/secretsmanager (AWS managed)")
    for replica in props.get("ReplicaRegions") or []:
        facts.replication.append(("secret replica", str(replica.get("Region"))))
    # A database secret rotates through its attachment to the database, which names the secret.
    aliases = {logical_id} | {
        attachment_id
        for attachment_id, attachment in of_type(stack.template, "AWS::SecretsManager::SecretTargetAttachment")
        if logical_id in references(properties(attachment).get("SecretId"))
    }
    for _, schedule in of_type(stack.template, "AWS::SecretsManager::RotationSchedule"):
        schedule_props = properties(schedule)
        if aliases & references(schedule_props.get("SecretId")):
            rules = schedule_props.get("RotationRules") or {}
            every = rules.get("ScheduleExpression") or f"rate({rules.get('AutomaticallyAfterDays')} days)"
            facts.retention.append(f"rotated {every}")
    if not facts.retention:
        facts.retention.append("not rotated")
    return facts


def _vault(stack: Stack, logical_id: str, props: Properties) -> Facts:
    facts = Facts(key=props.get("EncryptionKeyArn"), key_default="aws/backup (AWS managed)")
    lock = props.get("LockConfiguration")
    if lock:
        facts.retention.append(
            f"vault lock: recovery points kept {lock.get('MinRetentionDays')}-{lock.get('MaxRetentionDays')} days"
        )
    return facts


def _log_group(stack: Stack, logical_id: str, props: Properties) -> Facts:
    days = props.get("RetentionInDays")
    return Facts(
        key=props.get("KmsKeyId"),
        key_default="CloudWatch Logs managed",
        retention=[f"{days} days" if days else "never expires"],
    )


def _repository(stack: Stack, logical_id: str, props: Properties) -> Facts:
    encryption = props.get("EncryptionConfiguration") or {}
    lifecycle = (props.get("LifecyclePolicy") or {}).get("LifecyclePolicyText")
    return Facts(
        key=encryption.get("KmsKey") if encryption.get("EncryptionType") == "KMS" else None,
        key_default="aws/ecr (AWS managed)" if encryption.get("EncryptionType") == "KMS" else "ECR managed (AES-256)",
        retention=["lifecycle policy" if lifecycle else "images kept until deleted"],
    )


def _workspace(stack: Stack, logical_id: str, props: Properties) -> Facts:
    days = props.get("RetentionPeriodInDays")
    return Facts(
        key=props.get("KmsKeyArn"),
        key_default="AWS owned key",
        retention=[f"{days} days" if days else "150 days (Amazon Managed Prometheus default)"],
    )


def _queue(stack: Stack, logical_id: str, props: Properties) -> Facts:
    managed = "SQS managed (SSE-SQS)" if props.get("SqsManagedSseEnabled", True) is not False else "NOT ENCRYPTED"
    return Facts(
        key=props.get("KmsMasterKeyId"),
        key_default=managed,
        retention=[f"messages kept {_days(props.get('MessageRetentionPeriod', 345600))}"],
    )


def _topic(stack: Stack, logical_id: str, props: Properties) -> Facts:
    return Facts(key=props.get("KmsMasterKeyId"), key_default="NOT ENCRYPTED", retention=["not stored (delivered)"])


def _trail(stack: Stack, logical_id: str, props: Properties) -> Facts:
    facts = Facts(key=props.get("KMSKeyId"), key_default="S3 managed (SSE-S3)")
    bucket = referenced(props.get("S3BucketName"))
    facts.details.append(f"delivers to {stack.name_of(bucket) if bucket else props.get('S3BucketName')}")
    if props.get("IsMultiRegionTrail") is True:
        facts.details.append("multi-region trail (records API calls of every region)")
    return facts


FACTS: Mapping[str, Callable[[Stack, str, Properties], Facts]] = {
    "AWS::RDS::DBInstance": _rds,
    "AWS::RDS::DBCluster": _rds,
    "AWS::ElastiCache::ReplicationGroup": _cache,
    "AWS::S3::Bucket": _bucket,
    "AWS::DynamoDB::Table": _table,
    "AWS::DynamoDB::GlobalTable": _table,
    "AWS::EFS::FileSystem": _file_system,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::Backup::BackupVault": _vault,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::ECR::Repository": _repository,
    "AWS::APS::Workspace": _workspace,
    "AWS::SQS::Queue": _queue,
    "AWS::SNS::Topic": _topic,
    "AWS::CloudTrail::Trail": _trail,
}


def facts_of(stack: Stack, logical_id: str, resource: Mapping[str, Any]) -> Facts:
    """The facts of one store; a type without a reader gets the empty facts (and says so)."""
    reader = FACTS.get(str(resource.get("Type")))
    if reader is None:
        return Facts(details=["no reader for this type yet: see the template"])
    return reader(stack, logical_id, properties(resource))
