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

PIPELINE: list[NagAcknowledgment] = []

CI: list[NagAcknowledgment] = []


def github_oidc_access(path: str) -> list[NagAcknowledgment]:
    """What a `GitHubOidcAccess` at `path` (relative to its stack) needs acknowledged, and why.

    A function, not entries in `CI`: the construct lives in the pipeline stack, not in the
    environment stacks `ALL` is applied to.
    """
    return [
        NagAcknowledgment(
            f"{path}/ReleasePolicy/Resource",
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken (the docker login to ECR) supports no resource-level permission; "
            "it is the only action on '*', and pushing still needs the repository-scoped actions.",
        )
    ]


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
