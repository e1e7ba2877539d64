"""`DatabaseAccess`: the API's own least-privilege database login, created by the stack and rotated without outage.

The master login (`cashtrace/<env>/database`) is for administration only. The API reads
`cashtrace/<env>/database-api`; a bootstrap custom resource (`lambdas/database_bootstrap`, in the
VPC, as the master) creates that user and its grants before the service starts, and AWS's hosted
alternating-users rotation keeps the previous user valid while running tasks still hold it.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CustomResource
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from cashtrace_constructs.custom_resource_layer import custom_resource_layer
from cashtrace_constructs.database import DATABASE_NAME, PostgresDatabase
from cashtrace_constructs.function import PythonHandler, PythonHandlerProps
from cashtrace_constructs.postgres_driver import postgres_driver_layer
from cashtrace_constructs.secrets import EnvironmentSecrets

API_USERNAME = "cashtrace_api"
# Holds the API's privileges; both alternating users are members, so a rotation changes none.
API_GROUP_ROLE = "cashtrace_api_access"
APPLICATION_SCHEMA = "public"
# Bump when lambdas/database_bootstrap changes what it creates: CloudFormation then runs it again.
BOOTSTRAP_REVISION = "1"


@dataclass(frozen=True, kw_only=True)
class DatabaseAccessProps:
    environment_name: str
    database: PostgresDatabase
    secrets: EnvironmentSecrets
    vpc: ec2.IVpc
    # Where the bootstrap function runs: subnets that reach the database and Secrets Manager.
    subnets: ec2.SubnetSelection
    encryption_key: kms.IKey


class DatabaseAccess(Construct):
    """`login` (the API's secret, attached to the instance), `bootstrap` (its function), `resource`, `rotation`."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DatabaseAccessProps) -> None:
        super().__init__(scope, construct_id)
        database, secrets = props.database, props.secrets
        master = database.secret
        login = secrets.database_login(username=API_USERNAME, master=master, dbname=DATABASE_NAME)
        self.login: secretsmanager.ISecret = login.attach(database.instance)

        security_group = ec2.SecurityGroup(
            self,
            "BootstrapSecurityGroup",
            vpc=props.vpc,
            description=f"CashTrace {props.environment_name} database bootstrap: the database and AWS APIs",
        )
        database.allow_from(security_group, "Database bootstrap (creates the API's user)")
        self.bootstrap = PythonHandler(
            self,
            "Bootstrap",
            props=PythonHandlerProps(
                source="database_bootstrap",
                description=f"Creates the CashTrace {props.environment_name} API's database user and grants",
                vpc=props.vpc,
                subnets=props.subnets,
                encryption_key=props.encryption_key,
                security_groups=[security_group],
                layers=[postgres_driver_layer(self), custom_resource_layer(self)],
                timeout_seconds=120,
                reserved_concurrency=1,
                environment={
                    "MASTER_SECRET_ARN": master.secret_arn,
                    "LOGIN_SECRET_ARN": self.login.secret_arn,
                    "GROUP_ROLE": API_GROUP_ROLE,
                    "SCHEMA": APPLICATION_SCHEMA,
                },
            ),
        )
        function = self.bootstrap.function
        environment = props.environment_name
        secrets.grant_read(function, f"cashtrace/{environment}/database")
        secrets.grant_read(function, f"cashtrace/{environment}/database-api")
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=function.function_arn,
            resource_type="Custom::DatabaseBootstrap",
            properties={
                "Revision": BOOTSTRAP_REVISION,
                "GroupRole": API_GROUP_ROLE,
                "Username": API_USERNAME,
                "Schema": APPLICATION_SCHEMA,
                # A replaced instance is a new database: bootstrap it again.
                "Endpoint": database.endpoint.socket_address,
            },
        )
        # The attachment's own resource: the secret must hold host and port (the attachment's
        # rotation schedule, its child, depends on this resource instead).
        attachment = self.login.node.default_child
        if attachment is not None:
            self.resource.node.add_dependency(attachment)
        self.resource.node.add_dependency(function)
        self.rotation = secrets.rotate_database_login(self.login, database.instance, master=master, port=database.port)
        # A rotation starts as soon as its schedule exists and first logs in as the current user,
        # so the user must exist before; the master's rotation must not change its password mid-bootstrap.
        self.rotation.node.add_dependency(self.resource)
        database.rotation.node.add_dependency(self.resource)
