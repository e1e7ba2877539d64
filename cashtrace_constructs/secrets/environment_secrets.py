"""`EnvironmentSecrets`: the one factory of an environment's secrets and the one way a container reads them.

Each secret is named `cashtrace/<env>/<purpose>`, tagged with its environment, encrypted with
the environment's key and carries a resource policy that denies every principal tagged for
another environment. Generated application secrets rotate with our function, third-party keys
are watched for age (`SecretAgeWatch`), the database logins rotate with AWS's hosted functions
(`rotation.py`: the master in place, the API's login with alternating users). Access is audited
by `SecretsAudit`.
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

from cashtrace_constructs.config import (
    SecretKind,
    SecretReference,
    SecretsConfig,
    require_secret_of,
    secret_environment,
)
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.function import PythonHandler, PythonHandlerProps
from cashtrace_constructs.secrets.age import SecretAgeWatch, SecretAgeWatchProps
from cashtrace_constructs.secrets.audit import SecretsAudit, SecretsAuditProps
from cashtrace_constructs.secrets.isolation import ENVIRONMENT_TAG, environment_of, isolation_statements
from cashtrace_constructs.secrets.rotation import (
    rotate_postgres_login,
    rotation_failure_alarm,
    rotation_security_group,
)

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

    Attributes: `secrets` (full name -> Secret), `rotation_function` (None without generated
    application secrets), `age_watch`, `audit`, `alarms` (critical), `rotation_alarms` (warnings).
    Factories: `generated_secret`, `database_credentials` (+ `rotate_database_credentials`),
    `database_login` (+ `rotate_database_login`).
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

        self.audit = SecretsAudit(
            self,
            "Audit",
            props=SecretsAuditProps(
                environment_name=environment_name,
                encryption_key=props.encryption_key,
                log_retention_days=props.config.audit_log_retention_days,
            ),
        )
        # Critical: a denied read is someone reaching for another environment's secret.
        self.alarms: list[cloudwatch.Alarm] = [self.audit.denied_access_alarm]
        # Warnings: a failed rotation leaves the current value working; an old third-party key still works.
        self.rotation_alarms: list[cloudwatch.Alarm] = []

        generated = [r for r in props.application_secrets if r.kind is SecretKind.GENERATED]
        third_party = [r for r in props.application_secrets if r.kind is SecretKind.THIRD_PARTY]
        # Only generated secrets have a value we may replace: the function exists only for them.
        self.rotation_function: PythonHandler | None = None
        if generated:
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
                description=f"CashTrace {environment_name} {purpose} (read as {reference.env_var}, "
                f"{reference.kind.value.replace('_', '-')})",
                generate=secretsmanager.SecretStringGenerator(
                    secret_string_template="{}",  # noqa: S106  # nosec B106 (an empty JSON object)
                    generate_string_key=SECRET_VALUE_KEY,
                    exclude_punctuation=True,
                    password_length=48,
                ),
            )
            if self.rotation_function is not None and reference.kind is SecretKind.GENERATED:
                secret.add_rotation_schedule(
                    "Rotation",
                    rotation_lambda=self.rotation_function.function,
                    automatically_after=Duration.days(props.config.rotation_days_for(reference.name)),
                )
                self._alarm_on_failed_rotation(secret, reference.name)

        if self.rotation_function is not None:
            # Confused deputy: only Secrets Manager acting for this account may start a rotation.
            for child in self.rotation_function.function.node.children:
                if isinstance(child, lambda_.CfnPermission) and child.principal == "secretsmanager.amazonaws.com":
                    child.source_account = self._account

        self.age_watch: SecretAgeWatch | None = None
        if third_party:
            self.age_watch = SecretAgeWatch(
                self,
                "AgeWatch",
                props=SecretAgeWatchProps(
                    environment_name=environment_name,
                    secrets={r.name: self.secrets[r.name] for r in third_party},
                    max_age_days=props.config.third_party_max_age_days,
                    vpc=props.vpc,
                    subnets=self.rotation_subnets,
                    encryption_key=props.encryption_key,
                ),
            )
            self.rotation_alarms.extend(self.age_watch.alarms)

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
        """The master login `cashtrace/<env>/database` (for `rds.Credentials.from_secret`); administration only."""
        # Changing the password rules then replaces the secret instead of leaving it stale.
        return self._database_secret("database", username=username, replace_on_criteria_changes=True)

    def rotate_database_credentials(
        self, instance: rds.DatabaseInstance, *, port: int
    ) -> secretsmanager.RotationSchedule:
        """Rotate the instance's master login (from `database_credentials`) in place, with AWS's hosted function.

        Hosted rotation (a CloudFormation transform) instead of `add_rotation_single_user`: the
        latter deploys a Serverless Application Repository app whose ARN lives in us-east-1. The
        master login is for administration only, so rotating it in place interrupts no task.
        """
        attachment = instance.secret
        if attachment is None or not self._owns(attachment):
            raise DeploymentError(
                ErrorCode.SECRET_ACCESS_DENIED,
                f"{instance.node.path} does not log in with database_credentials() of {self.environment_name!r}",
                field="instance",
            )
        return self._rotate_login(attachment, instance, port=port, purpose="database", master=None)

    def database_login(self, *, username: str, master: secretsmanager.ISecret, dbname: str) -> rds.DatabaseSecret:
        """`cashtrace/<env>/database-api`: the API's own login, with `masterarn` for alternating-users rotation.

        Attach it to the instance for host and port; `DatabaseAccess`'s bootstrap creates the user.
        """
        return self._database_secret("database-api", username=username, master=master, dbname=dbname)

    def _database_secret(
        self,
        purpose: str,
        *,
        username: str,
        master: secretsmanager.ISecret | None = None,
        dbname: str | None = None,
        replace_on_criteria_changes: bool = False,
    ) -> rds.DatabaseSecret:
        name = self._new_name(purpose)
        secret = rds.DatabaseSecret(
            self,
            _construct_id(purpose),
            username=username,
            dbname=dbname,
            master_secret=master,
            secret_name=name,
            encryption_key=self.encryption_key,
            # Its logical id then embeds the absolute path (logical_ids.py): only the master keeps it.
            replace_on_password_criteria_changes=replace_on_criteria_changes,
        )
        self._isolate(secret)
        self.secrets[name] = secret
        return secret

    def rotate_database_login(
        self,
        login: secretsmanager.ISecret,
        instance: rds.DatabaseInstance,
        *,
        master: secretsmanager.ISecret,
        port: int,
    ) -> secretsmanager.RotationSchedule:
        """Alternating-users rotation of `login` (from `database_login`, attached), run as `master`."""
        if not self._owns(login) or not self._owns(master):
            raise DeploymentError(
                ErrorCode.SECRET_ACCESS_DENIED,
                f"{login.node.path} and its master must be logins made by {self.environment_name!r}",
                field="login",
            )
        return self._rotate_login(login, instance, port=port, purpose="database-api", master=master)

    def _rotate_login(
        self,
        login: secretsmanager.ISecret,
        instance: rds.DatabaseInstance,
        *,
        port: int,
        purpose: str,
        master: secretsmanager.ISecret | None,
    ) -> secretsmanager.RotationSchedule:
        rotation = rotate_postgres_login(
            self,
            login=login,
            purpose=purpose,
            environment_name=self.environment_name,
            days=self.config.database_rotation_days,
            vpc=self.vpc,
            subnets=self.rotation_subnets,
            security_group=rotation_security_group(self, self.vpc, self.environment_name, instance, port),
            master=master,
            trail_logs=self.audit.log_group,
        )
        self.rotation_alarms.extend(rotation.alarms)
        return rotation.schedule

    def _alarm_on_failed_rotation(self, secret: secretsmanager.ISecret, name: str) -> None:
        self.rotation_alarms.append(
            rotation_failure_alarm(
                self,
                f"{_construct_id(name.rsplit('/', 1)[-1])}RotationFailedAlarm",
                trail_logs=self.audit.log_group,
                secret=secret,
                name=name,
            )
        )

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
