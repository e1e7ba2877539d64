"""The data layer as synthesized into every environment stack (session templates; no extra synth)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cashtrace_constructs.checks.backup_verification import schedule_interval_days
from cashtrace_constructs.checks.template import of_type, references
from stacks.environments import all_environments
from tests.conftest import ENVIRONMENT_STACKS

CONFIGS = {config.stack_name: config for config in all_environments()}


def only(template: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    found = list(of_type(template, resource_type))
    assert len(found) == 1, f"expected one {resource_type}, found {len(found)}"
    logical_id, resource = found[0]
    return logical_id, resource["Properties"]


def text(value: Any) -> str:
    """A name as CloudFormation will build it, every other token rendered as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(text(part) for part in parts)
    return json.dumps(value, sort_keys=True)


def key_of(template: dict[str, Any], alias: str) -> str:
    for _, resource in of_type(template, "AWS::KMS::Alias"):
        if resource["Properties"]["AliasName"] == alias:
            (key_id,) = references(resource["Properties"]["TargetKeyId"])
            return key_id
    raise AssertionError(f"no key aliased {alias}")


def isolated_subnet_ids(template: dict[str, Any]) -> set[str]:
    return {
        logical_id
        for logical_id, resource in of_type(template, "AWS::EC2::Subnet")
        if any(t["Key"] == "aws-cdk:subnet-name" and t["Value"] == "data" for t in resource["Properties"]["Tags"])
    }


@pytest.mark.parametrize("stack_name", ENVIRONMENT_STACKS)
def test_postgres_is_encrypted_with_the_environment_key_in_isolated_subnets(
    stack_name: str, templates: dict[str, dict[str, Any]]
) -> None:
    template, config = templates[stack_name], CONFIGS[stack_name]
    db_id, db = only(template, "AWS::RDS::DBInstance")
    environment_key = key_of(template, f"alias/cashtrace/{config.name}/data")
    assert db["Engine"] == "postgres" and db["EngineVersion"].split(".")[0] == "18"
    assert db["StorageEncrypted"] is True and db["KmsKeyId"] == {"Fn::GetAtt": [environment_key, "Arn"]}
    assert db["PerformanceInsightsKMSKeyId"] == {"Fn::GetAtt": [environment_key, "Arn"]}
    assert db["PubliclyAccessible"] is False and db["EnableIAMDatabaseAuthentication"] is True
    assert set(db["EnableCloudwatchLogsExports"]) == {"postgresql", "upgrade"}
    subnet_group = template["Resources"][db["DBSubnetGroupName"]["Ref"]]["Properties"]
    assert {s["Ref"] for s in subnet_group["SubnetIds"]} == isolated_subnet_ids(template)
    # Sizes and safety come from config, not from the environment's name.
    assert db["BackupRetentionPeriod"] == config.data.backup_retention_days >= 7
    assert db["MultiAZ"] is config.data.multi_az
    assert db["DeletionProtection"] is config.data.deletion_protection
    assert db["DBInstanceClass"] == f"db.{config.data.database_instance_class}"
    expected_policy = "Snapshot" if config.data.snapshot_on_delete else "Delete"
    assert template["Resources"][db_id]["DeletionPolicy"] == expected_policy


def test_prod_database_is_multi_az_protected_and_keeps_35_days(templates: dict[str, dict[str, Any]]) -> None:
    _, db = only(templates["CashTrace-Prod"], "AWS::RDS::DBInstance")
    assert db["MultiAZ"] is True and db["DeletionProtection"] is True and db["BackupRetentionPeriod"] == 35
    _, dev = only(templates["CashTrace-Dev"], "AWS::RDS::DBInstance")
    assert dev["MultiAZ"] is False


@pytest.mark.parametrize("stack_name", ENVIRONMENT_STACKS)
def test_parameter_group_forces_tls(stack_name: str, templates: dict[str, dict[str, Any]]) -> None:
    template = templates[stack_name]
    _, db = only(template, "AWS::RDS::DBInstance")
    group = template["Resources"][db["DBParameterGroupName"]["Ref"]]["Properties"]
    assert group["Family"] == "postgres18"
    assert group["Parameters"]["rds.force_ssl"] == "1"
    assert group["Parameters"]["ssl_min_protocol_version"] == "TLSv1.2"


@pytest.mark.parametrize("stack_name", ENVIRONMENT_STACKS)
def test_database_log_groups_exist_first_encrypted(stack_name: str, templates: dict[str, dict[str, Any]]) -> None:
    template = templates[stack_name]
    db_id, db = only(template, "AWS::RDS::DBInstance")
    groups = {
        text(r["Properties"]["LogGroupName"]): logical_id
        for logical_id, r in of_type(template, "AWS::Logs::LogGroup")
        if "LogGroupName" in r["Properties"]
    }
    # RDS names the groups after the instance identifier, which ends in the stack id's first block.
    assert "AWS::StackId" in text(db["DBInstanceIdentifier"])
    for export in db["EnableCloudwatchLogsExports"]:
        name = f"/aws/rds/instance/{text(db['DBInstanceIdentifier'])}/{export}"
        assert name in groups
        assert "KmsKeyId" in template["Resources"][groups[name]]["Properties"]
        assert groups[name] in template["Resources"][db_id]["DependsOn"]


@pytest.mark.parametrize("stack_name", ENVIRONMENT_STACKS)
def test_database_secret_is_generated_named_and_encrypted(
    stack_name: str, templates: dict[str, dict[str, Any]]
) -> None:
    template, config = templates[stack_name], CONFIGS[stack_name]
    secrets = {r["Properties"]["Name"]: r["Properties"] for _, r in of_type(template, "AWS::SecretsManager::Secret")}
    secret = secrets[f"cashtrace/{config.name}/database"]
    assert "GenerateSecretString" in secret
    assert secret["KmsKeyId"] == {"Fn::GetAtt": [key_of(template, f"alias/cashtrace/{config.name}/data"), "Arn"]}


@pytest.mark.parametrize("stack_name", ENVIRONMENT_STACKS)
def test_backup_plan_runs_daily_and_weekly_into_a_separately_keyed_vault_without_copies(
    stack_name: str, templates: dict[str, dict[str, Any]]
) -> None:
    template, config = templates[stack_name], CONFIGS[stack_name]
    vault_id, vault = only(template, "AWS::Backup::BackupVault")
    assert vault["EncryptionKeyArn"] == {
        "Fn::GetAtt": [key_of(template, f"alias/cashtrace/{config.name}/backup"), "Arn"]
    }
    assert ("LockConfiguration" in vault) is config.data.vault_lock
    _, plan = only(template, "AWS::Backup::BackupPlan")
    rules = {rule["RuleName"]: rule for rule in plan["BackupPlan"]["BackupPlanRule"]}
    assert set(rules) == {"Daily", "Weekly"}
    assert rules["Daily"]["Lifecycle"]["DeleteAfterDays"] == config.data.backup_retention_days
    assert schedule_interval_days(rules["Daily"]["ScheduleExpression"]) == 1.0
    assert schedule_interval_days(rules["Weekly"]["ScheduleExpression"]) == 7.0
    for rule in rules.values():
        assert references(rule["TargetBackupVault"]) == {vault_id}
        assert "CopyActions" not in rule


def test_only_prod_locks_its_vault(templates: dict[str, dict[str, Any]]) -> None:
    locked = {
        name: "LockConfiguration" in only(templates[name], "AWS::Backup::BackupVault")[1] for name in ENVIRONMENT_STACKS
    }
    assert locked == {"CashTrace-Dev": False, "CashTrace-Staging": False, "CashTrace-Prod": True}


@pytest.mark.parametrize("stack_name", ENVIRONMENT_STACKS)
def test_restore_test_selects_the_database_at_least_weekly_in_its_own_network_place(
    stack_name: str, templates: dict[str, dict[str, Any]]
) -> None:
    template = templates[stack_name]
    db_id, db = only(template, "AWS::RDS::DBInstance")
    _, plan = only(template, "AWS::Backup::RestoreTestingPlan")
    _, selection = only(template, "AWS::Backup::RestoreTestingSelection")
    interval = schedule_interval_days(plan["ScheduleExpression"])
    assert interval is not None and interval <= 7
    assert selection["RestoreTestingPlanName"] == plan["RestoreTestingPlanName"]
    assert references(selection["ProtectedResourceArns"]) == {db_id}
    overrides = selection["RestoreMetadataOverrides"]
    assert overrides["dbsubnetgroupname"] == db["DBSubnetGroupName"]
    assert (
        overrides["dbparametergroupname"]
        == template["Resources"][db["DBParameterGroupName"]["Ref"]]["Properties"]["DBParameterGroupName"]
    )
    assert selection["ValidationWindowHours"] >= 1


@pytest.mark.parametrize("stack_name", ENVIRONMENT_STACKS)
def test_validation_lambda_runs_on_finished_restore_jobs(stack_name: str, templates: dict[str, dict[str, Any]]) -> None:
    template = templates[stack_name]
    rules = [
        r["Properties"]
        for _, r in of_type(template, "AWS::Events::Rule")
        if r["Properties"].get("EventPattern", {}).get("detail-type") == ["Restore Job State Change"]
    ]
    assert len(rules) == 1
    assert "COMPLETED" in rules[0]["EventPattern"]["detail"]["status"]
    function_id = rules[0]["Targets"][0]["Arn"]["Fn::GetAtt"][0]
    function = template["Resources"][function_id]["Properties"]
    assert function["Handler"] == "handler.handler"
    assert text(function["Environment"]["Variables"]["EXPECTED_PARAMETER_GROUP"]).startswith("cashtrace-")
    policies = json.dumps([r["Properties"] for _, r in of_type(template, "AWS::IAM::Policy")])
    assert "backup:PutRestoreValidationResult" in policies and "rds:DescribeDBInstances" in policies


@pytest.mark.parametrize("stack_name", ENVIRONMENT_STACKS)
def test_missing_weekly_restore_alarms_when_no_data_arrives(
    stack_name: str, templates: dict[str, dict[str, Any]]
) -> None:
    template = templates[stack_name]
    alarms = {
        r["Properties"]["MetricName"]: (logical_id, r["Properties"])
        for logical_id, r in of_type(template, "AWS::CloudWatch::Alarm")
        if "MetricName" in r["Properties"]
    }
    missing_id, missing = alarms["RestoreValidationSucceeded"]
    assert missing["TreatMissingData"] == "breaching"
    assert missing["ComparisonOperator"] == "LessThanThreshold" and missing["Threshold"] == 1
    # The whole window CloudWatch allows (7 days) must pass without a verified restore.
    assert missing["Period"] * missing["EvaluationPeriods"] == 7 * 86400
    assert missing["DatapointsToAlarm"] == missing["EvaluationPeriods"]
    for metric in ("RestoreValidationFailed", "NumberOfRestoreJobsFailed", "NumberOfBackupJobsFailed"):
        assert alarms[metric][1]["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"

    # It pages only through the composite, together with "the database is a week old".
    assert "AlarmActions" not in missing
    [(age_id, age)] = [
        (logical_id, r["Properties"])
        for logical_id, r in of_type(template, "AWS::CloudWatch::Alarm")
        if r["Properties"].get("Namespace") == "AWS/RDS" and r["Properties"].get("Statistic") == "SampleCount"
    ]
    assert age["MetricName"] == "CPUUtilization"
    assert age["Period"] * age["EvaluationPeriods"] == 7 * 86400 and age["DatapointsToAlarm"] == 7
    # No datapoint before the database exists: a new stack's first days never count as "a week old".
    assert age["TreatMissingData"] == "notBreaching" and "AlarmActions" not in age
    [(_, composite)] = list(of_type(template, "AWS::CloudWatch::CompositeAlarm"))
    rule = json.dumps(composite["Properties"]["AlarmRule"])
    assert f'"{missing_id}"' in rule and f'"{age_id}"' in rule and " AND " in rule
    assert composite["Properties"]["AlarmActions"] == composite["Properties"]["OKActions"]
    assert {"Key": "cashtrace:severity", "Value": "critical"} in composite["Properties"]["Tags"]


@pytest.mark.parametrize("stack_name", ENVIRONMENT_STACKS)
def test_redis_is_encrypted_authenticated_and_in_isolated_subnets(
    stack_name: str, templates: dict[str, dict[str, Any]]
) -> None:
    template, config = templates[stack_name], CONFIGS[stack_name]
    _, cache = only(template, "AWS::ElastiCache::ReplicationGroup")
    assert cache["Engine"] == "redis"
    assert cache["AtRestEncryptionEnabled"] is True and cache["TransitEncryptionEnabled"] is True
    assert cache["TransitEncryptionMode"] == "required"
    assert "{{resolve:secretsmanager:" in json.dumps(cache["AuthToken"])
    assert cache["AutomaticFailoverEnabled"] is config.data.multi_az and cache["MultiAZEnabled"] is config.data.multi_az
    assert cache["ReplicasPerNodeGroup"] == config.data.cache_replicas
    assert cache["SnapshotRetentionLimit"] == config.data.cache_snapshot_retention_days
    subnet_group = template["Resources"][cache["CacheSubnetGroupName"]["Ref"]]["Properties"]
    assert {s["Ref"] for s in subnet_group["SubnetIds"]} == isolated_subnet_ids(template)


@pytest.mark.parametrize("stack_name", ENVIRONMENT_STACKS)
def test_application_bucket_is_private_kms_versioned_logged_and_tiered(
    stack_name: str, templates: dict[str, dict[str, Any]]
) -> None:
    template, config = templates[stack_name], CONFIGS[stack_name]
    environment_key = key_of(template, f"alias/cashtrace/{config.name}/data")
    buckets = {
        logical_id: r["Properties"]
        for logical_id, r in of_type(template, "AWS::S3::Bucket")
        if "aws:kms" in json.dumps(r["Properties"].get("BucketEncryption"))
        and "Transitions" in json.dumps(r["Properties"].get("LifecycleConfiguration"))
    }
    assert len(buckets) == 1
    bucket_id, bucket = next(iter(buckets.items()))
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {"Fn::GetAtt": [environment_key, "Arn"]}
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert "DestinationBucketName" in bucket["LoggingConfiguration"]
    assert any(
        t["StorageClass"] == "INTELLIGENT_TIERING"
        for r in bucket["LifecycleConfiguration"]["Rules"]
        for t in r.get("Transitions", [])
    )
    policies = [
        r["Properties"]["PolicyDocument"]["Statement"]
        for _, r in of_type(template, "AWS::S3::BucketPolicy")
        if r["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    assert any(
        s["Effect"] == "Deny" and s["Condition"].get("Bool", {}).get("aws:SecureTransport") == "false"
        for s in policies[0]
    )


@pytest.mark.parametrize("stack_name", ENVIRONMENT_STACKS)
def test_cdn_serves_only_the_static_assets_bucket_with_oac_https_and_security_headers(
    stack_name: str, templates: dict[str, dict[str, Any]]
) -> None:
    template = templates[stack_name]
    _, distribution = only(template, "AWS::CloudFront::Distribution")
    config = distribution["DistributionConfig"]
    assert len(config["Origins"]) == 1, "the CDN must have no API or user-data origin"
    origin = config["Origins"][0]
    origin_bucket = origin["DomainName"]["Fn::GetAtt"][0]
    assert "OriginAccessControlId" in origin
    application_buckets = {
        logical_id for logical_id, r in of_type(template, "AWS::S3::Bucket") if "aws:kms" in json.dumps(r["Properties"])
    }
    assert origin_bucket not in application_buckets
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert "CacheBehaviors" not in config
    _, headers = only(template, "AWS::CloudFront::ResponseHeadersPolicy")
    security = headers["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": only(template, "AWS::CloudFront::ResponseHeadersPolicy")[0]}
