"""EnvironmentSecrets: the real app's templates, plus one small stack for grants and the database secret."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack, Tags
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Template

from cashtrace_constructs.checks import SecretIsolation, SynthesizedStack, evaluate
from cashtrace_constructs.checks.template import of_type
from cashtrace_constructs.config import SecretKind, SecretReference, SecretsConfig
from cashtrace_constructs.encryption import EnvironmentKey, EnvironmentKeyProps
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.logical_ids import make_unique_id
from cashtrace_constructs.secrets import EnvironmentSecrets, EnvironmentSecretsProps, environment_of
from stacks.environments import all_environments
from tests.conftest import ENVIRONMENT_STACKS
from tests.synth import make_app

ACCOUNT = "222222222222"


def _env_of(stack_name: str) -> str:
    return stack_name.removeprefix("CashTrace-").lower()


def _by_ref(template: dict[str, Any], value: Any) -> dict[str, Any]:
    logical_id = value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0]
    return dict(template["Resources"][logical_id])


# ---- the real app ----


def _secret_name(template: dict[str, Any], value: Any) -> str:
    """The name of the secret a reference names, through a target attachment if need be."""
    resource = _by_ref(template, value)
    if resource["Type"] == "AWS::SecretsManager::SecretTargetAttachment":
        resource = _by_ref(template, resource["Properties"]["SecretId"])
    return str(resource["Properties"]["Name"])


@pytest.mark.parametrize("stack_name", ENVIRONMENT_STACKS)
def test_every_secret_is_named_tagged_and_encrypted_for_its_environment(
    stack_name: str, templates: dict[str, dict[str, Any]]
) -> None:
    template, env = templates[stack_name], _env_of(stack_name)
    secrets = [r["Properties"] for _, r in of_type(template, "AWS::SecretsManager::Secret")]
    assert secrets
    for secret in secrets:
        assert secret["Name"].startswith(f"cashtrace/{env}/")
        assert {"Key": "environment", "Value": env} in secret["Tags"]
        assert _by_ref(template, secret["KmsKeyId"])["Type"] == "AWS::KMS::Key"


@pytest.mark.parametrize("stack_name", ENVIRONMENT_STACKS)
def test_every_secret_denies_other_environments_other_accounts_and_workload_retagging(
    stack_name: str, templates: dict[str, dict[str, Any]]
) -> None:
    template, env = templates[stack_name], _env_of(stack_name)
    policies = {
        r["Properties"]["SecretId"]["Ref"]: r["Properties"]["ResourcePolicy"]["Statement"]
        for _, r in of_type(template, "AWS::SecretsManager::ResourcePolicy")
    }
    assert all(
        r["Properties"]["BlockPublicPolicy"] is True
        for _, r in of_type(template, "AWS::SecretsManager::ResourcePolicy")
    )
    for logical_id, _ in of_type(template, "AWS::SecretsManager::Secret"):
        statements = {s.get("Sid"): s for s in policies[logical_id]}
        other_env = statements["DenyPrincipalsOfOtherEnvironments"]
        assert other_env["Effect"] == "Deny" and other_env["Principal"] == {"AWS": "*"}
        assert other_env["Condition"]["StringNotEquals"] == {"aws:PrincipalTag/environment": env}
        # Only tagged principals: untagged deploy roles and admins are not locked out.
        assert other_env["Condition"]["Null"] == {"aws:PrincipalTag/environment": "false"}
        other_account = statements["DenyPrincipalsOfOtherAccounts"]["Condition"]
        assert other_account["BoolIfExists"] == {"aws:PrincipalIsAWSService": "false"}
        retag = statements["DenyTagChangesByWorkloads"]
        assert set(retag["Action"]) == {"secretsmanager:TagResource", "secretsmanager:UntagResource"}
        assert not any(s["Effect"] == "Allow" for s in policies[logical_id]), "the policy only ever denies"


@pytest.mark.parametrize("stack_name", ENVIRONMENT_STACKS)
def test_third_party_keys_never_rotate_and_have_an_age_alarm(
    stack_name: str, templates: dict[str, dict[str, Any]]
) -> None:
    template, env = templates[stack_name], _env_of(stack_name)
    config = {c.name: c for c in all_environments()}[env]
    third_party = {r.name for r in config.settings.secrets if r.kind is SecretKind.THIRD_PARTY}
    assert f"cashtrace/{env}/api-keys" in third_party
    rotated = {
        _secret_name(template, r["Properties"]["SecretId"])
        for _, r in of_type(template, "AWS::SecretsManager::RotationSchedule")
    }
    assert not rotated & third_party, "a rotation would overwrite a key only its issuer can make"
    ages = {
        dimension["Value"]: alarm["Properties"]["Threshold"]
        for _, alarm in of_type(template, "AWS::CloudWatch::Alarm")
        if alarm["Properties"].get("MetricName") == "SecretAgeDays"
        for dimension in alarm["Properties"]["Dimensions"]
    }
    assert ages == {name: config.secrets.third_party_max_age_days for name in third_party}


@pytest.mark.parametrize("stack_name", ENVIRONMENT_STACKS)
def test_the_database_logins_rotate_master_in_place_and_the_api_with_alternating_users(
    stack_name: str, templates: dict[str, dict[str, Any]]
) -> None:
    template, env = templates[stack_name], _env_of(stack_name)
    config = {c.name: c for c in all_environments()}[env]
    hosted = {
        _secret_name(template, r["Properties"]["SecretId"]): r["Properties"]
        for _, r in of_type(template, "AWS::SecretsManager::RotationSchedule")
        if "HostedRotationLambda" in r["Properties"]
    }
    assert set(hosted) == {f"cashtrace/{env}/database", f"cashtrace/{env}/database-api"}
    master, api = hosted[f"cashtrace/{env}/database"], hosted[f"cashtrace/{env}/database-api"]
    assert master["HostedRotationLambda"]["RotationType"] == "PostgreSQLSingleUser"
    assert api["HostedRotationLambda"]["RotationType"] == "PostgreSQLMultiUser"
    assert _secret_name(template, api["HostedRotationLambda"]["MasterSecretArn"]) == f"cashtrace/{env}/database"
    for rotation in hosted.values():
        expression = rotation["RotationRules"]["ScheduleExpression"]
        assert expression == f"rate({config.secrets.database_rotation_days} days)"
        # A named function, so its Errors and Throttles alarms can find it.
        name = rotation["HostedRotationLambda"]["RotationLambdaName"]
        watched = {
            a["Properties"]["MetricName"]
            for _, a in of_type(template, "AWS::CloudWatch::Alarm")
            if {"Name": "FunctionName", "Value": name} in a["Properties"].get("Dimensions", [])
        }
        assert watched == {"Errors", "Throttles"}


@pytest.mark.parametrize("stack_name", ENVIRONMENT_STACKS)
def test_a_multi_region_trail_stored_here_audits_secret_access_and_alarms_on_denials(
    stack_name: str, templates: dict[str, dict[str, Any]]
) -> None:
    template = templates[stack_name]
    (trail,) = [r["Properties"] for _, r in of_type(template, "AWS::CloudTrail::Trail")]
    assert trail["EnableLogFileValidation"] is True and trail["IsMultiRegionTrail"] is True
    assert "KMSKeyId" in trail and "CloudWatchLogsLogGroupArn" in trail
    bucket = _by_ref(template, trail["S3BucketName"])["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert "LoggingConfiguration" in bucket
    encryption = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert encryption["SSEAlgorithm"] == "aws:kms"
    bucket_policies = [r["Properties"]["PolicyDocument"] for _, r in of_type(template, "AWS::S3::BucketPolicy")]
    assert any(
        s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for document in bucket_policies
        for s in document["Statement"]
    )
    (metric_filter,) = [
        r["Properties"]
        for _, r in of_type(template, "AWS::Logs::MetricFilter")
        if r["Properties"]["MetricTransformations"][0]["MetricName"] == "DeniedSecretAccess"
    ]
    assert "secretsmanager.amazonaws.com" in metric_filter["FilterPattern"]
    assert "AccessDenied" in metric_filter["FilterPattern"]
    transformation = metric_filter["MetricTransformations"][0]
    alarms = [
        r["Properties"]
        for _, r in of_type(template, "AWS::CloudWatch::Alarm")
        if r["Properties"].get("MetricName") == transformation["MetricName"]
    ]
    assert len(alarms) == 1 and alarms[0]["Threshold"] == 1


@pytest.mark.parametrize("stack_name", ENVIRONMENT_STACKS)
def test_secrets_first_made_by_other_constructs_keep_their_deployed_logical_ids(
    stack_name: str, templates: dict[str, dict[str, Any]]
) -> None:
    # A changed logical id replaces the secret: a new database password, a new Redis AUTH token.
    template, env = templates[stack_name], _env_of(stack_name)
    by_name = {r["Properties"]["Name"]: k for k, r in of_type(template, "AWS::SecretsManager::Secret")}
    assert by_name[f"cashtrace/{env}/cache-auth-token"] == make_unique_id(["Cache", "AuthToken", "Resource"])
    assert by_name[f"cashtrace/{env}/grafana-admin"] == make_unique_id(["Grafana", "AdminSecret", "Resource"])
    # The database login's id is its owner's id plus a hash of its password rules.
    database_login = by_name[f"cashtrace/{env}/database"]
    assert database_login.startswith(make_unique_id(["Database", "Instance", "Secret"]))
    assert len(database_login) == len(make_unique_id(["Database", "Instance", "Secret"])) + 32


# ---- a small stack: grants, refusals and the database secret ----


def _stack(app: App, env: str = "staging", account: str = ACCOUNT) -> tuple[Stack, EnvironmentSecrets, ec2.Vpc]:
    stack = Stack(
        app,
        f"CashTrace-{env.capitalize()}",
        env=Environment(account=account, region="af-south-1"),
        tags={"environment": env},
    )
    vpc = ec2.Vpc(stack, "Vpc", availability_zones=["af-south-1a", "af-south-1b"], nat_gateways=1)
    key = EnvironmentKey(stack, "Key", props=EnvironmentKeyProps(environment_name=env))
    secrets = EnvironmentSecrets(
        stack,
        "Secrets",
        props=EnvironmentSecretsProps(
            environment_name=env,
            application_secrets=[
                SecretReference(f"cashtrace/{env}/api-keys", "API_KEYS"),
                SecretReference(f"cashtrace/{env}/signing-key", "SIGNING_KEY", SecretKind.GENERATED),
            ],
            config=SecretsConfig(database_rotation_days=14),
            encryption_key=key.key,
            vpc=vpc,
        ),
    )
    return stack, secrets, vpc


@pytest.fixture(scope="module")
def small() -> dict[str, Any]:
    app = make_app()
    stack, secrets, vpc = _stack(app)
    workload = iam.Role(stack, "Workload", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    secrets.grant_read(workload, "cashtrace/staging/api-keys")
    database = rds.DatabaseInstance(
        stack,
        "Database",
        engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_17),
        instance_type=ec2.InstanceType("t4g.micro"),
        vpc=vpc,
        credentials=rds.Credentials.from_secret(secrets.database_credentials(username="cashtrace"), "cashtrace"),
    )
    secrets.rotate_database_credentials(database, port=5432)
    login = secrets.database_login(username="cashtrace_api", master=database.secret, dbname="cashtrace")  # type: ignore[arg-type]
    secrets.rotate_database_login(login.attach(database), database, master=database.secret, port=5432)  # type: ignore[arg-type]
    task = ecs.FargateTaskDefinition(stack, "Task")
    task.add_container(
        "App",
        image=ecs.ContainerImage.from_registry("public.ecr.aws/nginx/nginx:1.27"),
        secrets={
            "API_KEYS": secrets.container_secret("cashtrace/staging/api-keys"),
            "DATABASE_PASSWORD": secrets.container_secret(database.secret, "password"),  # type: ignore[arg-type]
        },
    )
    template = Template.from_stack(stack).to_json()
    return {"template": template, "secrets": secrets, "stack": stack}


def test_grant_read_tags_the_workload_and_grants_only_that_secret(small: dict[str, Any]) -> None:
    template = small["template"]
    roles = {k: r for k, r in of_type(template, "AWS::IAM::Role") if k.startswith("Workload")}
    ((role_id, role),) = roles.items()
    assert {"Key": "environment", "Value": "staging"} in role["Properties"]["Tags"]
    (policy,) = [
        r["Properties"]["PolicyDocument"]
        for _, r in of_type(template, "AWS::IAM::Policy")
        if r["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    secret_grants = [s for s in policy["Statement"] if "secretsmanager:GetSecretValue" in s["Action"]]
    (grant,) = secret_grants
    assert _by_ref(template, grant["Resource"])["Properties"]["Name"] == "cashtrace/staging/api-keys"


def test_the_database_secret_is_isolated_and_rotated_by_managed_postgres_rotation(small: dict[str, Any]) -> None:
    template = small["template"]
    assert "AWS::SecretsManager-2024-09-16" in template["Transform"]
    (db_secret_id,) = [
        k
        for k, r in of_type(template, "AWS::SecretsManager::Secret")
        if r["Properties"]["Name"] == "cashtrace/staging/database"
    ]
    assert {"Key": "environment", "Value": "staging"} in template["Resources"][db_secret_id]["Properties"]["Tags"]
    (schedule,) = [
        r["Properties"]
        for _, r in of_type(template, "AWS::SecretsManager::RotationSchedule")
        if r["Properties"].get("HostedRotationLambda", {}).get("RotationType") == "PostgreSQLSingleUser"
    ]
    # The schedule names the attachment, whose Ref is the database secret's ARN.
    attachment = _by_ref(template, schedule["SecretId"])
    assert attachment["Properties"]["SecretId"] == {"Ref": db_secret_id}
    hosted = schedule["HostedRotationLambda"]
    assert hosted["RotationType"] == "PostgreSQLSingleUser"
    assert "KmsKeyArn" in hosted and "VpcSubnetIds" in hosted
    assert schedule["RotationRules"]["ScheduleExpression"] == "rate(14 days)"
    (policy,) = [
        r["Properties"]["ResourcePolicy"]
        for _, r in of_type(template, "AWS::SecretsManager::ResourcePolicy")
        if r["Properties"]["SecretId"] == {"Ref": db_secret_id}
    ]
    assert any(s.get("Sid") == "DenyPrincipalsOfOtherEnvironments" for s in policy["Statement"])
    assert all(
        r["Properties"]["BlockPublicPolicy"] for _, r in of_type(template, "AWS::SecretsManager::ResourcePolicy")
    )
    ingress = [r["Properties"] for _, r in of_type(template, "AWS::EC2::SecurityGroupIngress")]
    assert any(rule.get("Description") == "Managed rotation of the database credentials" for rule in ingress)


def test_the_isolation_rule_accepts_the_small_stack_with_its_database_secret(small: dict[str, Any]) -> None:
    synthesized = SynthesizedStack(
        name="CashTrace-Staging",
        construct_path="CashTrace-Staging",
        template=small["template"],
        account=ACCOUNT,
        tags={"environment": "staging"},
    )
    assert evaluate([SecretIsolation()], [synthesized]) == []


def test_the_construct_exposes_its_alarms(small: dict[str, Any]) -> None:
    secrets: EnvironmentSecrets = small["secrets"]
    assert secrets.alarms == [secrets.audit.denied_access_alarm]
    # Three rotated secrets (signing key, master, API login): one failure alarm each; the two hosted
    # functions: errors and throttles; the third-party key: its age.
    assert len(secrets.rotation_alarms) == 3 + 2 * 2 + 1


def test_generated_secrets_rotate_with_the_tagged_function_and_third_party_keys_do_not(small: dict[str, Any]) -> None:
    template = small["template"]
    schedules = {
        _secret_name(template, r["Properties"]["SecretId"]): r["Properties"]
        for _, r in of_type(template, "AWS::SecretsManager::RotationSchedule")
        if "RotationLambdaARN" in r["Properties"]
    }
    assert set(schedules) == {"cashtrace/staging/signing-key"}
    function = _by_ref(template, schedules["cashtrace/staging/signing-key"]["RotationLambdaARN"])
    role = _by_ref(template, function["Properties"]["Role"])
    assert {"Key": "environment", "Value": "staging"} in role["Properties"]["Tags"]
    permissions = [
        r["Properties"]
        for _, r in of_type(template, "AWS::Lambda::Permission")
        if r["Properties"]["Principal"] == "secretsmanager.amazonaws.com"
    ]
    assert permissions and all(p["SourceAccount"] == ACCOUNT for p in permissions)


def test_each_rotated_secret_has_a_failure_alarm_from_the_audit_trail(small: dict[str, Any]) -> None:
    template = small["template"]
    filters = {
        r["Properties"]["MetricTransformations"][0]["MetricName"]: json.dumps(r["Properties"]["FilterPattern"])
        for _, r in of_type(template, "AWS::Logs::MetricFilter")
    }
    for purpose in ("signing-key", "database", "database-api"):
        pattern = filters[f"RotationFailed-{purpose}"]
        assert "RotationFailed" in pattern and "RotationAbandoned" in pattern
        assert f"cashtrace/staging/{purpose}" in pattern
        alarms = [
            a["Properties"]
            for _, a in of_type(template, "AWS::CloudWatch::Alarm")
            if a["Properties"].get("MetricName") == f"RotationFailed-{purpose}"
        ]
        assert len(alarms) == 1 and alarms[0]["Threshold"] == 1
    assert "RotationFailed-api-keys" not in filters


def test_grant_read_refuses_a_role_tagged_for_another_environment() -> None:
    app = make_app()
    stack, secrets, _ = _stack(app)
    intruder = iam.Role(stack, "ProdWorkload", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    Tags.of(intruder).add("environment", "prod")
    with pytest.raises(DeploymentError) as refused:
        secrets.grant_read(intruder, "cashtrace/staging/api-keys")
    assert refused.value.code is ErrorCode.SECRET_ACCESS_DENIED and "prod" in str(refused.value)


def test_grant_read_refuses_a_role_of_another_environments_stack_and_imported_roles() -> None:
    app = make_app()
    _, secrets, _ = _stack(app)
    prod = Stack(
        app, "Prod", env=Environment(account="333333333333", region="af-south-1"), tags={"environment": "prod"}
    )
    prod_role = iam.Role(prod, "Workload", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    assert environment_of(prod_role) == "prod"
    imported = iam.Role.from_role_arn(prod, "Imported", "arn:aws:iam::222222222222:role/anything")
    for grantee in (prod_role, imported):
        with pytest.raises(DeploymentError) as refused:
            secrets.grant_read(grantee, "cashtrace/staging/api-keys")
        assert refused.value.code is ErrorCode.SECRET_ACCESS_DENIED


def test_unknown_secret_names_and_foreign_references_are_refused() -> None:
    app = make_app()
    stack, secrets, vpc = _stack(app)
    role = iam.Role(stack, "Workload", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    with pytest.raises(DeploymentError) as unknown:
        secrets.grant_read(role, "cashtrace/prod/api-keys")
    assert unknown.value.code is ErrorCode.SECRET_ACCESS_DENIED
    with pytest.raises(DeploymentError) as foreign:
        EnvironmentSecrets(
            stack,
            "Foreign",
            props=EnvironmentSecretsProps(
                environment_name="staging",
                application_secrets=[SecretReference("cashtrace/prod/api-keys", "API_KEYS")],
                config=SecretsConfig(),
                encryption_key=secrets.encryption_key,
                vpc=vpc,
            ),
        )
    assert foreign.value.code is ErrorCode.SECRET_ACCESS_DENIED
    assert foreign.value.field == "staging.settings.secrets[0].name"


# ---- containers: the production path of every secret a task reads (Property 6) ----


def test_a_container_reads_its_environments_secrets_through_the_execution_role(small: dict[str, Any]) -> None:
    template = small["template"]
    [(_, task)] = list(of_type(template, "AWS::ECS::TaskDefinition"))
    [container] = task["Properties"]["ContainerDefinitions"]
    by_variable = {s["Name"]: s["ValueFrom"] for s in container["Secrets"]}
    [api_keys] = [k for k, r in of_type(template, "AWS::SecretsManager::Secret") if "api-keys" in json.dumps(r)]
    assert by_variable["API_KEYS"] == {"Ref": api_keys}
    # The database login as attached to the instance (its Ref waits for host and port), password only.
    [attachment] = [
        k
        for k, r in of_type(template, "AWS::SecretsManager::SecretTargetAttachment")
        if _secret_name(template, r["Properties"]["SecretId"]) == "cashtrace/staging/database"
    ]
    password = json.dumps(by_variable["DATABASE_PASSWORD"])
    assert json.dumps({"Ref": attachment}) in password and ":password::" in password
    execution_role = task["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0]
    [policy] = [
        r["Properties"]["PolicyDocument"]
        for _, r in of_type(template, "AWS::IAM::Policy")
        if r["Properties"]["Roles"] == [{"Ref": execution_role}]
    ]
    [read] = [s["Resource"] for s in policy["Statement"] if "secretsmanager:GetSecretValue" in s["Action"]]
    assert sorted(read, key=json.dumps) == sorted([{"Ref": api_keys}, {"Ref": attachment}], key=json.dumps)


def test_a_container_cannot_be_given_another_environments_secret() -> None:
    app = make_app()
    _, staging, _ = _stack(app, "staging")
    prod_stack, prod, _ = _stack(app, "prod", account="333333333333")
    prod_token = prod.generated_secret(
        "cache-auth-token",
        description="Redis AUTH token of CashTrace prod",
        generate=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True),
    )
    task = ecs.FargateTaskDefinition(staging.node.scope, "Task")  # type: ignore[arg-type]
    for foreign, field in (
        (prod_token, "secret"),
        (prod.secret("cashtrace/prod/api-keys"), "secret"),
        ("cashtrace/prod/api-keys", "secret_name"),
        (SecretReference("cashtrace/prod/api-keys", "API_KEYS"), "secret_name"),
    ):
        with pytest.raises(DeploymentError) as refused:
            task.add_container(
                "App",
                image=ecs.ContainerImage.from_registry("public.ecr.aws/nginx/nginx:1.27"),
                secrets={"TOKEN": staging.container_secret(foreign)},
            )
        assert refused.value.code is ErrorCode.SECRET_ACCESS_DENIED
        assert refused.value.field == field
        assert "'prod'" in str(refused.value)
    assert task.default_container is None, "nothing reached the task definition"
    assert prod_stack.node.try_find_child("Task") is None


def test_a_container_cannot_be_given_a_secret_made_outside_environment_secrets() -> None:
    app = make_app()
    stack, secrets, _ = _stack(app)
    stray = secretsmanager.Secret(stack, "Stray", secret_name="cashtrace/staging/stray")
    with pytest.raises(DeploymentError) as refused:
        secrets.container_secret(stray)
    assert refused.value.code is ErrorCode.SECRET_ACCESS_DENIED and "Stray" in str(refused.value)


def test_every_secret_has_one_maker() -> None:
    app = make_app()
    _, secrets, _ = _stack(app)
    with pytest.raises(DeploymentError) as twice:
        secrets.generated_secret(
            "api-keys", description="again", generate=secretsmanager.SecretStringGenerator(password_length=32)
        )
    assert twice.value.code is ErrorCode.CONFIG_INVALID


def test_the_database_rotation_refuses_an_instance_with_other_credentials() -> None:
    app = make_app()
    stack, secrets, vpc = _stack(app)
    database = rds.DatabaseInstance(
        stack,
        "Database",
        engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_17),
        instance_type=ec2.InstanceType("t4g.micro"),
        vpc=vpc,
        credentials=rds.Credentials.from_generated_secret("cashtrace"),
    )
    with pytest.raises(DeploymentError) as refused:
        secrets.rotate_database_credentials(database, port=5432)
    assert refused.value.code is ErrorCode.SECRET_ACCESS_DENIED
