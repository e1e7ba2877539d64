"""The database is private and encrypted everywhere; in protected environments it also survives a
stack deletion and keeps a week of backups.

Read from the template, so an escape hatch that flips `PubliclyAccessible`, `StorageEncrypted`,
`DeletionProtection` or `BackupRetentionPeriod` is refused even though cdk-nag cannot see it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cashtrace_constructs.checks.rule import Finding, StackRule, SynthesizedStack
from cashtrace_constructs.checks.secret_reach import stack_environment
from cashtrace_constructs.checks.template import of_type, properties

DATABASE_TYPES = ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster")
MIN_PROTECTED_RETENTION_DAYS = 7


class DatabaseProtection(StackRule):
    rule_id = "CT-DatabaseProtection"
    property_name = "Database protection"
    description = (
        "No database is publicly accessible or unencrypted; in staging and prod each has deletion "
        f"protection and keeps at least {MIN_PROTECTED_RETENTION_DAYS} days of automated backups."
    )
    fix = "Build the database with PostgresDatabase and keep data.deletion_protection on in staging and prod."

    def __init__(self, protected_environments: Sequence[str] = ("staging", "prod")) -> None:
        self.protected_environments = tuple(protected_environments)

    def check_stack(self, stack: SynthesizedStack) -> Iterable[Finding]:
        protected = stack_environment(stack) in self.protected_environments
        for logical_id, database in of_type(stack.template, *DATABASE_TYPES):
            props = properties(database)
            kind = database["Type"]
            if props.get("PubliclyAccessible") is True:
                yield self.finding(
                    stack,
                    f"{kind} {logical_id} is publicly accessible",
                    logical_id=logical_id,
                    location="Properties.PubliclyAccessible",
                )
            # Cluster members and replicas inherit encryption from their cluster or source.
            inherits = props.get("DBClusterIdentifier") or props.get("SourceDBInstanceIdentifier")
            if not inherits and props.get("StorageEncrypted") is not True:
                yield self.finding(
                    stack,
                    f"{kind} {logical_id} does not encrypt its storage",
                    logical_id=logical_id,
                    location="Properties.StorageEncrypted",
                )
            if not protected or inherits:
                continue
            if props.get("DeletionProtection") is not True:
                yield self.finding(
                    stack,
                    f"{kind} {logical_id} of a protected environment has no deletion protection",
                    logical_id=logical_id,
                    location="Properties.DeletionProtection",
                )
            retention = props.get("BackupRetentionPeriod", 1)
            # RDS keeps one day when the property is absent; a non-literal value cannot be judged.
            days = int(retention) if isinstance(retention, int | str) and str(retention).isdigit() else -1
            if days < MIN_PROTECTED_RETENTION_DAYS:
                yield self.finding(
                    stack,
                    f"{kind} {logical_id} of a protected environment keeps backups {retention!r} day(s); at "
                    f"least {MIN_PROTECTED_RETENTION_DAYS} are required",
                    logical_id=logical_id,
                    location="Properties.BackupRetentionPeriod",
                )
