"""`EnvironmentSecrets`: the one factory of an environment's secrets and the one way a container reads them.

Each secret is named `cashtrace/<env>/<purpose>`, tagged with its environment, encrypted with
the environment's key and carries a resource policy that denies every principal tagged for
another environment. The application secrets rotate with our function, the database login with
AWS's managed rotation. Access is audited by `SecretsAudit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack, Tags, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from cashtrace_constructs.config import SecretReference, SecretsConfig, require_secret_of, secret_environment
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.function import PythonHandler, PythonHandlerProps
from cashtrace_constructs.secrets.audit import SecretsAudit, SecretsAuditProps
from cashtrace_constructs.secrets.isolation import ENVIRONMENT_TAG, environment_of, isolation_statements

# The JSON key the rotation Lambda replaces; other keys of the secret survive a rotation.
SECRET_VALUE_KEY = "key"  # noqa: S105  # nosec B105 (a JSON field name)


@dataclass(frozen=True, kw_only=True)
class EnvironmentSecretsProps:
    environment_name: str
    # `Environment.secrets`: what the workload reads. Data stores and Grafana ask for theirs later.
    application_secrets: Sequence[SecretReference]
    config: SecretsConfig
    encryption_key: kms.IKey
    vpc: ec2.IVpc
    # Where rotation functions run; the private subnets with egress when None.
    rotation_subnets: ec2.SubnetSelection | None = None


class EnvironmentSecrets(Construct):
    """Every secret of one environment: made here, isolated here, handed to containers from here.

    Attributes: `secrets` (full name -> Secret), `rotation_function`, `audit`, `alarms`.
    Factories: `generated_secret`, `database_credentials` (+ `rotate_database_credentials`).
    Access: `container_secret` (a container's `secrets=`), `grant_read` (a role), both refusing
    anything of another environment (Property 6).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: EnvironmentSecretsProps) -> None:
        environment_name = props.environment_name
        for index, reference in enumerate(props.application_secrets):
            require_secret_of(environment_name, reference.name, f"{environment_name}.settings.secrets[{index}].name")
        super().__init__(scope, construct_id)
        self.environment_name = environment_name
        self.config = props.config
        self.encryption_key = props.encryption_key
        self.vpc = props.vpc
        self.rotation_subnets = props.rotation_subnets or ec2.SubnetSelection(
            subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
        )
        self._account = Stack.of(self).account
        self.secrets: dict[str, secretsmanager.Secret] = {}

        self.rotation_function = PythonHandler(
            self,
            "RotationFunction",
            props=PythonHandlerProps(
                source="secret_rotation",
                description=f"Rotates CashTrace {environment_name} application secrets (four-step protocol)",
                vpc=props.vpc,
                encryption_key=props.encryption_key,
                environment={"SECRET_VALUE_KEY": SECRET_VALUE_KEY},
                timeout_seconds=30,
            ),
        )
        # A tagged principal: inside the ABAC boundary of its own environment's secrets.
        Tags.of(self.rotation_function.function.role).add(ENVIRONMENT_TAG, environment_name)  # type: ignore[arg-type]

        for reference in props.application_secrets:
            purpose = reference.name.split("/", 2)[2]
            secret = self.generated_secret(
                purpose,
                description=f"CashTrace {environment_name} {purpose} (read as {reference.env_var})",
                generate=secretsmanager.SecretStringGenerator(
                    secret_string_template="{}",  # noqa: S106  # nosec B106 (an empty JSON object)
                    generate_string_key=SECRET_VALUE_KEY,
                    exclude_punctuation=True,
                    password_length=48,
                ),
            )
            secret.add_rotation_schedule(
                "Rotation",
                rotation_lambda=self.rotation_function.function,
                automatically_after=Duration.days(props.config.rotation_days_for(reference.name)),
            )

        # Confused deputy: only Secrets Manager acting for this account may start a rotation.
        for child in self.rotation_function.function.node.children:
            if isinstance(child, lambda_.CfnPermission) and child.principal == "secretsmanager.amazonaws.com":
                child.source_account = self._account

        self.audit = SecretsAudit(
            self,
            "Audit",
            props=SecretsAuditProps(
                environment_name=environment_name,
                encryption_key=props.encryption_key,
                log_retention_days=props.config.audit_log_retention_days,
            ),
        )
        self.alarms: list[cloudwatch.Alarm] = [self.audit.denied_access_alarm]

    # ---- factories ----------------------------------------------------------------------------

    def generated_secret(
        self,
        purpose: str,
        *,
        description: str,
        generate: secretsmanager.SecretStringGenerator,
        removal_policy: RemovalPolicy | None = None,
    ) -> secretsmanager.Secret:
        """A new secret `cashtrace/<env>/<purpose>` whose value Secrets Manager generates."""
        name = self._new_name(purpose)
        secret = secretsmanager.Secret(
            self,
            _construct_id(purpose),
            secret_name=name,
            description=description,
            encryption_key=self.encryption_key,
            removal_policy=removal_policy,
            generate_secret_string=generate,
        )
        self._isolate(secret)
        self.secrets[name] = secret
        return secret

    def database_credentials(self, *, username: str) -> rds.DatabaseSecret:
        """The database's master login `cashtrace/<env>/database`, for `rds.Credentials.from_secret`.

        Rotate it with `rotate_database_credentials` once the instance exists.
        """
        name = self._new_name("database")
        secret = rds.DatabaseSecret(
            self,
            _construct_id("database"),
            username=username,
            secret_name=name,
            encryption_key=self.encryption_key,
            # Changing the password rules then replaces the secret instead of leaving it stale.
            replace_on_password_criteria_changes=True,
        )
        self._isolate(secret)
        self.secrets[name] = secret
        return secret

    def rotate_database_credentials(
        self, instance: rds.DatabaseInstance, *, port: int
    ) -> secretsmanager.RotationSchedule:
        """Rotate the instance's login (from `database_credentials`) with AWS's managed PostgreSQL rotation.

        Hosted rotation (a CloudFormation transform) instead of `add_rotation_single_user`: the
        latter deploys a Serverless Application Repository app whose ARN lives in us-east-1.
        """
        attachment = instance.secret
        if attachment is None or not self._owns(attachment):
            raise DeploymentError(
                ErrorCode.SECRET_ACCESS_DENIED,
                f"{instance.node.path} does not log in with database_credentials() of {self.environment_name!r}",
                field="instance",
            )
        # Our own group: CDK's default one is described by its construct path, which differs
        # between a top-level and a pipeline-staged stack and would replace it (logical_ids.py).
        security_group = ec2.SecurityGroup(
            self,
            "DatabaseRotationSecurityGroup",
            vpc=self.vpc,
            description=f"Managed rotation of the CashTrace {self.environment_name} database credentials",
        )
        hosted = secretsmanager.HostedRotation.postgre_sql_single_user(
            vpc=self.vpc, vpc_subnets=self.rotation_subnets, security_groups=[security_group]
        )
        schedule = attachment.add_rotation_schedule(
            "Rotation",
            hosted_rotation=hosted,
            automatically_after=Duration.days(self.config.database_rotation_days),
        )
        instance.connections.allow_from(hosted, ec2.Port.tcp(port), "Managed rotation of the database credentials")
        return schedule

    # ---- access -------------------------------------------------------------------------------

    def secret(self, name: str) -> secretsmanager.Secret:
        try:
            return self.secrets[name]
        except KeyError:
            owner = secret_environment(name)
            elsewhere = f", it belongs to {owner!r}" if owner and owner != self.environment_name else ""
            raise DeploymentError(
                ErrorCode.SECRET_ACCESS_DENIED,
                f"{name!r} is not a secret of environment {self.environment_name!r}{elsewhere} "
                f"({sorted(self.secrets)})",
                field="secret_name",
            ) from None

    def container_secret(
        self, secret: str | SecretReference | secretsmanager.ISecret, field: str | None = None
    ) -> ecs.Secret:
        """A secret (by name, reference or object) for a container of this environment: its `secrets=`.

        The only way our containers get secrets (the API's and Grafana's): anything of another
        environment, or not made by this construct, is refused (Property 6). ECS injects the
        value at task start through the execution role, so it never appears in the template.
        """
        if isinstance(secret, SecretReference):
            secret = secret.name
        if isinstance(secret, str):
            return ecs.Secret.from_secrets_manager(self.secret(secret), field)
        if not self._owns(secret):
            owner = environment_of(secret)
            elsewhere = f", a secret of environment {owner!r}" if owner and owner != self.environment_name else ""
            raise DeploymentError(
                ErrorCode.SECRET_ACCESS_DENIED,
                f"cannot give {secret.node.path}{elsewhere} to a container of {self.environment_name!r}: "
                "only secrets made by its EnvironmentSecrets (Property 6)",
                field="secret",
            )
        return ecs.Secret.from_secrets_manager(secret, field)

    def grant_read(self, grantee: iam.IGrantable, name: str) -> iam.Grant:
        """Let a workload of this environment read one secret; refuse principals of other environments.

        The grantee's role gets this environment's tag, which puts it inside the ABAC boundary.
        """
        secret = self.secret(name)
        role = self._require_same_environment(grantee.grant_principal, name)
        Tags.of(role).add(ENVIRONMENT_TAG, self.environment_name)
        return secret.grant_read(grantee)

    # ---- internals ----------------------------------------------------------------------------

    def _new_name(self, purpose: str) -> str:
        name = f"cashtrace/{self.environment_name}/{purpose}"
        if name in self.secrets:
            raise DeploymentError(
                ErrorCode.CONFIG_INVALID, f"{name!r} exists already; every secret has one owner", field="secret_name"
            )
        return name

    def _owns(self, secret: secretsmanager.ISecret) -> bool:
        # Every secret made here (and its attachment to a database) lives under this construct.
        return secret.node.path.startswith(f"{self.node.path}/")

    def _isolate(self, secret: secretsmanager.Secret) -> None:
        Tags.of(secret).add(ENVIRONMENT_TAG, self.environment_name)
        for statement in isolation_statements(self.environment_name, self._account):
            secret.add_to_resource_policy(statement)
        policy = secret.node.try_find_child("Policy")
        if policy is not None and isinstance(policy.node.default_child, secretsmanager.CfnResourcePolicy):
            # Secrets Manager then refuses any later policy edit that would open the secret widely.
            policy.node.default_child.block_public_policy = True

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
