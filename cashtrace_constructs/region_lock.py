"""The `RegionLock` aspect: no stack outside the residency allow-list, no resource sending data out."""

from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import Annotations, CfnResource, IAspect, Stack, Token
from constructs import IConstruct

from cashtrace_constructs.checks.ran import REGION_LOCK_METADATA
from cashtrace_constructs.config import DEFAULT_ALLOWED_REGIONS
from cashtrace_constructs.errors import ErrorCode
from cashtrace_constructs.residency import resource_leaks

# Resource types whose properties can move data to another region. Only these are resolved
# and scanned here (resolving every resource would cost ~1 ms each); the checks plugin's
# data-residency rule scans every resource of every synthesized template as well.
DATA_MOVING_TYPES = frozenset(
    {
        "AWS::S3::Bucket",
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::Backup::BackupPlan",
        "AWS::ECR::ReplicationConfiguration",
        "AWS::DynamoDB::GlobalTable",
        "AWS::DynamoDB::Table",
        "AWS::Logs::SubscriptionFilter",
        "AWS::Logs::Destination",
        "AWS::KinesisFirehose::DeliveryStream",
        "AWS::KMS::Key",
        "AWS::ElastiCache::GlobalReplicationGroup",
        "AWS::SecretsManager::Secret",
    }
)


@jsii.implements(IAspect)
class RegionLock:
    """Fails synthesis (CLI and in-process) for env-agnostic stacks, stacks outside
    `allowed_regions`, and resources whose properties send data to another region.

    Errors are annotations; the app sets `@aws-cdk/core:annotationsInValidationReport` so an
    in-process `app.synth()` raises on them exactly like `cdk synth` exits non-zero.
    Aspects stop at Stage boundaries: `CashTraceStage` applies its own `RegionLock`.
    """

    def __init__(self, allowed_regions: Sequence[str] = DEFAULT_ALLOWED_REGIONS) -> None:
        self.allowed_regions = tuple(allowed_regions)

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, Stack):
            self._check_stack(node)
        elif isinstance(node, CfnResource) and node.cfn_resource_type in DATA_MOVING_TYPES:
            self._check_resource(node)

    def _error(self, node: IConstruct, message: str) -> None:
        Annotations.of(node).add_error(f"{ErrorCode.RESIDENCY_VIOLATION.value}: {node.node.path}: {message}")

    def _check_stack(self, stack: Stack) -> None:
        # The proof this aspect ran (cashtrace_constructs/checks/ran.py); it changes no template.
        stack.node.add_metadata(REGION_LOCK_METADATA, list(self.allowed_regions))
        if Token.is_unresolved(stack.region):
            self._error(stack, "stack is environment-agnostic; pin it to an account and an allowed region")
        elif stack.region not in self.allowed_regions:
            self._error(
                stack, f"region {stack.region} is outside the residency allow-list {list(self.allowed_regions)}"
            )

    def _check_resource(self, resource: CfnResource) -> None:
        # Raw properties as CloudFormation will see them; overrides added later are caught by
        # the checks plugin, which reads the final template.
        # Resolve before rendering: L2s such as secretsmanager.Secret hold lazy lists that the
        # renderer's type validation would otherwise reject.
        stack = Stack.of(resource)
        properties = stack.resolve(resource._render_properties(stack.resolve(resource._cfn_properties)))
        body = {"Type": resource.cfn_resource_type, "Properties": properties}
        for leak in resource_leaks(resource.logical_id, body, self.allowed_regions):
            self._error(resource, f"{leak.location} {leak.reason} (Property 7)")
