"""The VPC: public routes to the internet gateway and the flow-log delivery role."""

from __future__ import annotations

from aws_cdk import Stack

from cashtrace_constructs.config import EnvironmentConfig
from stacks.acknowledgments.rules import INLINE_POLICY, NagAcknowledgment, acknowledged, nist_and_pci


def flow_log_role(vpc: str) -> list[NagAcknowledgment]:
    """The flow-log delivery role CDK generates for the VPC at path `vpc`."""
    return acknowledged(
        f"{vpc}/All/IAMRole/DefaultPolicy/Resource",
        *INLINE_POLICY,
        reason="CDK generates this flow-log delivery policy scoped to the one flow-log group; an inline "
        "policy on a single-purpose service role is easier to audit than a shared managed policy.",
    )


def network(config: EnvironmentConfig, stack: Stack) -> list[NagAcknowledgment]:
    return [
        *acknowledged(
            "Network/Vpc/publicSubnet*/DefaultRoute",
            *nist_and_pci("VPCNoUnrestrictedRouteToIGW"),
            reason="The public subnets exist for the internet-facing load balancer and the NAT gateways; "
            "their route to the internet gateway is their purpose. Tasks and data stores sit in "
            "private and isolated subnets without such a route.",
        ),
        *flow_log_role("Network/Vpc"),
    ]
