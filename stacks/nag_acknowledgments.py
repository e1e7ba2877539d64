"""Every acknowledged cdk-nag finding, with its reason: the one place a reviewer reads them.

Each entry names one construct by its path inside an environment stack (a `*` matches one
path segment, for resources CDK creates once per AZ or per endpoint) and one rule. An entry
whose path no longer matches anything fails synthesis, so this list cannot silently go stale.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

from cashtrace_constructs.errors import DeploymentError, ErrorCode


@dataclass(frozen=True)
class NagAcknowledgment:
    path: str
    rule: str
    reason: str
    environments: tuple[str, ...] = ("dev", "staging", "prod")


NETWORK: list[NagAcknowledgment] = [
    *(
        NagAcknowledgment(
            "Network/Vpc/publicSubnet*/DefaultRoute",
            rule,
            "The public subnets exist for the internet-facing load balancer and the NAT gateways; "
            "their route to the internet gateway is their purpose. Tasks and data stores sit in "
            "private and isolated subnets without such a route.",
        )
        for rule in (
            "NIST.800.53.R5::NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW",
            "PCI.DSS.321::PCI.DSS.321-VPCNoUnrestrictedRouteToIGW",
        )
    ),
    *(
        NagAcknowledgment(
            "Network/Vpc/All/IAMRole/DefaultPolicy/Resource",
            rule,
            "CDK generates this flow-log delivery policy scoped to the one flow-log group; an inline "
            "policy on a single-purpose service role is easier to audit than a shared managed policy.",
        )
        for rule in (
            "NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy",
            "PCI.DSS.321::PCI.DSS.321-IAMNoInlinePolicy",
        )
    ),
]


def function_baseline(path: str) -> list[NagAcknowledgment]:
    """What every `PythonHandler` at `path` needs acknowledged, and why."""
    return [
        *(
            NagAcknowledgment(
                f"{path}/Function/ServiceRole/Resource",
                f"AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/{policy}]",
                "AWSLambdaBasicExecutionRole and AWSLambdaVPCAccessExecutionRole are AWS's minimal "
                "policies for logging and for the ENIs a VPC function needs; ENI actions cannot be "
                "scoped to resources.",
            )
            for policy in ("AWSLambdaBasicExecutionRole", "AWSLambdaVPCAccessExecutionRole")
        ),
        NagAcknowledgment(
            f"{path}/Function/ServiceRole/DefaultPolicy/Resource",
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            "X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) supports no resource-level permissions.",
        ),
        *(
            NagAcknowledgment(
                f"{path}/Function/ServiceRole/DefaultPolicy/Resource",
                rule,
                "CDK grants of this one function (its DLQ, its key, the calls it makes), scoped to "
                "named resources; an inline policy on a single-purpose role is the auditable form.",
            )
            for rule in (
                "NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy",
                "PCI.DSS.321::PCI.DSS.321-IAMNoInlinePolicy",
            )
        ),
    ]


# One list per capability; each issue's constructs add theirs, and ALL is what stacks apply.
SERVICE: list[NagAcknowledgment] = []

DATA: list[NagAcknowledgment] = []

SECRETS: list[NagAcknowledgment] = []

MONITORING: list[NagAcknowledgment] = []

# Paths relative to CashTrace-Pipeline (the tooling account). The stage stacks inside it are
# CashTraceEnvironmentStacks and acknowledge their own findings.
_PIPELINE_ONLY = ("pipeline",)
# Roles CDK Pipelines generates for the pipeline, its actions and its CodeBuild projects.
_PIPELINE_ROLE_POLICIES = (
    "Pipeline/Pipeline/Role/DefaultPolicy/Resource",
    "Pipeline/Pipeline/Source/Source/CodePipelineActionRole/DefaultPolicy/Resource",
    # Synth, SecurityGate, IntegrationTests, SmokeTests: <stage>/<step>/<project>/Role.
    "Pipeline/Pipeline/*/*/*/Role/DefaultPolicy/Resource",
    "Pipeline/UpdatePipeline/SelfMutation/Role/DefaultPolicy/Resource",
    "Pipeline/Assets/FileRole/DefaultPolicy/Resource",
)
_PIPELINE_INLINE_POLICIES = (
    *_PIPELINE_ROLE_POLICIES,
    "Pipeline/Pipeline/EventsRole/DefaultPolicy/Resource",
    "Pipeline/CodeBuildActionRole/DefaultPolicy/Resource",
)
_PIPELINE_PROJECTS = (
    "Pipeline/Pipeline/*/*/*/Resource",
    "Pipeline/UpdatePipeline/SelfMutation/Resource",
    "Pipeline/Assets/FileAsset*/Resource",
)

PIPELINE: list[NagAcknowledgment] = [
    *(
        NagAcknowledgment(
            path,
            rule,
            "CDK Pipelines attaches each action's grants to that action's own single-purpose role; "
            "an inline policy per role is the auditable form (a shared managed policy would widen it).",
            _PIPELINE_ONLY,
        )
        for path in _PIPELINE_INLINE_POLICIES
        for rule in ("NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy", "PCI.DSS.321::PCI.DSS.321-IAMNoInlinePolicy")
    ),
    *(
        NagAcknowledgment(
            path,
            "PCI.DSS.321::PCI.DSS.321-CodeBuildProjectSourceRepoUrl",
            "False positive: these projects take their source from CodePipeline artifacts (source type "
            "CODEPIPELINE); no GitHub or Bitbucket URL, and so no credentials, is involved.",
            _PIPELINE_ONLY,
        )
        for path in _PIPELINE_PROJECTS
    ),
    *(
        NagAcknowledgment(
            f"{bucket}/Resource",
            rule,
            "Replication would copy to a second bucket; another region is ruled out by Property 7 and "
            "a second af-south-1 bucket adds nothing: the bucket is versioned, retained, and its "
            "contents are reproducible from the commit CI built.",
            _PIPELINE_ONLY,
        )
        for bucket in ("AccessLogs", "Source", "Artifacts")
        for rule in (
            "NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled",
            "PCI.DSS.321::PCI.DSS.321-S3BucketReplicationEnabled",
        )
    ),
    *(
        NagAcknowledgment(
            "AccessLogs/Resource",
            rule,
            "S3 server access logging can only deliver to a bucket encrypted with SSE-S3; the logs hold "
            "request metadata, not source or artifacts.",
            _PIPELINE_ONLY,
        )
        for rule in (
            "NIST.800.53.R5::NIST.800.53.R5-S3DefaultEncryptionKMS",
            "PCI.DSS.321::PCI.DSS.321-S3DefaultEncryptionKMS",
        )
    ),
    NagAcknowledgment(
        "AccessLogs/Resource",
        "AwsSolutions::AwsSolutions-S1",
        "This is the access-log bucket itself; logging it into itself would loop.",
        _PIPELINE_ONLY,
    ),
    *(
        NagAcknowledgment(
            "DeploymentRecord/Vpc/All/IAMRole/DefaultPolicy/Resource",
            rule,
            "CDK generates this flow-log delivery policy scoped to the one flow-log group; an inline "
            "policy on a single-purpose service role is easier to audit than a shared managed policy.",
            _PIPELINE_ONLY,
        )
        for rule in ("NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy", "PCI.DSS.321::PCI.DSS.321-IAMNoInlinePolicy")
    ),
    *(
        NagAcknowledgment(entry.path, entry.rule, entry.reason, _PIPELINE_ONLY)
        for entry in function_baseline("DeploymentRecord/Recorder")
    ),
    *(
        NagAcknowledgment(
            "DeploymentRecord/Recorder/Function/ServiceRole/DefaultPolicy/Resource",
            f"AwsSolutions::AwsSolutions-IAM5[{detail}]",
            "CDK's grants on the pipeline key (kms:GenerateDataKey*, kms:ReEncrypt* for the encrypted "
            "environment and dead-letter queue) and on the deployment table's own indexes (<table>/index/*).",
            _PIPELINE_ONLY,
        )
        for detail in (
            "Action::kms:GenerateDataKey*",
            "Action::kms:ReEncrypt*",
            "Resource::<DeploymentRecordTable20EDE7FD.Arn>/index/*",
        )
    ),
]

CI: list[NagAcknowledgment] = []

_ARTIFACT_GRANTS = ("s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*", "s3:GetObject*", "s3:List*")
_KEY_GRANTS = ("kms:GenerateDataKey*", "kms:ReEncrypt*")


def pipeline_role_wildcards(
    *, account: str, region: str, artifact_bucket: str, projects: dict[str, str]
) -> list[NagAcknowledgment]:
    """IAM5 findings of the roles CDK Pipelines generates, named exactly (they embed logical ids).

    `projects` maps each CodeBuild project's role-policy path to the project's logical id:
    CodeBuild scopes a project's log group and report groups by that id plus a wildcard.
    """
    reason_artifacts = (
        "Generated by CDK Pipelines: object-level access (s3:GetObject* and friends, <bucket>/*) to the "
        "pipeline's one artifact bucket and use of its one key; nothing outside the tooling account."
    )
    shared = (
        *(f"Action::{action}" for action in (*_ARTIFACT_GRANTS, *_KEY_GRANTS)),
        f"Resource::<{artifact_bucket}.Arn>/*",
    )
    roles = (
        "Pipeline/Pipeline/Role/DefaultPolicy/Resource",
        "Pipeline/Pipeline/Source/Source/CodePipelineActionRole/DefaultPolicy/Resource",
        "Pipeline/Assets/FileRole/DefaultPolicy/Resource",
        *projects,
    )
    entries = [
        NagAcknowledgment(path, f"AwsSolutions::AwsSolutions-IAM5[{detail}]", reason_artifacts, ("pipeline",))
        for path in roles
        for detail in shared
    ]
    for path, logical_id in projects.items():
        entries.extend(
            NagAcknowledgment(
                path,
                f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]",
                "CodeBuild names a build's log streams and report groups at run time; the grant is scoped "
                "to this one project's log group and report-group prefix.",
                ("pipeline",),
            )
            for resource in (
                f"arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/<{logical_id}>:*",
                f"arn:aws:codebuild:{region}:{account}:report-group/<{logical_id}>-*",
            )
        )
    self_mutation = "Pipeline/UpdatePipeline/SelfMutation/Role/DefaultPolicy/Resource"
    entries += [
        NagAcknowledgment(
            self_mutation,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:*:iam::{account}:role/*]",
            "Self-mutation assumes the CDK bootstrap roles of the tooling account only: the statement is "
            "conditioned on the iam:ResourceTag/aws-cdk:bootstrap-role tag (deploy, file- and "
            "image-publishing), whose role names embed a per-bootstrap qualifier.",
            ("pipeline",),
        ),
        NagAcknowledgment(
            self_mutation,
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            "cloudformation:DescribeStacks and s3:ListBucket issued by `cdk deploy` of the pipeline "
            "stack before it knows the bootstrap bucket's name.",
            ("pipeline",),
        ),
        *(
            NagAcknowledgment(
                "Pipeline/Assets/FileRole/DefaultPolicy/Resource",
                f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]",
                "One shared role runs every file-asset CodeBuild project, which self-mutation creates and "
                "renames as assets change (codebuild:StartBuild/BatchGetBuilds/StopBuild, their log "
                "groups and report groups); it may assume only the environments' file-publishing roles.",
                ("pipeline",),
            )
            for resource in (
                "*",
                f"arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/*",
                f"arn:aws:codebuild:{region}:{account}:report-group/*",
            )
        ),
    ]
    return entries


ALL: list[NagAcknowledgment] = [*NETWORK, *SERVICE, *DATA, *SECRETS, *MONITORING, *CI]


def _matching(root: IConstruct, path: str) -> list[IConstruct]:
    nodes = [root]
    for segment in path.split("/"):
        nodes = [child for node in nodes for child in node.node.children if fnmatch.fnmatchcase(child.node.id, segment)]
    return nodes


def acknowledge(stack: Stack, environment: str, acknowledgments: Iterable[NagAcknowledgment] = ALL) -> None:
    """Apply the acknowledgments that concern `environment` to `stack`; refuse stale ones."""
    for entry in acknowledgments:
        if environment not in entry.environments:
            continue
        targets = _matching(stack, entry.path)
        if not targets:
            raise DeploymentError(
                ErrorCode.CONFIG_INVALID,
                f"acknowledgment of {entry.rule} names {entry.path!r}, which is not in {stack.node.path}; "
                "remove or update it",
                field="nag_acknowledgments",
            )
        for target in targets:
            Validations.of(target).acknowledge(Acknowledgment(id=entry.rule, reason=entry.reason))
