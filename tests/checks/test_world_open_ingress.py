"""Network exposure: only 443, and an 80 whose listeners only redirect to HTTPS, are open to the world."""

from __future__ import annotations

from typing import Any

import pytest

from cashtrace_constructs.checks import WorldOpenIngress
from tests.checks.rule_templates import findings

REDIRECT = {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}
FORWARD = {"Type": "forward", "TargetGroupArn": {"Ref": "Tg"}}


def balancer(*rules: dict[str, Any], port_80_action: dict[str, Any] = REDIRECT) -> dict[str, Any]:
    return {
        "Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": list(rules)}},
        "Lb": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {"SecurityGroups": [{"Fn::GetAtt": ["Sg", "GroupId"]}]},
        },
        "Http": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {"LoadBalancerArn": {"Ref": "Lb"}, "Port": 80, "DefaultActions": [port_80_action]},
        },
    }


def world(port: int, *, cidr: str = "0.0.0.0/0", protocol: str = "tcp") -> dict[str, Any]:
    key = "CidrIpv6" if ":" in cidr else "CidrIp"
    return {key: cidr, "IpProtocol": protocol, "FromPort": port, "ToPort": port}


def test_443_and_a_redirecting_80_pass() -> None:
    resources = balancer(world(443), world(80), world(443, cidr="::/0"))
    # Rules between groups name the group without placing anything else in it.
    resources["Egress"] = {
        "Type": "AWS::EC2::SecurityGroupEgress",
        "Properties": {"GroupId": {"Fn::GetAtt": ["Sg", "GroupId"]}, "DestinationSecurityGroupId": {"Ref": "Tasks"}},
    }
    assert findings(WorldOpenIngress(), resources) == []


def test_80_in_front_of_a_forwarding_listener_is_refused() -> None:
    (finding,) = findings(WorldOpenIngress(), balancer(world(80), port_80_action=FORWARD))
    assert "Sg" in finding and "TCP 80" in finding and "redirect" in finding


def test_a_listener_rule_that_forwards_port_80_traffic_is_refused() -> None:
    resources = balancer(world(80))
    resources["Rule"] = {
        "Type": "AWS::ElasticLoadBalancingV2::ListenerRule",
        "Properties": {"ListenerArn": {"Ref": "Http"}, "Actions": [FORWARD]},
    }
    assert len(findings(WorldOpenIngress(), resources)) == 1


def test_80_open_on_a_group_that_also_guards_a_task_is_refused() -> None:
    resources = balancer(world(80))
    resources["Service"] = {
        "Type": "AWS::ECS::Service",
        "Properties": {
            "NetworkConfiguration": {"AwsvpcConfiguration": {"SecurityGroups": [{"Fn::GetAtt": ["Sg", "GroupId"]}]}}
        },
    }
    assert len(findings(WorldOpenIngress(), resources)) == 1


@pytest.mark.parametrize(
    "rule",
    [world(22), world(6380, cidr="::/0"), {"CidrIp": "0.0.0.0/0", "IpProtocol": "-1"}, world(53, protocol="udp")],
)
def test_any_other_port_open_to_the_world_is_refused(rule: dict[str, Any]) -> None:
    assert len(findings(WorldOpenIngress(), balancer(rule))) == 1


def test_a_standalone_ingress_resource_is_judged_too() -> None:
    resources = balancer()
    resources["Open"] = {
        "Type": "AWS::EC2::SecurityGroupIngress",
        "Properties": {"GroupId": {"Ref": "Sg"}, **world(5432)},
    }
    (finding,) = findings(WorldOpenIngress(), resources)
    assert "TCP 5432" in finding


def test_known_cidrs_are_not_the_world() -> None:
    assert findings(WorldOpenIngress(), balancer(world(5432, cidr="10.0.0.0/16"))) == []
