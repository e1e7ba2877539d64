"""The capability graph of a stack (graph.py) as a Mermaid flowchart, which GitHub renders in Markdown."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cashtrace_constructs.checks.template import of_type, properties, references
from tools.evidence.assembly import Stack
from tools.evidence.classification import DATA_TYPES, STORES
from tools.evidence.graph import Graph, Node, build_graph

Resources = Sequence[Mapping[str, Any]]
MAX_PHRASES = 3


def _count(resources: Resources, singular: str, plural: str | None = None) -> str:
    if len(resources) == 1:
        return f"one {singular}"
    return f"{len(resources)} {plural or singular + 's'}"


def _service(resources: Resources, node: Node) -> str:
    service = properties(resources[0])
    launch = service.get("LaunchType", "ECS")
    text = f"ECS {launch.capitalize() if launch == 'FARGATE' else launch} service"
    if (service.get("DeploymentController") or {}).get("Type") == "CODE_DEPLOY":
        text += ", blue-green (CodeDeploy)"
    targets = node.of_type("AWS::ApplicationAutoScaling::ScalableTarget")
    if targets:
        target = properties(targets[0])
        text += f", {target.get('MinCapacity')}-{target.get('MaxCapacity')} tasks"
    else:
        count = int(service.get("DesiredCount", 1))
        text += f", {count} task{'s' if count != 1 else ''}"
    return text


def _load_balancer(resources: Resources, node: Node) -> str:
    props = properties(resources[0])
    text = f"{'internal ' if props.get('Scheme') == 'internal' else ''}{props.get('Type', 'application')} load balancer"
    listeners = sorted(
        {
            f"{properties(listener).get('Protocol')} :{properties(listener).get('Port')}"
            for listener in node.of_type("AWS::ElasticLoadBalancingV2::Listener")
        }
    )
    return text + (f" ({', '.join(listeners)})" if listeners else "")


def _database(resources: Resources, node: Node) -> str:
    props = properties(resources[0])
    text = f"RDS {props.get('Engine')} {props.get('EngineVersion', '')}".rstrip()
    return text + (", Multi-AZ" if props.get("MultiAZ") is True else ", single-AZ")


def _cache(resources: Resources, node: Node) -> str:
    props = properties(resources[0])
    nodes = int(props.get("NumNodeGroups", 1)) * (1 + int(props.get("ReplicasPerNodeGroup", 0)))
    nodes = int(props.get("NumCacheClusters", nodes))
    return (
        f"ElastiCache {props.get('Engine')} {props.get('EngineVersion', '')}, {nodes} node{'s' if nodes != 1 else ''}"
    )


def _buckets(resources: Resources, node: Node) -> str:
    data = len(resources) - len(node.log_buckets)
    logs = " + access logs" if node.log_buckets else ""
    if not data:
        return "access-log bucket" + ("s" if len(node.log_buckets) > 1 else "")
    return ("S3 bucket" if data == 1 else f"{data} S3 buckets") + logs


def _secrets(resources: Resources, node: Node) -> str:
    rotated = node.of_type("AWS::SecretsManager::RotationSchedule")
    return _count(resources, "secret") + (f", {len(rotated)} rotated" if rotated else "")


def _key(resources: Resources, node: Node) -> str:
    rotation = all(properties(key).get("EnableKeyRotation") is True for key in resources)
    return _count(resources, "KMS key") + (", yearly rotation" if rotation else ", NO rotation")


PHRASES: Mapping[str, Callable[[Resources, Node], str]] = {
    "AWS::ECS::Service": _service,
    "AWS::ElasticLoadBalancingV2::LoadBalancer": _load_balancer,
    "AWS::WAFv2::WebACL": lambda r, n: "WAF",
    "AWS::CloudFront::Distribution": lambda r, n: "CloudFront distribution",
    "AWS::RDS::DBInstance": _database,
    "AWS::ElastiCache::ReplicationGroup": _cache,
    "AWS::DynamoDB::GlobalTable": lambda r, n: _count(r, "DynamoDB table"),
    "AWS::DynamoDB::Table": lambda r, n: _count(r, "DynamoDB table"),
    "AWS::S3::Bucket": lambda r, n: _buckets(r, n),
    "AWS::EFS::FileSystem": lambda r, n: "EFS file system",
    "AWS::SecretsManager::Secret": _secrets,
    "AWS::Backup::BackupVault": lambda r, n: "AWS Backup vault",
    "AWS::Backup::BackupPlan": lambda r, n: "backup plan",
    "AWS::Backup::RestoreTestingPlan": lambda r, n: "restore tests",
    "AWS::CloudTrail::Trail": lambda r, n: "CloudTrail audit trail",
    "AWS::APS::Workspace": lambda r, n: "Amazon Managed Prometheus",
    "AWS::CloudWatch::Dashboard": lambda r, n: _count(r, "dashboard"),
    "AWS::CloudWatch::Alarm": lambda r, n: _count(r, "alarm"),
    "AWS::SNS::Topic": lambda r, n: _count(r, "SNS topic"),
    "AWS::CodePipeline::Pipeline": lambda r, n: "CodePipeline",
    "AWS::CodeBuild::Project": lambda r, n: _count(r, "CodeBuild project"),
    "AWS::ECR::Repository": lambda r, n: "ECR repository",
    "AWS::KMS::Key": _key,
    "AWS::Lambda::Function": lambda r, n: _count(r, "Lambda function"),
    "AWS::Events::Rule": lambda r, n: _count(r, "EventBridge rule"),
}


def label(node: Node) -> str:
    if node.external:
        return node.name
    phrases: list[str] = []
    for kind, phrase in PHRASES.items():
        resources = node.of_type(kind)
        if resources and len(phrases) < MAX_PHRASES:
            phrases.append(phrase(resources, node))
    return "<br/>".join([f"<b>{node.name}</b>", *phrases])


def _shape(node: Node) -> tuple[str, str]:
    if node.external:
        return "([", "])"
    kinds = {str(resource.get("Type")) for resource in node.resources.values()}
    computes = {"AWS::ECS::Service", "AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::CloudFront::Distribution"}
    stores = {kind for kind in kinds if kind in DATA_TYPES and DATA_TYPES[kind].role == STORES}
    if not kinds & computes and stores - {"AWS::Logs::LogGroup"}:
        return "[(", ")]"
    return "[", "]"


def _text(value: str) -> str:
    return '"' + value.replace('"', "'") + '"'


def _vpc_title(graph: Graph) -> str:
    network = graph.network
    if network is None:
        return "VPC"
    vpcs = network.of_type("AWS::EC2::VPC")
    cidr = properties(vpcs[0]).get("CidrBlock", "") if vpcs else ""
    zones = sorted({str(properties(s).get("AvailabilityZone")) for s in network.of_type("AWS::EC2::Subnet")})
    nat = network.of_type("AWS::EC2::NatGateway")
    endpoints = network.of_type("AWS::EC2::VPCEndpoint")
    parts = [f"VPC {cidr}".strip(), f"{len(zones)} AZs ({', '.join(zones)})"]
    parts += [_count(nat, "NAT gateway")] if nat else ["no NAT"]
    parts += [_count(endpoints, "VPC endpoint")] if endpoints else []
    return ", ".join(parts)


def render(graph: Graph) -> str:
    """The Mermaid source (without the code fence)."""
    lines = ["flowchart LR"]
    placed = [node for node in graph.nodes.values() if node.in_vpc]
    for node in graph.nodes.values():
        if not node.in_vpc:
            opening, closing = _shape(node)
            lines.append(f"    {node.key}{opening}{_text(label(node))}{closing}")
    if placed:
        lines.append(f"    subgraph VPC[{_text(_vpc_title(graph))}]")
        for node in placed:
            opening, closing = _shape(node)
            lines.append(f"        {node.key}{opening}{_text(label(node))}{closing}")
        lines.append("    end")
    for edge in graph.edges:
        arrow = "-.->" if edge.dotted else "-->"
        lines.append(f"    {edge.source} {arrow}|{_text(edge.label)}| {edge.target}")
    return "\n".join(lines)


def mermaid(stack: Stack) -> str:
    """The stack's diagram as a fenced Mermaid block."""
    return f"```mermaid\n{render(build_graph(stack))}\n```"


def summary(stack: Stack) -> dict[str, int]:
    """How much the diagram condenses: template resources -> capability nodes and flows."""
    graph = build_graph(stack)
    # CDK's version-reporting resource exists in CLI synths only; the count must not depend on how we synthesized.
    resources = [r for r in stack.resources.values() if r.get("Type") != "AWS::CDK::Metadata"]
    return {"resources": len(resources), "nodes": len(graph.nodes), "flows": len(graph.edges)}


__all__ = ["label", "mermaid", "of_type", "references", "render", "summary"]
