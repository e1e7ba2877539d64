"""`PythonHandler`: a Lambda function from `lambdas/<name>/` with the platform's baseline.

Baseline: latest Python runtime on arm64, inside the VPC's application subnets, reserved
concurrency, an encrypted dead-letter queue, X-Ray tracing, an encrypted log group with
retention, encrypted environment variables, Powertools from AWS's in-region public layer
(no Docker bundling at synth), and alarms on its errors, throttles and dead letters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cashtrace_constructs.log_retention import retention
from cashtrace_constructs.monitoring.functions import FunctionAlarms, function_alarms

LAMBDAS_DIR = Path(__file__).resolve().parent.parent / "lambdas"
RUNTIME = lambda_.Runtime.PYTHON_3_14
# AWS publishes this layer in every commercial region, af-south-1 included; bump on upgrades.
POWERTOOLS_LAYER_VERSION = 27
POWERTOOLS_LAYER = (
    "arn:{partition}:lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:{version}"
)


@dataclass(frozen=True, kw_only=True)
class PythonHandlerProps:
    """`source` names the directory under `lambdas/`; the rest is the function's baseline."""

    source: str
    description: str
    vpc: ec2.IVpc
    encryption_key: kms.IKey
    environment: Mapping[str, str] = field(default_factory=dict)
    timeout_seconds: int = 60
    memory_size: int = 256
    reserved_concurrency: int = 2
    log_retention_days: int = 365
    security_groups: Sequence[ec2.ISecurityGroup] = ()
    # A VPC without NAT (the pipeline's) passes its isolated subnets reaching AWS through endpoints.
    subnets: ec2.SubnetSelection | None = None
    # Beside Powertools, e.g. `postgres_driver_layer(scope)` for a function that speaks PostgreSQL.
    layers: Sequence[lambda_.ILayerVersion] = ()
    # A fixed name for the function's role, only where another account's policy must name it.
    role_name: str | None = None


class PythonHandler(Construct):
    """One Lambda function of ours; `function` is the `aws_lambda.Function`, `alarms` its `FunctionAlarms`.

    The alarms have no action yet: the stack routes them (`Monitoring.warn_on(handler.alarms.all)`,
    or `monitoring.functions.notify` where there is no `Monitoring`).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: PythonHandlerProps) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        source, encryption_key = props.source, props.encryption_key
        code_dir = LAMBDAS_DIR / source
        if not (code_dir / "handler.py").exists():
            raise FileNotFoundError(f"{code_dir}/handler.py does not exist")
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=retention(props.log_retention_days),
            encryption_key=encryption_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=encryption_key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            # Declares the queue a dead-letter queue (Control Tower CT.SQS.PR.1 asks DLQs for this
            # instead of a DLQ of their own); allowAll is SQS's behaviour without the policy.
            redrive_allow_policy=sqs.RedriveAllowPolicy(redrive_permission=sqs.RedrivePermission.ALLOW_ALL),
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description=props.description,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(code_dir), exclude=["__pycache__", "*.pyc", "tests"]),
            timeout=Duration.seconds(props.timeout_seconds),
            memory_size=props.memory_size,
            reserved_concurrent_executions=props.reserved_concurrency,
            vpc=props.vpc,
            vpc_subnets=props.subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            security_groups=list(props.security_groups) or [self._security_group(props.vpc, source)],
            environment={"POWERTOOLS_SERVICE_NAME": source, **props.environment},
            environment_encryption=encryption_key,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            dead_letter_queue=self.dead_letter_queue,
            layers=[
                lambda_.LayerVersion.from_layer_version_arn(
                    self,
                    "Powertools",
                    POWERTOOLS_LAYER.format(
                        partition=stack.partition, region=stack.region, version=POWERTOOLS_LAYER_VERSION
                    ),
                ),
                *props.layers,
            ],
        )
        if props.role_name:
            role = self.function.role.node.default_child if self.function.role else None
            if not isinstance(role, iam.CfnRole):
                raise TypeError(f"{self.node.path} has no role of its own to name")
            role.role_name = props.role_name
        self.alarms: FunctionAlarms = function_alarms(
            self,
            function_name=self.function.function_name,
            label=f"{props.description} ({source})",
            dead_letter_queue_name=self.dead_letter_queue.queue_name,
        )

    def _security_group(self, vpc: ec2.IVpc, source: str) -> ec2.SecurityGroup:
        # CDK's automatic group would be described by the function's absolute path, which differs
        # between a top-level and a pipeline-staged stack and forces a replacement (logical_ids.py).
        return ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, description=f"CashTrace {source} Lambda function (egress only)"
        )


def stack_layer(scope: Construct, construct_id: str, *, description: str, code: lambda_.Code) -> lambda_.ILayerVersion:
    """The stack's one layer of this id, made on first use: the functions that need it share it."""
    stack = Stack.of(scope)
    existing = stack.node.try_find_child(construct_id)
    if isinstance(existing, lambda_.LayerVersion):
        return existing
    return lambda_.LayerVersion(
        stack,
        construct_id,
        description=description,
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[lambda_.Architecture.ARM_64],
        code=code,
    )
