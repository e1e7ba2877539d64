"""`EnvironmentSecrets`: one environment's secrets, isolated from the others (Property 6).

Each secret is named `cashtrace/<env>/<purpose>`, tagged with its environment, encrypted with
the environment's key, rotated on a schedule, and carries a resource policy that denies every
principal tagged for another environment. Access is audited by `SecretsAudit`.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aspects, Duration, Stack, Tag, Tags, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct, IConstruct

from cashtrace_constructs.audit import SecretsAudit
from cashtrace_constructs.config import SecretReference, SecretsConfig, require_secret_of
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.function import PythonHandler

ENVIRONMENT_TAG = "environment"
PRINCIPAL_ENVIRONMENT = f"aws:PrincipalTag/{ENVIRONMENT_TAG}"
# The JSON key the rotation Lambda replaces; other keys of the secret survive a rotation.
SECRET_VALUE_KEY = "key"  # noqa: S105  # nosec B105 (a JSON field name)
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


class EnvironmentSecrets(Construct):
    """The secrets of `EnvironmentSettings.secrets`, their rotation, their isolation and their audit trail.

    Attributes: `secrets` (full name -> Secret), `rotation_function`, `audit`, `alarms`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environment_name: str,
        secrets: Sequence[SecretReference],
        config: SecretsConfig,
        encryption_key: kms.IKey,
        vpc: ec2.IVpc,
        rotation_subnets: ec2.SubnetSelection | None = None,
    ) -> None:
        for index, reference in enumerate(secrets):
            require_secret_of(environment_name, reference.name, f"{environment_name}.settings.secrets[{index}].name")
        super().__init__(scope, construct_id)
        self.environment_name = environment_name
        self.config = config
        self.encryption_key = encryption_key
        self.vpc = vpc
        self.rotation_subnets = rotation_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        self._account = Stack.of(self).account

        self.rotation_function = PythonHandler(
            self,
            "RotationFunction",
            source="secret_rotation",
            description=f"Rotates CashTrace {environment_name} application secrets (four-step protocol)",
            vpc=vpc,
            encryption_key=encryption_key,
            environment={"SECRET_VALUE_KEY": SECRET_VALUE_KEY},
            timeout_seconds=30,
        )
        # A tagged principal: inside the ABAC boundary of its own environment's secrets.
        Tags.of(self.rotation_function.function.role).add(ENVIRONMENT_TAG, environment_name)  # type: ignore[arg-type]

        self.secrets: dict[str, secretsmanager.Secret] = {}
        for reference in secrets:
            purpose = reference.name.split("/", 2)[2]
            secret = secretsmanager.Secret(
                self,
                _construct_id(purpose),
                secret_name=reference.name,
                description=f"CashTrace {environment_name} {purpose} (read as {reference.env_var})",
                encryption_key=encryption_key,
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    secret_string_template="{}",  # noqa: S106  # nosec B106 (an empty JSON object)
                    generate_string_key=SECRET_VALUE_KEY,
                    exclude_punctuation=True,
                    password_length=48,
                ),
            )
            self.adopt_secret(secret)
            secret.add_rotation_schedule(
                "Rotation",
                rotation_lambda=self.rotation_function.function,
                automatically_after=Duration.days(config.rotation_days_for(reference.name)),
            )
            self.secrets[reference.name] = secret

        # Confused deputy: only Secrets Manager acting for this account may start a rotation.
        for child in self.rotation_function.function.node.children:
            if isinstance(child, lambda_.CfnPermission) and child.principal == "secretsmanager.amazonaws.com":
                child.source_account = self._account

        self.audit = SecretsAudit(
            self,
            "Audit",
            environment_name=environment_name,
            encryption_key=encryption_key,
            log_retention_days=config.audit_log_retention_days,
        )
        self.alarms: list[cloudwatch.Alarm] = [self.audit.denied_access_alarm]

    def secret(self, name: str) -> secretsmanager.Secret:
        try:
            return self.secrets[name]
        except KeyError:
            raise DeploymentError(
                ErrorCode.SECRET_ACCESS_DENIED,
                f"{name!r} is not a secret of environment {self.environment_name!r} ({sorted(self.secrets)})",
                field="secret_name",
            ) from None

    def adopt_secret(self, secret: secretsmanager.ISecret) -> None:
        """Bring a secret made elsewhere (database, cache) under this environment's isolation policy."""
        # `DatabaseInstance.secret` is the attachment; the secret it wraps is its parent construct
        # (its resource policy lands there too, with useAttachedSecretResourcePolicy...).
        underlying = secret.node.scope if isinstance(secret, secretsmanager.SecretTargetAttachment) else secret
        if underlying is not None:
            Tags.of(underlying).add(ENVIRONMENT_TAG, self.environment_name)
        for statement in isolation_statements(self.environment_name, self._account):
            secret.add_to_resource_policy(statement)
        policy = underlying.node.try_find_child("Policy") if underlying is not None else None
        if policy is not None and isinstance(policy.node.default_child, secretsmanager.CfnResourcePolicy):
            # Secrets Manager then refuses any later policy edit that would open the secret widely.
            policy.node.default_child.block_public_policy = True

    def adopt_database_secret(
        self, secret: secretsmanager.ISecret, instance: rds.DatabaseInstance, *, port: int | None = None
    ) -> secretsmanager.RotationSchedule:
        """Isolate the database credentials and rotate them with AWS's managed PostgreSQL rotation.

        Hosted rotation (a CloudFormation transform) instead of `add_rotation_single_user`: the
        latter deploys a Serverless Application Repository app whose ARN lives in us-east-1.
        """
        self.adopt_secret(secret)
        hosted = secretsmanager.HostedRotation.postgre_sql_single_user(vpc=self.vpc, vpc_subnets=self.rotation_subnets)
        schedule = secret.add_rotation_schedule(
            "Rotation",
            hosted_rotation=hosted,
            automatically_after=Duration.days(self.config.database_rotation_days),
        )
        description = "Managed rotation of the database credentials"
        if port is None:
            instance.connections.allow_default_port_from(hosted, description)
        else:
            instance.connections.allow_from(hosted, ec2.Port.tcp(port), description)
        return schedule

    def grant_read(self, grantee: iam.IGrantable, name: str) -> iam.Grant:
        """Let a workload of this environment read one secret; refuse principals of other environments.

        The grantee's role gets this environment's tag, which puts it inside the ABAC boundary.
        """
        secret = self.secret(name)
        role = self._require_same_environment(grantee.grant_principal, name)
        Tags.of(role).add(ENVIRONMENT_TAG, self.environment_name)
        return secret.grant_read(grantee)

    def _require_same_environment(self, principal: iam.IPrincipal, name: str) -> iam.Role:
        def refuse(reason: str) -> DeploymentError:
            return DeploymentError(
                ErrorCode.SECRET_ACCESS_DENIED,
                f"cannot grant {name!r} (environment {self.environment_name!r}) to {reason} (Property 6)",
                field="grantee",
            )

        if not isinstance(principal, iam.Role):
            # Imported roles, users and ARN principals: their tags can be neither read nor set here.
            raise refuse(f"{principal}, whose environment cannot be verified; grant to a role defined in CDK")
        owner = environment_of(principal)
        if owner is not None and owner != self.environment_name:
            raise refuse(f"{principal.node.path}, a principal of environment {owner!r}")
        account = Stack.of(principal).account
        if not Token.is_unresolved(account) and not Token.is_unresolved(self._account) and account != self._account:
            raise refuse(f"{principal.node.path} in account {account}")
        return principal


def _construct_id(purpose: str) -> str:
    return "".join(part.capitalize() for part in purpose.replace("_", "-").replace("/", "-").split("-")) + "Secret"
