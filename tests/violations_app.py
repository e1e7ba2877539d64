"""`python -m tests.violations_app OUTDIR`: the real app with one violation per check, synthesized once per run.

Every rule of ours gets the property it guards set through an escape hatch on a real resource
(`add_property_override`, `add_override`, `add_deletion_override`: cdk-nag cannot see these);
each nag pack, the region lock and the acknowledgment audit get a violation in the construct tree.
The overrides touch independent resources and properties, so one synthesis proves them all.
conftest.py starts this beside the session synth; it writes `OUTDIR.status` last: `refused` and
the error when synthesis failed as it must, `accepted` when it did not, or a traceback.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Acknowledgment, App, CfnResource, Stack, Validations
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

from cashtrace_constructs.config import PLACEHOLDER_PIPELINE_ACCOUNT

PATH_METADATA = {"aws:cdk:enable-path-metadata": True}
# The ARN of a secret of another environment (staging's account).
FOREIGN_ARN = "arn:aws:secretsmanager:af-south-1:222222222222:secret:cashtrace/staging/database-AbCdEf"


@dataclass(frozen=True)
class Violation:
    """One check that must refuse one change: where it is made and what the finding must say."""

    rule: str  # the rule name in the validation report
    stack: str  # the stack's construct path
    path: str  # construct path of the changed element, relative to the stack ("" for the stack)
    expect: str  # text the finding must contain
    how: str  # the escape hatch (or tree change) used
    plugin: str = "CashTraceChecks"  # the plugin reporting it

    @property
    def construct_path(self) -> str:
        return f"{self.stack}/{self.path}" if self.path else self.stack

    def found_in(self, findings: list[str]) -> bool:
        """Whether a `plugin rule path: description` line (tests/synth.py `unacknowledged`) shows it."""
        prefix = f"{self.plugin} {self.rule} {self.construct_path}: "
        return any(line.startswith(prefix) and self.expect in line for line in findings)


def _approval_stage(pipeline: CfnResource) -> int:
    stages = Stack.of(pipeline).resolve(pipeline._cfn_properties)["stages"]
    return [stage.get("name", stage.get("Name")) for stage in stages].index("Approval")


def override(**properties: object) -> Callable[[CfnResource], None]:
    def apply(resource: CfnResource) -> None:
        for name, value in properties.items():
            resource.add_property_override(name, value)

    return apply


PROD, PIPELINE = "CashTrace-Prod", "CashTrace-Pipeline"
OVERRIDES: list[tuple[Violation, Callable[[CfnResource], None]]] = [
    (
        Violation(
            "CT-P7-DataResidency",
            PROD,
            "Storage/Bucket/Resource",
            "not a bucket of this region-locked stack",
            "add_property_override ReplicationConfiguration",
        ),
        lambda r: r.add_property_override(
            "ReplicationConfiguration",
            {
                "Role": "arn:aws:iam::333333333333:role/replication",
                "Rules": [{"Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::cashtrace-offsite-copy"}}],
            },
        ),
    ),
    (
        Violation(
            "CT-P7-DataStoreResidency",
            PROD,
            "Cache/ReplicationGroup",
            "data at rest is not encrypted",
            "add_property_override AtRestEncryptionEnabled",
        ),
        lambda r: r.add_property_override("AtRestEncryptionEnabled", False),
    ),
    (
        Violation(
            "CT-P8-BackupVerification",
            PROD,
            "Database/Instance/Resource",
            "1 day(s)",
            "add_property_override BackupRetentionPeriod",
        ),
        lambda r: r.add_property_override("BackupRetentionPeriod", 1),
    ),
    (
        Violation(
            "CT-DatabaseProtection",
            PROD,
            "Database/Instance/Resource",
            "no deletion protection",
            "add_property_override DeletionProtection",
        ),
        lambda r: r.add_property_override("DeletionProtection", False),
    ),
    (
        Violation(
            "CT-DatabaseProtection",
            PROD,
            "Database/Instance/Resource",
            "is publicly accessible",
            "add_override Properties.PubliclyAccessible",
        ),
        lambda r: r.add_override("Properties.PubliclyAccessible", True),
    ),
    (
        Violation(
            "CT-PublicBucket",
            PROD,
            "Storage/Bucket/Resource",
            "does not block public access",
            "add_deletion_override PublicAccessBlockConfiguration.BlockPublicPolicy",
        ),
        lambda r: r.add_deletion_override("Properties.PublicAccessBlockConfiguration.BlockPublicPolicy"),
    ),
    (
        Violation(
            "CT-P5-RollbackBudget",
            PROD,
            "Api/Target5xxAlarm/Resource",
            "over the",
            "add_property_override Period/EvaluationPeriods/DatapointsToAlarm",
        ),
        override(Period=300, EvaluationPeriods=5, DatapointsToAlarm=5),
    ),
    (
        Violation(
            "CT-P9-ScaleOutBudget",
            PROD,
            "Api/Scaling/CpuStepScaleOut/UpperAlarm/Resource",
            "over 180 s",
            "add_property_override Period/EvaluationPeriods",
        ),
        override(Period=300, EvaluationPeriods=3, DatapointsToAlarm=3),
    ),
    (
        Violation(
            "CT-P10-ZeroDowntime",
            PROD,
            "Api/Blue/Resource",
            "less than the longest request",
            "add_property_override TargetGroupAttributes",
        ),
        lambda r: r.add_property_override(
            "TargetGroupAttributes", [{"Key": "deregistration_delay.timeout_seconds", "Value": "1"}]
        ),
    ),
    (
        Violation(
            "CT-P6-SecretIsolation",
            PROD,
            "Backups/Validator/Function/ServiceRole/DefaultPolicy/Resource",
            "belongs to environment staging",
            "add_property_override PolicyDocument.Statement",
        ),
        lambda r: r.add_property_override(
            "PolicyDocument.Statement",
            [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": FOREIGN_ARN}],
        ),
    ),
    (
        Violation(
            "CT-IamFullAdmin",
            PROD,
            "Grafana/Task/TaskRole/DefaultPolicy/Resource",
            "every action on every resource",
            "add_property_override PolicyDocument.Statement",
        ),
        lambda r: r.add_property_override(
            "PolicyDocument.Statement", [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
        ),
    ),
    (
        Violation(
            "CT-WorldOpenIngress",
            PROD,
            "Cache/SecurityGroup/Resource",
            "admits 0.0.0.0/0 on TCP 6380",
            "add_property_override SecurityGroupIngress",
        ),
        lambda r: r.add_property_override(
            "SecurityGroupIngress", [{"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 6380, "ToPort": 6380}]
        ),
    ),
    (
        Violation(
            "CT-AlarmPaging",
            PROD,
            "Secrets/Audit/DeniedSecretAccessAlarm/Resource",
            "actions disabled",
            "add_property_override ActionsEnabled",
        ),
        lambda r: r.add_property_override("ActionsEnabled", False),
    ),
    (
        Violation(
            "CT-P4-PromotionGate",
            PROD,
            "PromotionGate/Resource/Default",
            "the promotion gate checks sha256:" + "f" * 64,
            "add_property_override ImageDigest",
        ),
        lambda r: r.add_property_override("ImageDigest", "sha256:" + "f" * 64),
    ),
    (
        Violation(
            "CT-ImageScanOnPush",
            PIPELINE,
            "ReleaseRepository/Repository/Resource",
            "does not scan images",
            "add_property_override ImageScanningConfiguration.ScanOnPush",
        ),
        lambda r: r.add_property_override("ImageScanningConfiguration.ScanOnPush", False),
    ),
    (
        Violation(
            "CT-P4-StagingBeforeProd",
            PIPELINE,
            "Pipeline/Pipeline/Resource",
            "manual approval",
            "add_property_override Stages.<Approval>.Actions.0.ActionTypeId",
        ),
        lambda r: r.add_property_override(
            f"Stages.{_approval_stage(r)}.Actions.0.ActionTypeId",
            {"Category": "Invoke", "Owner": "AWS", "Provider": "Lambda", "Version": "1"},
        ),
    ),
]

# CDK Pipelines synthesizes a stage's templates when the stage is added, before `inject` runs: this
# escape hatch is made while the pipeline's prod stage stack is built (`_prod_stage_pulls_a_tag`).
HOTFIX_TAG = "cashtrace/api:hotfix"
IN_STAGE: list[Violation] = [
    Violation(
        "CT-P3-ScannedImageShips",
        PIPELINE,
        "Pipeline/Pipeline/Resource",
        "CashTrace-Pipeline/Prod/Environment/Api/TaskDefinition/Resource container 'api' runs "
        f"'{PLACEHOLDER_PIPELINE_ACCOUNT}.dkr.ecr.af-south-1.amazonaws.com/{HOTFIX_TAG}', not pinned to the gated",
        "add_property_override ContainerDefinitions.0.Image, in the pipeline's prod stage stack",
    )
]

# Violations in the construct tree, for the checks that read it (and our rules on top).
INJECTED = "InjectedBucket"
TREE: list[Violation] = [
    *(
        Violation(rule, PROD, INJECTED, "", "s3.CfnBucket without logging, TLS policy or encryption", plugin=pack)
        for pack, rule in (
            ("AwsSolutions", "AwsSolutions-S1"),
            ("PCI.DSS.321", "PCI.DSS.321-S3BucketLoggingEnabled"),
            ("NIST.800.53.R5", "NIST.800.53.R5-S3BucketLoggingEnabled"),
        )
    ),
    # RegionLock is an aspect: its errors are annotations, which CDK reports as a plugin of their own.
    Violation(
        "Annotation::error-annotation",
        PROD,
        INJECTED,
        "DEPLOY_RESIDENCY_VIOLATION: CashTrace-Prod/InjectedBucket: Properties.ReplicationConfiguration",
        "s3.CfnBucket replicating to a bucket outside the stack",
        plugin="Construct Annotations",
    ),
    Violation(
        "UnusedAcknowledgment",
        PROD,
        "Storage/Bucket",
        "AwsSolutions::AwsSolutions-SMG4",
        "an acknowledgment with no finding",
        plugin="AwsSolutions",
    ),
    Violation("CT-CostAllocationTags", PROD, "", "lacks cost-allocation tags ['owner']", "stack.tags.remove_tag"),
]
VIOLATIONS: list[Violation] = [violation for violation, _ in OVERRIDES] + IN_STAGE + TREE


def _find(scope: IConstruct, path: str) -> IConstruct:
    node = scope
    for segment in path.split("/"):
        node = node.node.find_child(segment)
    return node


def inject(app: App) -> None:
    """Every violation above, on the app `build_app` made."""
    for violation, apply in OVERRIDES:
        resource = _find(app, violation.construct_path)
        assert isinstance(resource, CfnResource), violation
        apply(resource)
    prod = _find(app, PROD)
    assert isinstance(prod, Stack)
    s3.CfnBucket(
        prod,
        INJECTED,
        replication_configuration=s3.CfnBucket.ReplicationConfigurationProperty(
            role="arn:aws:iam::333333333333:role/replication",
            rules=[
                s3.CfnBucket.ReplicationRuleProperty(
                    status="Enabled",
                    destination=s3.CfnBucket.ReplicationDestinationProperty(
                        bucket="arn:aws:s3:::cashtrace-copy-eu-west-1"
                    ),
                )
            ],
        ),
    )
    Validations.of(_find(prod, "Storage/Bucket")).acknowledge(
        Acknowledgment(id="AwsSolutions::AwsSolutions-SMG4", reason="injected: there is no such finding here")
    )
    prod.tags.remove_tag("owner", 1000)


def _prod_stage_pulls_a_tag() -> None:
    """The pipeline's stages built from an environment stack whose prod task pulls a tag (IN_STAGE)."""
    from aws_cdk import aws_ecs as ecs

    from stacks import stage
    from stacks.environment_stack import CashTraceEnvironmentStack

    class ProdPullsATag(CashTraceEnvironmentStack):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            if self.config.name == "prod":
                task = self.service.task_definition.node.default_child
                assert isinstance(task, ecs.CfnTaskDefinition)
                image = f"{self.config.service.repository_account}.dkr.ecr.af-south-1.amazonaws.com/{HOTFIX_TAG}"
                task.add_property_override("ContainerDefinitions.0.Image", image)

    stage.CashTraceEnvironmentStack = ProdPullsATag  # type: ignore[attr-defined]


def synthesize(outdir: Path) -> str:
    """Build the real app, inject every violation, synthesize: `refused`, `accepted` or a traceback."""
    try:
        from stacks.app import build_app
        from tests.synth import make_app

        _prod_stage_pulls_a_tag()

        app = make_app(outdir, **PATH_METADATA)
        build_app(app)
        inject(app)
        try:
            app.synth()
        except RuntimeError as error:
            return f"refused\n{error}"
        return "accepted"
    except BaseException:
        return traceback.format_exc()


def main(outdir: Path) -> int:
    outdir.with_suffix(".status").write_text(synthesize(outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
