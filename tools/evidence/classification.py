"""Which CloudFormation resource types store or carry user data, and why every other type holds none.

The data inventory and the pull-request review share it: a store here is what the inventory lists
and what a replacement warning is raised for. A type in neither table is "unclassified": the
evidence names it, and a test fails until someone decides which table it belongs to.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass

STORES = "stores"
CARRIES = "carries"


@dataclass(frozen=True)
class DataKind:
    role: str  # STORES or CARRIES
    label: str
    holds: str


DATA_TYPES: Mapping[str, DataKind] = {
    "AWS::RDS::DBInstance": DataKind(STORES, "database", "application records"),
    "AWS::RDS::DBCluster": DataKind(STORES, "database cluster", "application records"),
    "AWS::DocDB::DBCluster": DataKind(STORES, "document database", "application records"),
    "AWS::ElastiCache::ReplicationGroup": DataKind(STORES, "cache", "cached application data and sessions"),
    "AWS::ElastiCache::CacheCluster": DataKind(STORES, "cache", "cached application data and sessions"),
    "AWS::ElastiCache::ServerlessCache": DataKind(STORES, "cache", "cached application data and sessions"),
    "AWS::MemoryDB::Cluster": DataKind(STORES, "in-memory database", "application records"),
    "AWS::S3::Bucket": DataKind(STORES, "bucket", "objects"),
    "AWS::DynamoDB::Table": DataKind(STORES, "table", "items"),
    "AWS::DynamoDB::GlobalTable": DataKind(STORES, "table", "items"),
    "AWS::EFS::FileSystem": DataKind(STORES, "file system", "files"),
    "AWS::FSx::FileSystem": DataKind(STORES, "file system", "files"),
    "AWS::OpenSearchService::Domain": DataKind(STORES, "search domain", "indexed documents"),
    "AWS::SecretsManager::Secret": DataKind(STORES, "secret", "credentials"),
    "AWS::Backup::BackupVault": DataKind(STORES, "backup vault", "recovery points of the stores it backs up"),
    "AWS::Logs::LogGroup": DataKind(STORES, "log group", "log events (may quote requests)"),
    "AWS::ECR::Repository": DataKind(STORES, "image repository", "container images"),
    "AWS::APS::Workspace": DataKind(STORES, "metrics workspace", "time series (labels, no payloads)"),
    "AWS::SQS::Queue": DataKind(CARRIES, "queue", "messages"),
    "AWS::SNS::Topic": DataKind(CARRIES, "topic", "notifications"),
    "AWS::Kinesis::Stream": DataKind(CARRIES, "stream", "records"),
    "AWS::KinesisFirehose::DeliveryStream": DataKind(CARRIES, "delivery stream", "records"),
    "AWS::CloudTrail::Trail": DataKind(CARRIES, "audit trail", "API events, delivered to a bucket and a log group"),
    "AWS::Logs::SubscriptionFilter": DataKind(CARRIES, "log subscription", "log events forwarded elsewhere"),
    "AWS::ECR::ReplicationConfiguration": DataKind(CARRIES, "image replication", "container images copied"),
}

# Patterns (fnmatch) of types that hold no user data, each with the reason an auditor reads.
NO_USER_DATA: Mapping[str, str] = {
    "AWS::EC2::*": "networking: addresses, routes, gateways, endpoints, firewall rules",
    "AWS::ElasticLoadBalancingV2::*": "routes requests in transit; stores nothing (access logs go to a listed bucket)",
    "AWS::IAM::*": "permissions",
    "AWS::KMS::*": "encryption keys: listed with the stores they encrypt, no data of their own",
    "AWS::Lambda::*": "function code and configuration; logs go to a log group listed here",
    "AWS::StepFunctions::StateMachine": "orchestration of deployment steps; no user data passes through",
    "AWS::ECS::*": "compute: tasks keep nothing beyond their lifetime; their logs go to a log group listed here",
    "AWS::ApplicationAutoScaling::*": "scaling rules",
    "AWS::CodeDeploy::*": "deployment configuration",
    "AWS::CodePipeline::*": "release orchestration; its artifacts go to a bucket listed here",
    "AWS::CodeBuild::*": "build projects; their logs and outputs go to stores listed here",
    "AWS::CloudWatch::*": "alarms and dashboards: metric names and thresholds",
    "AWS::Logs::MetricFilter": "turns log events into counts; stores nothing",
    "AWS::Events::*": "event routing rules and permissions; events carry deployment state, not user data",
    "AWS::CloudFront::*": (
        "CDN in front of the static-assets bucket: caches static files at edge locations, never user "
        "data (a global service, exempt in cashtrace_constructs/residency.py)"
    ),
    "AWS::WAFv2::*": "firewall rules; request logs go to a log group listed here",
    "AWS::SecretsManager::ResourcePolicy": "who may read a secret listed here",
    "AWS::SecretsManager::RotationSchedule": "when a secret listed here rotates",
    "AWS::SecretsManager::SecretTargetAttachment": "links a secret listed here to its database",
    "AWS::RDS::DBSubnetGroup": "where a database may run",
    "AWS::RDS::DBParameterGroup": "database settings",
    "AWS::ElastiCache::SubnetGroup": "where a cache may run",
    "AWS::Backup::BackupPlan": "backup schedule and retention (shown per store)",
    "AWS::Backup::BackupSelection": "which stores a backup plan covers (shown per store)",
    "AWS::Backup::RestoreTesting*": "restore-test schedule (shown per store); restored copies are deleted after tests",
    "AWS::EFS::AccessPoint": "an entry point into a file system listed here",
    "AWS::EFS::MountTarget": "a network interface of a file system listed here",
    "AWS::S3::BucketPolicy": "who may reach a bucket listed here",
    "AWS::SQS::QueuePolicy": "who may reach a queue listed here",
    "AWS::SNS::TopicPolicy": "who may publish to a topic listed here",
    "AWS::SNS::Subscription": "delivers alarm notifications (alarm names and states, no user data)",
    "AWS::SSM::Parameter": "configuration written by the template",
    "AWS::CertificateManager::Certificate": "a TLS certificate (public names only)",
    "AWS::Route53::*": "DNS names and records",
    "AWS::ElastiCache::User*": "who may use a cache listed here (its credentials are secrets listed here)",
    "AWS::RDS::DBProxy*": "pools connections to a database listed here; stores nothing",
    "AWS::Logs::ResourcePolicy": "which services may write to the log groups listed here",
    "AWS::ECR::RegistryScanningConfiguration": "image scanning settings",
    "AWS::CDK::Metadata": "CDK version reporting",
    "Custom::DatabaseBootstrap": "creates the API's database role at deploy time (the data stays in the database)",
    "Custom::EcsDeployment": "starts a CodeDeploy rollout at deploy time",
    "Custom::PromotionGate": "checks the release digest against the deployment record at deploy time",
    "Custom::VpcRestrictDefaultSG": "removes the default security group's rules at deploy time",
}

# A replaced or removed resource of these types takes its contents (or what they encrypt) with it.
STATEFUL_TYPES = frozenset({*(t for t, kind in DATA_TYPES.items() if kind.role == STORES), "AWS::KMS::Key"})


def data_kind(resource_type: str) -> DataKind | None:
    return DATA_TYPES.get(resource_type)


def no_user_data_reason(resource_type: str) -> str | None:
    for pattern, reason in NO_USER_DATA.items():
        if fnmatch.fnmatchcase(resource_type, pattern):
            return reason
    return None


def is_classified(resource_type: str) -> bool:
    return resource_type in DATA_TYPES or no_user_data_reason(resource_type) is not None
