"""What keeps one environment's secrets from another's: the `environment` tag and the deny-only resource policy."""

from __future__ import annotations

from aws_cdk import Aspects, Stack, Tag
from aws_cdk import aws_iam as iam
from constructs import IConstruct

ENVIRONMENT_TAG = "environment"
PRINCIPAL_ENVIRONMENT = f"aws:PrincipalTag/{ENVIRONMENT_TAG}"
DENY_OTHER_ENVIRONMENTS_SID = "DenyPrincipalsOfOtherEnvironments"


def isolation_statements(environment_name: str, account: str) -> list[iam.PolicyStatement]:
    """The deny statements every secret of `environment_name` carries (docs/secrets.md, "ABAC").

    They only ever deny, so they cannot lock out what they do not match: the CloudFormation
    execution role, administrators and the managed rotation function carry no `environment`
    tag and are left to the account's IAM; Secrets Manager itself is an AWS service principal.
    """
    everyone = [iam.AnyPrincipal()]
    return [
        # A principal tagged for another environment is refused whatever its IAM policies say.
        iam.PolicyStatement(
            sid=DENY_OTHER_ENVIRONMENTS_SID,
            effect=iam.Effect.DENY,
            principals=everyone,
            actions=["secretsmanager:*"],
            resources=["*"],
            conditions={
                "StringNotEquals": {PRINCIPAL_ENVIRONMENT: environment_name},
                "Null": {PRINCIPAL_ENVIRONMENT: "false"},
            },
        ),
        # Every environment has its own account: nothing from another account may touch the secret.
        iam.PolicyStatement(
            sid="DenyPrincipalsOfOtherAccounts",
            effect=iam.Effect.DENY,
            principals=everyone,
            actions=["secretsmanager:*"],
            resources=["*"],
            conditions={
                "StringNotEquals": {"aws:PrincipalAccount": account},
                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
            },
        ),
        # Workloads (tagged principals) may not retag a secret: the tag is what identity policies
        # scoped by `secretsmanager:ResourceTag/environment` trust.
        iam.PolicyStatement(
            sid="DenyTagChangesByWorkloads",
            effect=iam.Effect.DENY,
            principals=everyone,
            actions=["secretsmanager:TagResource", "secretsmanager:UntagResource"],
            resources=["*"],
            conditions={"Null": {PRINCIPAL_ENVIRONMENT: "false"}},
        ),
    ]


def environment_of(construct: IConstruct) -> str | None:
    """The `environment` tag a construct will carry once deployed: its own, a scope's, or its stack's."""
    default_child = construct.node.default_child
    tag_manager = getattr(default_child, "tags", None)
    if tag_manager is not None and hasattr(tag_manager, "tag_values"):
        explicit = tag_manager.tag_values().get(ENVIRONMENT_TAG)
        if explicit:
            return str(explicit)
    # Tags.of(...).add is an aspect applied at synth; read the closest one that is pending.
    for scope in reversed(construct.node.scopes):
        for aspect in reversed(Aspects.of(scope).all):
            if isinstance(aspect, Tag) and aspect.key == ENVIRONMENT_TAG:
                return str(aspect.value)
        if isinstance(scope, Stack):
            # CloudFormation propagates stack tags to every taggable resource of the stack.
            value = scope.tags.tag_values().get(ENVIRONMENT_TAG)
            return str(value) if value else None
    return None
