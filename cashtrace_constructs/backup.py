"""`DatabaseBackups`: AWS Backup plan and vault for the database, and its verified weekly restore (Property 8)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from aws_cdk import Aws, Duration, Fn, RemovalPolicy
from aws_cdk import aws_backup as backup
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from cashtrace_constructs.config import DataConfig
from cashtrace_constructs.config.data import RESTORE_TEST_START_WINDOW_HOURS, RESTORE_VALIDATION_WINDOW_HOURS
from cashtrace_constructs.database import PostgresDatabase
from cashtrace_constructs.encryption import EnvironmentKey, EnvironmentKeyProps
from cashtrace_constructs.function import PythonHandler, PythonHandlerProps
from cashtrace_constructs.naming import per_stack_name
from cashtrace_constructs.postgres_driver import postgres_driver_layer
from cashtrace_constructs.secrets import EnvironmentSecrets

# Published by the validation Lambda (lambdas/restore_validation) as CloudWatch embedded metrics.
RESTORE_METRICS_NAMESPACE = "CashTrace/Backup"
RESTORE_VALIDATION_SERVICE = "restore_validation"
# A restore-tested instance lives this long after the job completes; the Lambda needs minutes.
VALIDATION_WINDOW_HOURS = RESTORE_VALIDATION_WINDOW_HOURS
# A compliance-mode lock becomes immutable after this grace period; until then it can be undone.
VAULT_LOCK_GRACE = Duration.days(3)
# The validation result counts per day; CloudWatch evaluates at most 7 daily periods.
RESTORE_ALARM_DAYS = 7


@dataclass(frozen=True, kw_only=True)
class DatabaseBackupsProps:
    environment_name: str
    database: PostgresDatabase
    vpc: ec2.IVpc
    encryption_key: kms.IKey
    config: DataConfig
    # The validator logs in to each restored copy as the API (read only) to check its schema.
    secrets: EnvironmentSecrets
    login_secret_name: str


@dataclass(frozen=True)
class BackupAlarms:
    """Alarms a human must hear about; monitoring (issue 8) attaches the paging actions."""

    # Composite: no verified restore for 7 days, once the database has existed 7 days (docs/data.md).
    missing_restore_validation: cloudwatch.CompositeAlarm
    failed_restore_validation: cloudwatch.Alarm
    failed_restore_jobs: cloudwatch.Alarm
    failed_backup_jobs: cloudwatch.Alarm

    @property
    def all(self) -> tuple[cloudwatch.AlarmBase, ...]:
        return (
            self.missing_restore_validation,
            self.failed_restore_validation,
            self.failed_restore_jobs,
            self.failed_backup_jobs,
        )


class DatabaseBackups(Construct):
    """Daily and weekly recovery points in an in-region, separately keyed vault, restored and checked weekly.

    There are no copy actions: a copy to another region would take user data out of Africa
    (Property 7), and the region lock refuses one.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: DatabaseBackupsProps) -> None:
        super().__init__(scope, construct_id)
        config = props.config
        name = props.environment_name
        self.vault_key = EnvironmentKey(
            self, "VaultKey", props=EnvironmentKeyProps(environment_name=name, purpose="backup")
        ).key
        self.vault = backup.BackupVault(
            self,
            "Vault",
            # CloudFormation requires a vault name; per stack, so a vault retained by a failed first
            # deploy never blocks the retry.
            backup_vault_name=per_stack_name(f"cashtrace-{name}-database"),
            encryption_key=self.vault_key,
            removal_policy=RemovalPolicy.RETAIN,
            lock_configuration=(
                backup.LockConfiguration(
                    min_retention=Duration.days(config.backup_retention_days),
                    max_retention=Duration.days(3650),
                    changeable_for=VAULT_LOCK_GRACE,
                )
                if config.vault_lock
                else None
            ),
        )
        self.plan = backup.BackupPlan(
            self,
            "Plan",
            backup_plan_name=f"cashtrace-{name}-database",
            backup_vault=self.vault,
            backup_plan_rules=[
                backup.BackupPlanRule(
                    rule_name="Daily",
                    schedule_expression=events.Schedule.cron(minute="0", hour="2"),
                    start_window=Duration.hours(1),
                    completion_window=Duration.hours(4),
                    delete_after=Duration.days(config.backup_retention_days),
                ),
                backup.BackupPlanRule(
                    rule_name="Weekly",
                    schedule_expression=events.Schedule.cron(minute="0", hour="3", week_day="SAT"),
                    start_window=Duration.hours(1),
                    completion_window=Duration.hours(4),
                    delete_after=Duration.days(config.weekly_backup_retention_days),
                ),
            ],
        )
        self.selection = self.plan.add_selection(
            "Database",
            resources=[backup.BackupResource.from_rds_database_instance(props.database.instance)],
            allow_restores=False,
        )
        self._restore_testing(props)
        self._validation(props)

    def _restore_testing(self, props: DatabaseBackupsProps) -> None:
        database = props.database
        self.restore_role = iam.Role(
            self,
            "RestoreTestingRole",
            assumed_by=iam.ServicePrincipal("backup.amazonaws.com"),
            description="AWS Backup restores the latest database recovery point here for the restore test",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSBackupServiceRolePolicyForRestores")
            ],
        )
        # The restored copy gets its own group: only the validation Lambda may reach it.
        self.restore_security_group = ec2.SecurityGroup(
            self,
            "RestoredDatabaseSecurityGroup",
            vpc=props.vpc,
            description="Restore-tested database copies: reachable by the validation Lambda only",
            allow_all_outbound=False,
        )
        self.restore_testing_plan = backup.CfnRestoreTestingPlan(
            self,
            "RestoreTestingPlan",
            restore_testing_plan_name=f"cashtrace_{props.environment_name}_database",
            schedule_expression=props.config.restore_test_schedule,
            schedule_expression_timezone="Etc/UTC",
            start_window_hours=RESTORE_TEST_START_WINDOW_HOURS,
            recovery_point_selection=backup.CfnRestoreTestingPlan.RestoreTestingRecoveryPointSelectionProperty(
                algorithm="LATEST_WITHIN_WINDOW",
                include_vaults=[self.vault.backup_vault_arn],
                recovery_point_types=["SNAPSHOT"],
                selection_window_days=7,
            ),
        )
        self.restore_testing_selection = backup.CfnRestoreTestingSelection(
            self,
            "RestoreTestingSelection",
            restore_testing_plan_name=self.restore_testing_plan.restore_testing_plan_name,
            restore_testing_selection_name="database",
            protected_resource_type="RDS",
            protected_resource_arns=[database.instance.instance_arn],
            iam_role_arn=self.restore_role.role_arn,
            validation_window_hours=VALIDATION_WINDOW_HOURS,
            # Without these AWS Backup restores into the default VPC, which CashTrace accounts lack.
            restore_metadata_overrides={
                "dbsubnetgroupname": database.subnet_group.subnet_group_name,
                "vpcsecuritygroupids": Fn.join("", ['["', self.restore_security_group.security_group_id, '"]']),
                "dbparametergroupname": database.parameter_group_name,
            },
        )
        self.restore_testing_selection.node.add_dependency(self.restore_testing_plan)

    def _validation(self, props: DatabaseBackupsProps) -> None:
        database = props.database
        self.validator_security_group = ec2.SecurityGroup(
            self,
            "ValidatorSecurityGroup",
            vpc=props.vpc,
            description="Restore validation Lambda: AWS APIs over HTTPS and the restored database port",
            allow_all_outbound=False,
        )
        self.validator_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "AWS APIs (Backup, RDS, Secrets Manager) through the NAT gateway"
        )
        self.validator_security_group.connections.allow_to(
            self.restore_security_group, ec2.Port.tcp(database.port), "Reach the restored database copy"
        )
        self.validator = PythonHandler(
            self,
            "Validator",
            props=PythonHandlerProps(
                source="restore_validation",
                description="Checks each restore-tested database copy and reports to AWS Backup (Property 8)",
                vpc=props.vpc,
                encryption_key=props.encryption_key,
                security_groups=[self.validator_security_group],
                layers=[postgres_driver_layer(self)],
                timeout_seconds=360,
                reserved_concurrency=2,
                environment={
                    "EXPECTED_PARAMETER_GROUP": database.parameter_group_name,
                    "LOGIN_SECRET_ARN": props.secrets.secret(props.login_secret_name).secret_arn,
                    "EXPECTED_TABLES": json.dumps(list(props.config.restore_check_tables)),
                    "AVAILABLE_DEADLINE_SECONDS": "240",
                    "POWERTOOLS_METRICS_NAMESPACE": RESTORE_METRICS_NAMESPACE,
                    "POWERTOOLS_SERVICE_NAME": RESTORE_VALIDATION_SERVICE,
                },
            ),
        )
        function = self.validator.function
        props.secrets.grant_read(function, props.login_secret_name)
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["backup:DescribeRestoreJob", "backup:PutRestoreValidationResult"],
                # Restore jobs have no ARN to scope to; the calls name a job id.
                resources=["*"],
            )
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["rds:DescribeDBInstances"],
                # Restored copies get names chosen by AWS Backup, so no narrower pattern is stable.
                resources=[f"arn:{Aws.PARTITION}:rds:{Aws.REGION}:{Aws.ACCOUNT_ID}:db:*"],
            )
        )
        self.restore_job_rule = events.Rule(
            self,
            "RestoreJobFinished",
            description="A restore job finished: validate the copy if it is a restore test",
            event_pattern=events.EventPattern(
                source=["aws.backup"],
                detail_type=["Restore Job State Change"],
                detail={"status": ["COMPLETED", "FAILED", "ABORTED"]},
            ),
            targets=[targets.LambdaFunction(function, retry_attempts=2, max_event_age=Duration.hours(1))],
        )
        self.alarms = self._alarms(props.database)

    def _alarms(self, database: PostgresDatabase) -> BackupAlarms:
        def validation_metric(name: str, period: Duration) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=RESTORE_METRICS_NAMESPACE,
                metric_name=name,
                dimensions_map={"service": RESTORE_VALIDATION_SERVICE},
                statistic="Sum",
                period=period,
            )

        def backup_metric(name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/Backup",
                metric_name=name,
                dimensions_map={"BackupVaultName": self.vault.backup_vault_name},
                statistic="Sum",
                period=Duration.hours(1),
            )

        def on_any(metric: cloudwatch.Metric, construct_id: str, description: str) -> cloudwatch.Alarm:
            # One failure in the period is one too many; no data means nothing failed.
            return metric.create_alarm(
                self,
                construct_id,
                alarm_description=description,
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )

        return BackupAlarms(
            missing_restore_validation=self._missing_restore_validation(validation_metric, database),
            failed_restore_validation=on_any(
                validation_metric("RestoreValidationFailed", Duration.hours(1)),
                "FailedRestoreValidationAlarm",
                "A restore-tested database copy failed validation (Property 8)",
            ),
            failed_restore_jobs=on_any(
                backup_metric("NumberOfRestoreJobsFailed"),
                "FailedRestoreJobsAlarm",
                "An AWS Backup restore job of the database vault failed",
            ),
            failed_backup_jobs=on_any(
                backup_metric("NumberOfBackupJobsFailed"),
                "FailedBackupJobsAlarm",
                "An AWS Backup job of the database failed: a recovery point is missing",
            ),
        )

    def _missing_restore_validation(
        self, validation_metric: Callable[[str, Duration], cloudwatch.Metric], database: PostgresDatabase
    ) -> cloudwatch.CompositeAlarm:
        """Pages when no restore was verified for 7 days, but not before the first tests could have run.

        On its own, "no verified restore in 7 days" is true from a new stack's first hour. It pages
        only together with "the database has reported metrics on each of the last 7 days", which a
        new stack reaches 6 to 7 days after its deploy; `DataConfig` refuses a restore schedule whose
        first verified restore could come later. A test that never runs still pages, a week in.
        """
        # Missing data is a missing verification: it breaches.
        never_verified = validation_metric("RestoreValidationSucceeded", Duration.days(1)).create_alarm(
            self,
            "MissingRestoreValidationAlarm",
            alarm_description=f"No database restore was verified in the last {RESTORE_ALARM_DAYS} days "
            "(Property 8); pages through RestoreValidationOverdueAlarm once the database is a week old",
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=RESTORE_ALARM_DAYS,
            datapoints_to_alarm=RESTORE_ALARM_DAYS,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        # Days before the database existed have no datapoint: not breaching.
        week_old = database.instance.metric_cpu_utilization(
            period=Duration.days(1), statistic="SampleCount"
        ).create_alarm(
            self,
            "DatabaseWeekOldAlarm",
            alarm_description=f"The database reported metrics on each of the last {RESTORE_ALARM_DAYS} days, so its "
            "first scheduled restore tests could have run (a condition of RestoreValidationOverdueAlarm)",
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=RESTORE_ALARM_DAYS,
            datapoints_to_alarm=RESTORE_ALARM_DAYS,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        return cloudwatch.CompositeAlarm(
            self,
            "RestoreValidationOverdueAlarm",
            alarm_description=f"No database restore was verified in the last {RESTORE_ALARM_DAYS} days of a database "
            "at least that old (Property 8): the restore tests do not run or do not pass",
            alarm_rule=cloudwatch.AlarmRule.all_of(
                cloudwatch.AlarmRule.from_alarm(never_verified, cloudwatch.AlarmState.ALARM),
                cloudwatch.AlarmRule.from_alarm(week_old, cloudwatch.AlarmState.ALARM),
            ),
        )
