"""The environment network: a three-AZ VPC, flow logs, and VPC endpoints so tasks need little NAT."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from cashtrace_constructs.config import NetworkConfig
from cashtrace_constructs.log_retention import retention

# Interface endpoints for what a Fargate task calls on start and at run time: image pulls (ECR
# API + registry), secrets, logs, KMS for decrypting them, STS for IAM auth tokens.
_INTERFACE_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "CloudWatchLogs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
}


@dataclass(frozen=True, kw_only=True)
class NetworkProps:
    config: NetworkConfig
    # Encrypts the flow logs.
    encryption_key: kms.IKey


class Network(Construct):
    """Public subnets for load balancers and NAT, private subnets for tasks, isolated ones for data."""

    PUBLIC = "public"
    APPLICATION = "application"
    DATA = "data"

    def __init__(self, scope: Construct, construct_id: str, *, props: NetworkProps) -> None:
        super().__init__(scope, construct_id)
        config, encryption_key = props.config, props.encryption_key
        self.availability_zones = Stack.of(self).availability_zones[: config.max_azs]
        self.flow_log_group = logs.LogGroup(
            self,
            "FlowLogs",
            retention=retention(config.flow_log_retention_days, field="networking.flow_log_retention_days"),
            encryption_key=encryption_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(config.cidr),
            # Named AZs instead of max_azs: no context lookup, so synth needs no AWS credentials.
            availability_zones=self.availability_zones,
            nat_gateways=config.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name=self.PUBLIC,
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=24,
                    # Only load balancers (public IPs by AWS) and NAT gateways (Elastic IPs) live here.
                    map_public_ip_on_launch=False,
                ),
                ec2.SubnetConfiguration(
                    name=self.APPLICATION, subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20
                ),
                ec2.SubnetConfiguration(name=self.DATA, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
            ],
            restrict_default_security_group=True,
            flow_logs={
                "All": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group),
                    traffic_type=ec2.FlowLogTrafficType.ALL,
                )
            },
        )
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        self.vpc.add_gateway_endpoint("DynamoDb", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB)
        self.endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="HTTPS from inside the VPC to the AWS service endpoints",
            allow_all_outbound=False,
        )
        # The literal CIDR (not a reference to the VPC) keeps the rule reviewable by cdk-nag.
        self.endpoint_security_group.add_ingress_rule(
            ec2.Peer.ipv4(config.cidr), ec2.Port.tcp(443), "HTTPS from the VPC"
        )
        for name, service in _INTERFACE_ENDPOINTS.items():
            self.vpc.add_interface_endpoint(
                name,
                service=service,
                private_dns_enabled=True,
                subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                security_groups=[self.endpoint_security_group],
                open=False,
            )

    @property
    def application_subnets(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnet_group_name=self.APPLICATION)

    @property
    def data_subnets(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnet_group_name=self.DATA)

    @property
    def public_subnets(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnet_group_name=self.PUBLIC)
