"""Property 4 inside a production stack: the promotion gate, and the pipeline account's side of what it reads.

`PromotionGate` (in the production stack): a custom resource (`lambdas/promotion_gate`) that the
task definition and the stateful resources depend on, so CloudFormation asks it before anything
else changes whenever the release does. It accepts only a digest the deployment record shows
verified (a pipeline staging deployment whose integration tests passed, and that execution's
approval), or an explicit break-glass reason, which it records.

`DeploymentRecordReader` (in the pipeline account, beside `DeploymentRecord`): the one role the
gates may assume there, allowed GetItem and Query on the record's table and nothing else, and the
parameter that names the table (CloudFormation generates its name, so a failed first deploy can be
retried). Role and parameter have fixed names because the other account must find them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from aws_cdk import Aws, CfnResource, CustomResource, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_ssm as ssm
from constructs import Construct, IConstruct

from cashtrace_constructs.config import DEPLOYMENT_RECORD_READER_ROLE, DEPLOYMENT_RECORD_TABLE_PARAMETER, ServiceConfig
from cashtrace_constructs.custom_resource_layer import custom_resource_layer
from cashtrace_constructs.function import PythonHandler, PythonHandlerProps

GATE_RESOURCE_TYPE = "Custom::PromotionGate"
RECORD_READER_ROLE_NAME = DEPLOYMENT_RECORD_READER_ROLE
RECORD_TABLE_PARAMETER = DEPLOYMENT_RECORD_TABLE_PARAMETER
RECORD_INDEX = "byEnvironment"
# The pipeline's approval follows its Staging stage; its event reaches the record seconds after the
# Prod stage starts, and the recorder retries a failed write after a minute or two.
APPROVAL_WAIT_SECONDS = 150


def gate_role_name(environment_name: str) -> str:
    """The gate function's role: the reader role's trust policy names it from the pipeline account."""
    return f"cashtrace-{environment_name}-promotion-gate"


@dataclass(frozen=True, kw_only=True)
class PromotionGateProps:
    environment_name: str
    # The release this stack deploys (digest and commit) and the tooling account keeping the record.
    service: ServiceConfig
    vpc: ec2.IVpc
    subnets: ec2.SubnetSelection
    encryption_key: kms.IKey
    # The environment whose pipeline deployment and integration tests verify a release (promotion order).
    verified_in: str = "staging"
    # `-c break-glass="<reason>"`: the check is skipped, the reason recorded; None on every pipeline path.
    break_glass_reason: str | None = None


class PromotionGate(Construct):
    """`handler` (its `PythonHandler`), `resource` (the custom resource), `evidence` (what it decided on)."""

    def __init__(self, scope: Construct, construct_id: str, *, props: PromotionGateProps) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        environment, record_account = props.environment_name, props.service.repository_account
        reader_role_arn = f"arn:{stack.partition}:iam::{record_account}:role/{RECORD_READER_ROLE_NAME}"
        self.handler = PythonHandler(
            self,
            "Function",
            props=PythonHandlerProps(
                source="promotion_gate",
                description=f"CashTrace {environment}: deploys only a release {props.verified_in} verified",
                vpc=props.vpc,
                subnets=props.subnets,
                encryption_key=props.encryption_key,
                layers=[custom_resource_layer(self)],
                timeout_seconds=APPROVAL_WAIT_SECONDS + 60,
                reserved_concurrency=1,
                role_name=gate_role_name(environment),
                environment={
                    "ENVIRONMENT": environment,
                    "VERIFIED_IN": props.verified_in,
                    "RECORD_ROLE_ARN": reader_role_arn,
                    "RECORD_TABLE_PARAMETER": RECORD_TABLE_PARAMETER,
                    "APPROVAL_WAIT_SECONDS": str(APPROVAL_WAIT_SECONDS),
                },
            ),
        )
        function = self.handler.function
        for actions, resource in (
            (["sts:AssumeRole"], reader_role_arn),
            # Its decisions go to this account's default bus, forwarded to the deployment record.
            (["events:PutEvents"], f"arn:{stack.partition}:events:{stack.region}:{stack.account}:event-bus/default"),
            # Only to tell a rollback (never blocked) from a deploy.
            (["cloudformation:DescribeStacks"], Aws.STACK_ID),
        ):
            function.add_to_role_policy(iam.PolicyStatement(actions=actions, resources=[resource]))
        properties = {
            "Environment": environment,
            # A new release changes these, so CloudFormation asks the gate again before the task definition.
            "ImageDigest": props.service.image_digest,
            "CommitSha": props.service.commit_sha,
        }
        if props.break_glass_reason:
            properties["BreakGlassReason"] = props.break_glass_reason
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=function.function_arn,
            resource_type=GATE_RESOURCE_TYPE,
            properties=properties,
        )
        # The role's policy must exist before the function first runs, or AssumeRole is denied.
        self.resource.node.add_dependency(function)
        self.evidence = self.resource.get_att_string("Evidence")
        self.break_glass_reason = props.break_glass_reason

    def guard(self, *constructs: IConstruct) -> None:
        """Make each construct's CloudFormation resource wait for the gate (and so fail with it)."""
        gate = cast(CfnResource, self.resource.node.default_child)
        for construct in constructs:
            resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
            if not isinstance(resource, CfnResource):
                raise TypeError(f"{construct.node.path} has no CloudFormation resource to guard")
            resource.add_resource_dependency(gate)


@dataclass(frozen=True, kw_only=True)
class DeploymentRecordReaderProps:
    table: dynamodb.ITableV2
    encryption_key: kms.IKey
    # Environment name -> account of each production stack whose gate reads the record.
    gate_accounts: Mapping[str, str]


class DeploymentRecordReader(Construct):
    """`role` (what the gates assume) and `parameter` (the table's name), in the pipeline account."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DeploymentRecordReaderProps) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        table = props.table
        self.parameter = ssm.StringParameter(
            self,
            "TableName",
            parameter_name=RECORD_TABLE_PARAMETER,
            string_value=table.table_name,
            description="The CashTrace deployment record's table, for the production stacks' promotion gates",
        )
        # The gates' roles by name, through their accounts: IAM refuses a principal ARN naming a role that
        # does not exist yet, and the pipeline stack is deployed before any environment.
        accounts = sorted(set(props.gate_accounts.values()))
        if not accounts:
            raise ValueError("DeploymentRecordReader needs at least one gate account")
        self.role = iam.Role(
            self,
            "Role",
            role_name=RECORD_READER_ROLE_NAME,
            description="Assumed by the production stacks' promotion gates: reads the deployment record only",
            max_session_duration=Duration.hours(1),
            assumed_by=self._gates_of(props.gate_accounts, accounts[0]),
        )
        for account in accounts[1:]:
            self.role.assume_role_policy.add_statements(  # type: ignore[union-attr]
                iam.PolicyStatement(
                    actions=["sts:AssumeRole"], principals=[self._gates_of(props.gate_accounts, account)]
                )
            )
        # A managed policy, not the grants' inline one: GetItem and Query only, no Scan, no write.
        iam.ManagedPolicy(
            self,
            "ReadRecord",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    actions=["dynamodb:GetItem", "dynamodb:Query"],
                    resources=[table.table_arn, f"{table.table_arn}/index/{RECORD_INDEX}"],
                ),
                iam.PolicyStatement(
                    actions=["kms:Decrypt", "kms:DescribeKey"],
                    resources=[props.encryption_key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{stack.region}.amazonaws.com"}},
                ),
                iam.PolicyStatement(actions=["ssm:GetParameter"], resources=[self.parameter.parameter_arn]),
            ],
        )

    @staticmethod
    def _gates_of(gate_accounts: Mapping[str, str], account: str) -> iam.IPrincipal:
        stack_partition = Aws.PARTITION
        roles = sorted(
            f"arn:{stack_partition}:iam::{account}:role/{gate_role_name(name)}"
            for name, gate_account in gate_accounts.items()
            if gate_account == account
        )
        return iam.AccountPrincipal(account).with_conditions({"ArnEquals": {"aws:PrincipalArn": roles}})
