"""The data layer: the PostgreSQL instance, its backups and restore tests, and the Redis cache."""

from __future__ import annotations

from aws_cdk import Stack

from cashtrace_constructs.config import EnvironmentConfig
from stacks.acknowledgments.functions import python_handler
from stacks.acknowledgments.rules import NagAcknowledgment, acknowledged, managed_policy, nist, solutions, wildcard

DATABASE = "Database/Instance"
BACKUPS = "Backups"
CACHE = "Cache"


def database(config: EnvironmentConfig, stack: Stack) -> list[NagAcknowledgment]:
    entries = acknowledged(
        f"{DATABASE}/MonitoringRole/Resource",
        managed_policy("service-role/AmazonRDSEnhancedMonitoringRole"),
        reason="AWS's own minimal policy for RDS Enhanced Monitoring to write OS metrics to CloudWatch Logs.",
    )
    if not config.data.multi_az:
        entries += acknowledged(
            f"{DATABASE}/Resource",
            solutions("RDS3"),
            nist("RDSMultiAZSupport"),
            reason="Single-AZ where data.multi_az is off, to halve the cost; config validation refuses a "
            "production config without Multi-AZ.",
        )
    if not config.data.deletion_protection:
        entries += acknowledged(
            f"{DATABASE}/Resource",
            solutions("RDS10"),
            nist("RDSInstanceDeletionProtectionEnabled"),
            reason="Off where data.deletion_protection is off: an environment of synthetic data, torn down "
            "freely. Config validation refuses a production config without deletion protection.",
        )
    return entries


def database_access(config: EnvironmentConfig, stack: Stack) -> list[NagAcknowledgment]:
    return python_handler("DatabaseAccess/Bootstrap")


def cache(config: EnvironmentConfig, stack: Stack) -> list[NagAcknowledgment]:
    if config.data.multi_az:
        return []
    return acknowledged(
        f"{CACHE}/ReplicationGroup",
        solutions("AEC4"),
        reason="The cache holds only re-computable data; where data.multi_az is off a single AZ is enough. "
        "Production must run Multi-AZ with automatic failover (config validation).",
    )


def backups(config: EnvironmentConfig, stack: Stack) -> list[NagAcknowledgment]:
    return [
        *acknowledged(
            f"{BACKUPS}/Plan/Database/Role/Resource",
            managed_policy("service-role/AWSBackupServiceRolePolicyForBackup"),
            reason="AWS Backup's own service-role policy, maintained by AWS as the services it backs up "
            "change; the role can be assumed by backup.amazonaws.com only.",
        ),
        *acknowledged(
            f"{BACKUPS}/RestoreTestingRole/Resource",
            managed_policy("service-role/AWSBackupServiceRolePolicyForRestores"),
            reason="AWS Backup's own restore policy (restoring an RDS snapshot needs the RDS and KMS grant "
            "calls it lists); the role can be assumed by backup.amazonaws.com only.",
        ),
        *python_handler(
            f"{BACKUPS}/Validator",
            unscoped_actions="X-Ray tracing and backup:DescribeRestoreJob / backup:PutRestoreValidationResult "
            "support no resource-level permissions (restore jobs have no ARN).",
        ),
        *acknowledged(
            f"{BACKUPS}/Validator/Function/ServiceRole/DefaultPolicy/Resource",
            wildcard("Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:db:*"),
            reason="Read-only rds:DescribeDBInstances on this account's instances in this region: restored "
            "copies get identifiers chosen by AWS Backup at restore time.",
        ),
        *[
            entry
            for condition in ("MissingRestoreValidationAlarm", "DatabaseWeekOldAlarm")
            for entry in acknowledged(
                f"{BACKUPS}/{condition}/Resource",
                nist("CloudWatchAlarmAction"),
                reason="A condition of the composite RestoreValidationOverdueAlarm, which pages on-call (critical "
                'topic). On its own "no verified restore in 7 days" is true from a new stack\'s first hour; an '
                "action here would page before the first scheduled restore test could have run.",
            )
        ],
    ]
