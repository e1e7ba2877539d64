"""What happens to stateful resources when their stack is deleted: kept, unless a reason here says otherwise.

Driven by one config value (`DataConfig.retain_on_delete`, refused False in production): where it
is on, `retain_stateful_resources(stack)` turns every `Delete` policy of a stateful resource type
into `Retain` (deletion and replacement alike; `RetainExceptOnCreate` on deletion for secrets, whose
names are fixed) and switches on CloudWatch Logs' deletion protection.
Policies constructs chose deliberately (`Snapshot` for the database and the cache) stay. The only
resources that may still be deleted with a stack are listed in `DELETABLE_WITH_STACK`, each with its
reason, which the pass writes into the resource's template metadata (`cashtrace:deletable-with-stack`);
`tests/stacks/test_retention.py` walks the staging, prod and pipeline templates and fails on a
`Delete` without one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from aws_cdk import CfnDeletionPolicy, CfnResource, Stack

STATEFUL_TYPES: tuple[str, ...] = (
    "AWS::SecretsManager::Secret",
    "AWS::SQS::Queue",
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
    "AWS::S3::Bucket",
    "AWS::KMS::Key",
    "AWS::Logs::LogGroup",
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::EFS::FileSystem",
    "AWS::Backup::BackupVault",
    "AWS::APS::Workspace",
    "AWS::ECR::Repository",
)
DELETABLE_METADATA = "cashtrace:deletable-with-stack"
# Construct path (relative to its stack) -> why that stateful resource may go with its stack.
DELETABLE_WITH_STACK: Mapping[str, str] = {
    "Secrets/DatabaseApiSecret/Resource": (
        "The API's database login holds nothing that is lost with it: a re-created stack makes a new "
        "password and its bootstrap sets it on the user. Kept, its fixed name (cashtrace/<env>/database-api) "
        "would block re-creating the stack (issue 17: nothing retained has a fixed physical name)."
    ),
}


def retain_stateful_resources(stack: Stack, *, retain: bool) -> None:
    """Keep every stateful resource of `stack` on delete and replace; protect its log groups. Call once, last."""
    if not retain:
        return
    from cashtrace_constructs.monitoring.functions import constructs_of

    prefix = f"{stack.node.path}/"
    for child in constructs_of(stack):
        if not isinstance(child, CfnResource) or child.cfn_resource_type not in STATEFUL_TYPES:
            continue
        reason = DELETABLE_WITH_STACK.get(child.node.path.removeprefix(prefix))
        if reason is not None:
            child.add_metadata(DELETABLE_METADATA, reason)
            continue
        options = child.cfn_options
        if options.deletion_policy in (None, CfnDeletionPolicy.DELETE):
            # A secret's name is its isolation contract (`cashtrace/<env>/<purpose>`), so it is fixed:
            # kept once its stack completed, deleted when the create that made it rolls back, so a
            # failed first deploy leaves nothing in its retry's way (tests/stacks/test_retry_safe_names.py).
            named = child.cfn_resource_type == "AWS::SecretsManager::Secret"
            options.deletion_policy = CfnDeletionPolicy.RETAIN_EXCEPT_ON_CREATE if named else CfnDeletionPolicy.RETAIN
        if options.update_replace_policy in (None, CfnDeletionPolicy.DELETE):
            options.update_replace_policy = CfnDeletionPolicy.RETAIN
        if child.cfn_resource_type == "AWS::Logs::LogGroup":
            # DeleteLogGroup then fails until someone deliberately turns the protection off.
            child.add_property_override("DeletionProtectionEnabled", True)


def deleted_with_stack(template: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(logical id, type, documented reason or "") of each stateful resource a stack deletion or replacement deletes."""
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") not in STATEFUL_TYPES:
            continue
        # CloudFormation's default for a resource without a policy is Delete.
        policies = (resource.get("DeletionPolicy", "Delete"), resource.get("UpdateReplacePolicy", "Delete"))
        if "Delete" in policies:
            reason = str((resource.get("Metadata") or {}).get(DELETABLE_METADATA, ""))
            yield logical_id, str(resource["Type"]), reason
