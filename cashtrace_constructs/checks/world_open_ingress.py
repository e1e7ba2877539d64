"""Nothing is open to the internet except HTTPS on 443 and a port 80 whose listeners only redirect.

A security group rule from 0.0.0.0/0 or ::/0 is allowed on TCP 443, or on TCP 80 when every
security group it belongs to fronts only load balancers whose port-80 listeners redirect to HTTPS.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from cashtrace_constructs.checks.rule import Finding, StackRule, SynthesizedStack
from cashtrace_constructs.checks.template import Template, of_type, properties, references

WORLD = ("0.0.0.0/0", "::/0")


def _ingress_rules(template: Template) -> Iterator[tuple[str, str, str | None, Mapping[str, Any]]]:
    """(logical id, location, security group id, rule) for inline and standalone ingress rules."""
    for logical_id, group in of_type(template, "AWS::EC2::SecurityGroup"):
        for index, rule in enumerate(properties(group).get("SecurityGroupIngress") or []):
            yield logical_id, f"Properties.SecurityGroupIngress[{index}]", logical_id, rule
    for logical_id, ingress in of_type(template, "AWS::EC2::SecurityGroupIngress"):
        groups = sorted(references(properties(ingress).get("GroupId")))
        yield logical_id, "Properties", groups[0] if groups else None, properties(ingress)


def _port(rule: Mapping[str, Any]) -> int | None:
    """The single TCP port a rule opens, or None for ranges, other protocols and all traffic."""
    if str(rule.get("IpProtocol")) not in ("tcp", "6"):
        return None
    low, high = rule.get("FromPort"), rule.get("ToPort")
    return int(low) if low is not None and low == high else None


def _redirects_only(listener: Mapping[str, Any]) -> bool:
    actions = properties(listener).get("DefaultActions") or []
    return bool(actions) and all(
        action.get("Type") == "redirect" and (action.get("RedirectConfig") or {}).get("Protocol") == "HTTPS"
        for action in actions
    )


# Rules of and between groups name a group without placing anything in it.
_GROUP_TYPES = ("AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress")


def port_80_only_redirects(template: Template, group_id: str | None) -> bool:
    """Whether the group fronts load balancers only, each port-80 listener of which redirects to HTTPS."""
    if group_id is None:
        return False
    resources = template.get("Resources") or {}
    attached = {
        logical_id
        for logical_id, resource in resources.items()
        if resource.get("Type") not in _GROUP_TYPES and group_id in references(properties(resource))
    }
    balancers = {
        logical_id
        for logical_id in attached
        if resources[logical_id].get("Type") == "AWS::ElasticLoadBalancingV2::LoadBalancer"
    }
    if not balancers or attached - balancers:
        return False
    listeners = {
        logical_id: listener
        for logical_id, listener in of_type(template, "AWS::ElasticLoadBalancingV2::Listener")
        if references(properties(listener).get("LoadBalancerArn")) & balancers
        and str(properties(listener).get("Port")) == "80"
    }
    forwarded = any(
        references(properties(rule).get("ListenerArn")) & set(listeners)
        for _, rule in of_type(template, "AWS::ElasticLoadBalancingV2::ListenerRule")
    )
    return bool(listeners) and not forwarded and all(_redirects_only(listener) for listener in listeners.values())


class WorldOpenIngress(StackRule):
    rule_id = "CT-WorldOpenIngress"
    property_name = "Network exposure"
    description = (
        "No security group admits the internet (0.0.0.0/0, ::/0) except on TCP 443, or TCP 80 in front of "
        "load balancers whose port-80 listeners only redirect to HTTPS."
    )
    fix = "Serve HTTPS on 443 and make the port-80 listener a redirect; admit other ports from known CIDRs only."

    def check_stack(self, stack: SynthesizedStack) -> Iterable[Finding]:
        for logical_id, location, group_id, rule in _ingress_rules(stack.template):
            source = rule.get("CidrIp") if rule.get("CidrIp") in WORLD else rule.get("CidrIpv6")
            if source not in WORLD:
                continue
            port = _port(rule)
            if port == 443:
                continue
            if port == 80 and port_80_only_redirects(stack.template, group_id):
                continue
            opened = (
                f"TCP {port}"
                if port is not None
                else f"{rule.get('IpProtocol')} {rule.get('FromPort')}-{rule.get('ToPort')}"
            )
            yield self.finding(
                stack,
                f"security group {group_id or logical_id} admits {source} on {opened}"
                + ("; a port-80 listener behind it does not only redirect to HTTPS" if port == 80 else ""),
                logical_id=logical_id,
                location=location,
            )
