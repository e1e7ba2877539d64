"""`DeploymentRecord`: pipeline stage, CodeDeploy and deploy-hook events, kept as the design's Deployment.

Lives in the pipeline (tooling) account beside the pipeline whose events it records; the
environment accounts forward their CodeDeploy events to this account's default event bus.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from cashtrace_constructs.config import EnvironmentConfig
from cashtrace_constructs.function import PythonHandler, PythonHandlerProps
from cashtrace_constructs.log_retention import retention

CODEDEPLOY_STATE_CHANGE = "CodeDeploy Deployment State-change Notification"
STAGE_STATE_CHANGE = "CodePipeline Stage Execution State Change"
ACTION_STATE_CHANGE = "CodePipeline Action Execution State Change"
# What the deploy hook publishes (lambdas/deployment_health_check: RESULTS_SOURCE, RESULTS_DETAIL_TYPE).
HEALTH_CHECKS_SOURCE = "cashtrace.deployment-health"
HEALTH_CHECKS = "CashTrace Deployment Health Checks"
# What a production stack's promotion gate publishes (lambdas/promotion_gate: DECISION_SOURCE, DECISION).
GATE_DECISIONS_SOURCE = "cashtrace.promotion-gate"
GATE_DECISION = "CashTrace Promotion Gate Decision"
# Everything an environment account forwards to the pipeline account's bus.
FORWARDED_SOURCES = ("aws.codedeploy", HEALTH_CHECKS_SOURCE, GATE_DECISIONS_SOURCE)
FORWARDED_DETAIL_TYPES = (CODEDEPLOY_STATE_CHANGE, HEALTH_CHECKS, GATE_DECISION)


@dataclass(frozen=True, kw_only=True)
class DeploymentRecordProps:
    """The pipeline whose events are recorded, and which stage or approval deploys which environment."""

    encryption_key: kms.IKey
    pipeline: codepipeline.IPipeline
    # Pipeline stage name -> environment name, for deployments and for manual approvals.
    stage_environments: Mapping[str, str]
    approval_environments: Mapping[str, str]
    environments: Sequence[EnvironmentConfig]
    # Pipeline stage name -> its live test action (IntegrationTests): the promotion gate needs their outcome.
    test_actions: Mapping[str, str] = field(default_factory=dict)
    cidr: str = "10.40.0.0/16"


class DeploymentRecord(Construct):
    """A DynamoDB table of Deployments, written by a function on EventBridge state-change events."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DeploymentRecordProps) -> None:
        super().__init__(scope, construct_id)
        encryption_key, pipeline, cidr = props.encryption_key, props.pipeline, props.cidr
        stage_environments, approval_environments = props.stage_environments, props.approval_environments
        environments = props.environments
        stack = Stack.of(self)
        self.table = dynamodb.TableV2(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            billing=dynamodb.Billing.on_demand(),
            encryption=dynamodb.TableEncryptionV2.customer_managed_key(encryption_key),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name="byEnvironment",
                    partition_key=dynamodb.Attribute(name="environment", type=dynamodb.AttributeType.STRING),
                    sort_key=dynamodb.Attribute(name="startedAt", type=dynamodb.AttributeType.STRING),
                )
            ],
        )

        # The function reaches DynamoDB and CodePipeline through endpoints: no NAT, no internet.
        flow_logs = logs.LogGroup(
            self,
            "FlowLogs",
            retention=retention(365),
            encryption_key=encryption_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            availability_zones=[f"{stack.region}a", f"{stack.region}b"],
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24)
            ],
            restrict_default_security_group=True,
            flow_logs={
                "All": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
                    traffic_type=ec2.FlowLogTrafficType.ALL,
                )
            },
        )
        self.vpc.add_gateway_endpoint("DynamoDb", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB)
        endpoint_security_group = ec2.SecurityGroup(
            self, "EndpointSecurityGroup", vpc=self.vpc, description="HTTPS to CodePipeline", allow_all_outbound=False
        )
        endpoint_security_group.add_ingress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), "HTTPS from the VPC")
        self.vpc.add_interface_endpoint(
            "CodePipeline",
            service=ec2.InterfaceVpcEndpointAwsService.CODEPIPELINE,
            private_dns_enabled=True,
            security_groups=[endpoint_security_group],
            open=False,
        )

        accounts = {environment.infrastructure.account: environment.name for environment in environments}
        self.recorder = PythonHandler(
            self,
            "Recorder",
            props=PythonHandlerProps(
                source="deployment_record",
                description="Writes CodePipeline and CodeDeploy state changes as Deployment records",
                vpc=self.vpc,
                subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
                encryption_key=encryption_key,
                environment={
                    "TABLE_NAME": self.table.table_name,
                    "STAGE_ENVIRONMENTS": json.dumps(dict(stage_environments), sort_keys=True),
                    "APPROVAL_ENVIRONMENTS": json.dumps(dict(approval_environments), sort_keys=True),
                    "TEST_ACTIONS": json.dumps(dict(props.test_actions), sort_keys=True),
                    "ENVIRONMENT_ACCOUNTS": json.dumps(accounts, sort_keys=True),
                    "ENVIRONMENT_STRATEGIES": json.dumps(
                        {e.name: e.deployment_strategy.type.value for e in environments}, sort_keys=True
                    ),
                },
            ),
        )
        function = self.recorder.function
        self.table.grant_read_write_data(function)
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["codepipeline:GetPipelineExecution", "codepipeline:ListActionExecutions"],
                resources=[pipeline.pipeline_arn],
            )
        )

        target = targets.LambdaFunction(function, retry_attempts=4)

        def pipeline_rule(rule_id: str, description: str, detail_type: str, detail: dict[str, Any]) -> None:
            events.Rule(
                self,
                rule_id,
                description=description,
                event_pattern=events.EventPattern(
                    source=["aws.codepipeline"],
                    detail_type=[detail_type],
                    resources=[pipeline.pipeline_arn],
                    detail=detail,
                ),
                targets=[target],
            )

        pipeline_rule(
            "StageChanges",
            "Pipeline stages that deploy an environment",
            STAGE_STATE_CHANGE,
            {"stage": sorted(stage_environments)},
        )
        pipeline_rule(
            "ApprovalChanges",
            "Manual approvals (who approved a production deployment)",
            ACTION_STATE_CHANGE,
            {"stage": sorted(approval_environments), "type": {"category": ["Approval"]}},
        )
        if props.test_actions:
            pipeline_rule(
                "TestResults",
                "The live tests of each stage (integration tests before the approval)",
                ACTION_STATE_CHANGE,
                {"stage": sorted(props.test_actions), "action": sorted(set(props.test_actions.values()))},
            )
        events.Rule(
            self,
            "CodeDeployChanges",
            description="Blue-green deployments in the environment accounts, forwarded to this bus",
            event_pattern=events.EventPattern(
                source=["aws.codedeploy"], detail_type=[CODEDEPLOY_STATE_CHANGE], account=sorted(accounts)
            ),
            targets=[target],
        )
        events.Rule(
            self,
            "HealthCheckResults",
            description="The deploy hook's health checks of each rollout, forwarded by the environment accounts",
            event_pattern=events.EventPattern(
                source=[HEALTH_CHECKS_SOURCE], detail_type=[HEALTH_CHECKS], account=sorted(accounts)
            ),
            targets=[target],
        )
        events.Rule(
            self,
            "GateDecisions",
            description="Decisions of the production stacks' promotion gates (break-glass reasons included)",
            event_pattern=events.EventPattern(
                source=[GATE_DECISIONS_SOURCE], detail_type=[GATE_DECISION], account=sorted(accounts)
            ),
            targets=[target],
        )
        # Environment accounts may put only their CodeDeploy events and hook results on this account's default bus.
        for account, name in sorted(accounts.items()):
            events.CfnEventBusPolicy(
                self,
                f"Allow{name.capitalize()}",
                statement_id=f"CashTrace{name.capitalize()}CodeDeployEvents",
                event_bus_name="default",
                statement={
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{stack.partition}:iam::{account}:root"},
                    "Action": "events:PutEvents",
                    "Resource": f"arn:{stack.partition}:events:{stack.region}:{stack.account}:event-bus/default",
                    "Condition": {"StringEquals": {"events:source": list(FORWARDED_SOURCES)}},
                },
            )


@dataclass(frozen=True, kw_only=True)
class DeploymentEventForwarderProps:
    # The pipeline (tooling) account whose default event bus keeps the deployment record.
    target_account: str


class DeploymentEventForwarder(Construct):
    """In an environment account: sends its CodeDeploy state changes, hook results and gate decisions to the
    pipeline account's bus."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DeploymentEventForwarderProps) -> None:
        super().__init__(scope, construct_id)
        target_account = props.target_account
        stack = Stack.of(self)
        # Same region only: the deployment record, like all data, stays in af-south-1.
        bus_arn = f"arn:{stack.partition}:events:{stack.region}:{target_account}:event-bus/default"
        bus = events.EventBus.from_event_bus_arn(self, "PipelineBus", bus_arn)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description="Forwards CodeDeploy state changes to the CashTrace pipeline account",
        )
        # A managed policy instead of the target's inline grant: one reviewable document.
        iam.ManagedPolicy(
            self,
            "PutEvents",
            roles=[self.role],
            statements=[iam.PolicyStatement(actions=["events:PutEvents"], resources=[bus_arn])],
        )
        self.rule = events.Rule(
            self,
            "Rule",
            description="CodeDeploy state changes, deploy-hook health checks and promotion-gate decisions for the "
            "CashTrace deployment record",
            event_pattern=events.EventPattern(source=list(FORWARDED_SOURCES), detail_type=list(FORWARDED_DETAIL_TYPES)),
            targets=[targets.EventBus(bus, role=self.role.without_policy_updates())],
        )
