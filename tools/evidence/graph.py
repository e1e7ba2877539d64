"""A stack as a person thinks of it: capabilities (top-level constructs) and the flows between them.

Nodes are the stack's top-level constructs (the construct tree in the assembly's metadata), with
an internet-facing load balancer and a CDN split out as front doors; the Network construct is the
VPC the placed nodes sit in. Edges come from the template: security-group rules (network flows,
with ports), IAM policies (which capability may call which), references between resources, and
alarms (metrics flowing to the capability whose topic they notify).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cashtrace_constructs.checks.template import listed, of_type, properties, references
from tools.evidence.assembly import Stack
from tools.evidence.stores import referenced

USERS = "users"
NETWORK = "Network"
IAM_TYPES = frozenset({"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::OIDCProvider"})
# Who may call a resource: the caller's side is drawn as the flow, not the permission.
PERMISSIONS = frozenset(
    {
        "AWS::S3::BucketPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::SNS::TopicPolicy",
        "AWS::SecretsManager::ResourcePolicy",
        "AWS::Lambda::Permission",
        "AWS::Backup::RestoreTestingSelection",
    }
)
SG_RULES = frozenset({"AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"})
# Resources whose reference to the network means "this capability runs inside the VPC".
PLACED = frozenset(
    {
        "AWS::RDS::DBSubnetGroup",
        "AWS::ElastiCache::SubnetGroup",
        "AWS::ECS::Service",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::EFS::MountTarget",
    }
)
# What a reference to a resource of this type carries, as an edge label.
CARRIES = {
    "AWS::SecretsManager::Secret": "credentials",
    "AWS::S3::Bucket": "objects",
    "AWS::Logs::LogGroup": "logs",
    "AWS::SNS::Topic": "notifications",
    "AWS::APS::Workspace": "metrics",
    "AWS::SQS::Queue": "messages",
    "AWS::RDS::DBInstance": "SQL",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "requests",
    "AWS::Lambda::Function": "invokes",
    "AWS::DynamoDB::GlobalTable": "items",
    "AWS::DynamoDB::Table": "items",
    "AWS::ElasticLoadBalancingV2::Listener": "shifts traffic",
}
# The same words for what an IAM policy lets a capability do to another one.
SERVICE_CARRIES = {
    "secretsmanager": "credentials",
    "s3": "objects",
    "aps": "metrics",
    "sqs": "messages",
    "sns": "notifications",
    "dynamodb": "items",
    "logs": "logs",
    "lambda": "invokes",
}
ENGINES = {"postgres": "PostgreSQL", "mysql": "MySQL", "redis": "Redis", "valkey": "Valkey", "memcached": "Memcached"}
# Where a resource writes its logs: a log bucket belongs with the resource that fills it.
_LOG_DESTINATIONS = ("access_logs.s3.bucket",)
# Never an edge: every capability uses the key and the network; roles stay with their users.
_NOT_FLOWS = frozenset({"AWS::KMS::Key", "AWS::KMS::Alias", "AWS::IAM::Role", "AWS::CloudWatch::Dashboard"})


@dataclass
class Node:
    key: str
    name: str
    resources: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    in_vpc: bool = False
    external: bool = False
    # Buckets that only receive another resource's access logs.
    log_buckets: set[str] = field(default_factory=set)

    def of_type(self, *types: str) -> list[Mapping[str, Any]]:
        return [resource for resource in self.resources.values() if resource.get("Type") in types]


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str
    dotted: bool = False


@dataclass
class Graph:
    stack: Stack
    nodes: dict[str, Node]
    edges: list[Edge]
    network: Node | None


def _key(name: str) -> str:
    return "".join(char if char.isalnum() else "_" for char in name)


def _front_doors(stack: Stack, groups: dict[str, Node]) -> None:
    """An internet-facing load balancer or a CDN becomes a node of its own: where users come in."""
    for node in list(groups.values()):
        for logical_id, resource in list(node.resources.items()):
            kind = resource.get("Type")
            public_lb = (
                kind == "AWS::ElasticLoadBalancingV2::LoadBalancer" and properties(resource).get("Scheme") != "internal"
            )
            if not (public_lb or kind == "AWS::CloudFront::Distribution"):
                continue
            prefix = stack.path_of(logical_id).rsplit("/", 1)[0] + "/"
            name = f"{node.name} {'load balancer' if public_lb else 'CDN'}"
            door = groups.setdefault(_key(name), Node(_key(name), name))
            for moved in [lid for lid in node.resources if stack.path_of(lid).startswith(prefix)]:
                door.resources[moved] = node.resources.pop(moved)
            # The firewall belongs with what it guards.
            for association_id, association in of_type(stack.template, "AWS::WAFv2::WebACLAssociation"):
                if logical_id in references(properties(association).get("ResourceArn")):
                    for moved in {association_id} | references(properties(association).get("WebACLArn")):
                        for group in groups.values():
                            if moved in group.resources and group is not door:
                                door.resources[moved] = group.resources.pop(moved)


# Top-level constructs that are a part of another capability, not one of their own: the database
# role bootstrap and the driver layer are how the database is reached, the function alarms are
# monitoring. Drawn inside their capability, so the picture stays at the level a person thinks in.
PART_OF = {"DatabaseAccess": "Database", "PostgresDriverLayer": "Database", "FunctionAlarms": "Monitoring"}
# Code that functions of several capabilities carry (the custom-resource answer): not drawn.
NOT_DRAWN = {"CustomResourceLayer"}


def _groups(stack: Stack) -> dict[str, Node]:
    groups: dict[str, Node] = {}
    for logical_id, resource in stack.resources.items():
        top = stack.path_of(logical_id).split("/", 1)[0]
        top = PART_OF.get(top, top)
        if resource.get("Type") == "AWS::CDK::Metadata" or top.startswith("Custom::") or top in NOT_DRAWN:
            continue
        groups.setdefault(_key(top), Node(_key(top), top)).resources[logical_id] = resource
    _front_doors(stack, groups)
    return groups


def _owners(groups: Mapping[str, Node], stack: Stack) -> dict[str, str]:
    owner = {logical_id: node.key for node in groups.values() for logical_id in node.resources}
    # A security group belongs to what it is attached to (a load balancer's group is often its sibling).
    attached: dict[str, set[str]] = {}
    for logical_id, resource in stack.resources.items():
        if resource.get("Type", "").startswith("AWS::EC2::") or logical_id not in owner:
            continue
        props = properties(resource)
        groups_value = [
            props.get("SecurityGroups"),
            props.get("SecurityGroupIds"),
            props.get("VPCSecurityGroups"),
            ((props.get("NetworkConfiguration") or {}).get("AwsvpcConfiguration") or {}).get("SecurityGroups"),
            (props.get("VpcConfig") or {}).get("SecurityGroupIds"),
        ]
        for group in references(groups_value):
            attached.setdefault(group, set()).add(owner[logical_id])
    for group, users in attached.items():
        if len(users) == 1 and group in owner:
            owner[group] = next(iter(users))
    for _ in range(2):  # a log bucket's own access-log bucket follows it
        for logical_id, bucket in _log_destinations(stack):
            if logical_id in owner and bucket in owner:
                owner[bucket] = owner[logical_id]
    return owner


def _log_destinations(stack: Stack) -> Iterator[tuple[str, str]]:
    """(resource, the bucket it writes its access logs to)."""
    for logical_id, resource in stack.resources.items():
        props = properties(resource)
        destinations = [
            attribute.get("Value")
            for attribute in props.get("LoadBalancerAttributes") or []
            if attribute.get("Key") in _LOG_DESTINATIONS
        ] + [(props.get("LoggingConfiguration") or {}).get("DestinationBucketName")]
        for bucket in references(destinations):
            yield logical_id, bucket


def _attached(stack: Stack) -> dict[str, list[Mapping[str, Any]]]:
    """Security group -> the resources it is attached to."""
    found: dict[str, list[Mapping[str, Any]]] = {}
    for resource in stack.resources.values():
        props = properties(resource)
        groups_value = [
            props.get("SecurityGroups"),
            props.get("SecurityGroupIds"),
            props.get("VPCSecurityGroups"),
            ((props.get("NetworkConfiguration") or {}).get("AwsvpcConfiguration") or {}).get("SecurityGroups"),
        ]
        if not str(resource.get("Type", "")).startswith("AWS::EC2::"):
            for group in references(groups_value):
                found.setdefault(group, []).append(resource)
    return found


def _protocol(
    stack: Stack, rule: Mapping[str, Any], group: str, attached: Mapping[str, list[Mapping[str, Any]]]
) -> str:
    """What flows on a security-group rule, named after the resource that listens on it."""
    port = rule.get("FromPort")
    for resource in attached.get(group, []):
        props = properties(resource)
        kind = resource.get("Type")
        if kind in ("AWS::RDS::DBInstance", "AWS::ElastiCache::ReplicationGroup"):
            engine = ENGINES.get(str(props.get("Engine")), str(props.get("Engine")))
            tls = kind == "AWS::ElastiCache::ReplicationGroup" and props.get("TransitEncryptionEnabled") is True
            return f"{engine} :{port}" + (" TLS" if tls else "")
        if kind == "AWS::EFS::MountTarget":
            return f"NFS :{port}"
        if kind == "AWS::ElasticLoadBalancingV2::LoadBalancer":
            for _, listener in of_type(stack.template, "AWS::ElasticLoadBalancingV2::Listener"):
                if properties(listener).get("Port") == port:
                    return f"{properties(listener).get('Protocol')} :{port}"
        if kind == "AWS::ECS::Service":
            return f"HTTP :{port}"
    return _port(rule)


def _port(rule: Mapping[str, Any]) -> str:
    low, high = rule.get("FromPort"), rule.get("ToPort")
    if str(rule.get("IpProtocol")) == "-1":
        return "all traffic"
    return f"{rule.get('IpProtocol', 'tcp')} :{low}" + (f"-{high}" if high not in (None, low) else "")


def _security_group_rules(stack: Stack) -> Iterator[tuple[str, Mapping[str, Any], str]]:
    """(direction, rule, group) for standalone and inline rules."""
    for logical_id, resource in stack.resources.items():
        props = properties(resource)
        if resource.get("Type") == "AWS::EC2::SecurityGroupIngress":
            yield "in", props, referenced(props.get("GroupId")) or ""
        elif resource.get("Type") == "AWS::EC2::SecurityGroupEgress":
            yield "out", props, referenced(props.get("GroupId")) or ""
        elif resource.get("Type") == "AWS::EC2::SecurityGroup":
            for rule in props.get("SecurityGroupIngress") or []:
                yield "in", rule, logical_id


def _network_edges(stack: Stack, owner: Mapping[str, str], public: set[str]) -> Iterator[Edge]:
    attached = _attached(stack)
    for direction, rule, group in _security_group_rules(stack):
        peer = referenced(
            rule.get("SourceSecurityGroupId") if direction == "in" else rule.get("DestinationSecurityGroupId")
        )
        if peer and group in owner and peer in owner:
            source, target = (owner[peer], owner[group]) if direction == "in" else (owner[group], owner[peer])
            listener = group if direction == "in" else peer
            yield Edge(source, target, _protocol(stack, rule, listener, attached))
        elif direction == "in" and rule.get("CidrIp") in ("0.0.0.0/0",) and owner.get(group) in public:
            yield Edge(USERS, owner[group], _protocol(stack, rule, group, attached))


def _policy_edges(stack: Stack, owner: Mapping[str, str], keys: set[str]) -> Iterator[Edge]:
    for _, policy in of_type(stack.template, "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        props = properties(policy)
        principals = {owner[role] for role in references(props.get("Roles")) if role in owner}
        for statement in listed((props.get("PolicyDocument") or {}).get("Statement")):
            services = {str(action).split(":", 1)[0] for action in listed(statement.get("Action"))} - {"kms"}
            words = sorted({SERVICE_CARRIES.get(service, "calls") for service in services})
            targets = {owner[t] for t in references(statement.get("Resource")) if t in owner and t not in keys}
            for principal in principals:
                for target in targets - {principal}:
                    for word in words:
                        yield Edge(principal, target, word)


def _reference_edges(stack: Stack, owner: Mapping[str, str], skip: set[str]) -> Iterator[Edge]:
    for logical_id, resource in stack.resources.items():
        kind = resource.get("Type")
        if logical_id not in owner or kind in IAM_TYPES | SG_RULES | PERMISSIONS | _NOT_FLOWS:
            continue
        if kind == "AWS::CloudWatch::Alarm":
            continue
        if kind == "AWS::Backup::BackupSelection":  # data flows from the store into the vault
            for target in references(properties(resource).get("BackupSelection")) & set(owner):
                yield Edge(owner[target], owner[logical_id], "backups")
            continue
        for target in references(properties(resource)) - skip:
            if target in owner and owner[target] != owner[logical_id]:
                target_kind = str(stack.resources[target].get("Type"))
                if target_kind not in _NOT_FLOWS and not target_kind.startswith("AWS::EC2::"):
                    yield Edge(owner[logical_id], owner[target], CARRIES.get(target_kind, "uses"))


def _alarm_edges(stack: Stack, owner: Mapping[str, str]) -> Iterator[Edge]:
    for logical_id, alarm in of_type(stack.template, "AWS::CloudWatch::Alarm"):
        props = properties(alarm)
        watched = {owner[t] for t in references([props.get("Dimensions"), props.get("Metrics")]) if t in owner}
        notified = {owner[t] for t in references([props.get("AlarmActions"), props.get("OKActions")]) if t in owner}
        for source in watched or {owner.get(logical_id, "")}:
            for sink in notified - {source}:
                yield Edge(source, sink, "alarms", dotted=True)


def _external(stack: Stack, owner: Mapping[str, str], nodes: dict[str, Node]) -> Iterator[Edge]:
    """Where data leaves the stack: notification subscriptions and event targets outside it."""
    for logical_id, subscription in of_type(stack.template, "AWS::SNS::Subscription"):
        props = properties(subscription)
        name = stack.name_of(logical_id).rsplit("/", 1)[-1]
        key = _key(f"external {name}")
        nodes.setdefault(key, Node(key, f"{name} ({props.get('Protocol')} subscription)", external=True))
        topic = referenced(props.get("TopicArn"))
        if topic is not None and topic in owner:
            yield Edge(owner[topic], key, "notifications", dotted=True)
    for logical_id, rule in of_type(stack.template, "AWS::Events::Rule"):
        for target in properties(rule).get("Targets") or []:
            arn = target.get("Arn")
            if isinstance(arn, str) and ":event-bus/" in arn:
                # Named by relation, not number: account ids differ per deployment (and stay out of docs).
                where = "this account" if arn.split(":")[4] == stack.account else "another account"
                key = _key(f"external bus {where}")
                nodes.setdefault(key, Node(key, f"event bus of {where}", external=True))
                if logical_id in owner:
                    yield Edge(owner[logical_id], key, "events")


def _merged(edges: Iterable[Edge]) -> list[Edge]:
    labels: dict[tuple[str, str, bool], list[str]] = {}
    for edge in edges:
        if edge.source == edge.target:
            continue
        items = labels.setdefault((edge.source, edge.target, edge.dotted), [])
        if edge.label not in items:
            items.append(edge.label)
    merged = []
    for (source, target, dotted), items in labels.items():
        # A protocol (`PostgreSQL :5433`) says more than what the reference carries; "uses" says least.
        named = [item for item in items if ":" in item] or [item for item in items if item != "uses"] or items
        merged.append(Edge(source, target, ", ".join(named[:3]), dotted))
    return merged


def build_graph(stack: Stack) -> Graph:
    groups = _groups(stack)
    network = groups.pop(NETWORK, None)
    owner = _owners({**groups, **({NETWORK: network} if network else {})}, stack)
    # Resources follow their owner (a load balancer's log bucket joins the load balancer).
    for group in [*groups.values(), *([network] if network else [])]:
        for logical_id in [lid for lid in group.resources if owner.get(lid, group.key) != group.key]:
            target = groups.get(owner[logical_id]) or network
            if target is not None:
                target.resources[logical_id] = group.resources.pop(logical_id)
    log_buckets = {bucket for _, bucket in _log_destinations(stack)}
    for group in groups.values():
        group.log_buckets = log_buckets & set(group.resources)
    keys = {lid for lid, resource in stack.resources.items() if resource.get("Type") == "AWS::KMS::Key"}
    network_ids = set(network.resources) if network else set()
    nodes: dict[str, Node] = {}
    for node in groups.values():
        kinds = {str(resource.get("Type")) for resource in node.resources.values()}
        if not kinds or kinds <= IAM_TYPES:
            continue  # permissions only: they show as the flows they allow
        node.in_vpc = any(references(properties(resource)) & network_ids for resource in node.of_type(*PLACED))
        nodes[node.key] = node
    public = {node.key for node in nodes.values() if node.name.endswith((" load balancer", " CDN"))}
    for door in public:
        if nodes[door].name.endswith(" CDN"):
            nodes.setdefault(USERS, Node(USERS, "Internet users", external=True))
    owner = {logical_id: key for logical_id, key in owner.items() if key in nodes or key == NETWORK}
    edges = [
        *_network_edges(stack, owner, public),
        *_policy_edges(stack, owner, keys),
        *_reference_edges(stack, owner, keys | network_ids),
        *_alarm_edges(stack, owner),
        *_external(stack, owner, nodes),
        *(Edge(USERS, door, "HTTPS") for door in public if nodes[door].name.endswith(" CDN")),
    ]
    edges = [edge for edge in edges if NETWORK not in (edge.source, edge.target)]
    if any(edge.source == USERS for edge in edges):
        nodes.setdefault(USERS, Node(USERS, "Internet users", external=True))
    return Graph(stack, nodes, sorted(_merged(edges), key=lambda e: (e.source, e.target, e.dotted)), network)
