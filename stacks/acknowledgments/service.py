"""The API service: its internet-facing load balancer, its log buckets, its task and its data access."""

from __future__ import annotations

from aws_cdk import Stack

from cashtrace_constructs.config import EnvironmentConfig
from stacks.acknowledgments.rules import (
    INLINE_POLICY,
    KMS_DEFAULT_ENCRYPTION,
    PLAIN_HTTP_LISTENER,
    REPLICATION,
    NagAcknowledgment,
    acknowledged,
    arn_of,
    nist_and_pci,
    our_rule,
    solutions,
    wildcard,
)
from stacks.acknowledgments.storage import STORAGE

SERVICE = "Api"
LOG_BUCKETS = (f"{SERVICE}/AccessLogs/Resource", f"{SERVICE}/ServerAccessLogs/Resource")


def load_balancer(config: EnvironmentConfig, stack: Stack) -> list[NagAcknowledgment]:
    entries = [
        *acknowledged(
            f"{SERVICE}/LoadBalancerSecurityGroup/Resource",
            solutions("EC23"),
            reason="The internet-facing API load balancer accepts its public port (443, or 80 where the config "
            "allows plain HTTP) from anywhere; WAF (managed rule groups) filters the traffic. The test "
            "listener port only admits the VPC's NAT addresses.",
        ),
        *acknowledged(
            f"{SERVICE}/TestListenerIngress*",
            solutions("EC23"),
            *nist_and_pci("EC2RestrictedCommonPorts"),
            *nist_and_pci("EC2RestrictedSSH"),
            reason="The source is one NAT gateway's Elastic IP as a /32 (Fn::GetAtt, known only at deploy "
            "time), so the rule cannot evaluate it; it admits only the deploy hook's egress address, on "
            "the test port only.",
        ),
    ]
    for bucket in LOG_BUCKETS:
        entries += acknowledged(
            bucket,
            *KMS_DEFAULT_ENCRYPTION,
            reason="ALB access logs can only be delivered to SSE-S3 (AES-256) buckets; AWS does not support "
            "SSE-KMS for them. The server-access-log bucket holds logs of that bucket under the same limitation.",
        )
        entries += acknowledged(
            bucket,
            *REPLICATION,
            reason="Request logs stay in af-south-1 (Property 7); the bucket is versioned and retained, and a "
            "replica in another region is exactly what data residency forbids.",
        )
    return entries


def listeners(config: EnvironmentConfig, stack: Stack) -> list[NagAcknowledgment]:
    if config.endpoint.tls:
        # HTTPS on 443 only, no port 80: nothing to acknowledge.
        return []
    entries: list[NagAcknowledgment] = []
    for listener in ("ProductionListener", "TestListener"):
        entries += acknowledged(
            f"{SERVICE}/LoadBalancer/{listener}/Resource",
            *PLAIN_HTTP_LISTENER,
            reason="This environment's config sets endpoint.plain_http=True, which EndpointConfig allows only "
            "in environments without customer data (dev, synthetic data), so the listener serves HTTP. "
            "Giving it endpoint.hosted_zone or endpoint.certificate_arn switches both listeners to HTTPS.",
        )
    entries += acknowledged(
        f"{SERVICE}/LoadBalancerSecurityGroup/Resource",
        our_rule("CT-WorldOpenIngress"),
        reason="endpoint.plain_http=True (allowed only where EndpointConfig permits it, never staging or prod) "
        "serves the API on plain HTTP, so its load balancer admits port 80 from the internet; with TLS "
        "configured only 443 is open and the rule passes without this entry.",
    )
    return entries


def task(config: EnvironmentConfig, stack: Stack) -> list[NagAcknowledgment]:
    execution_policy = f"{SERVICE}/TaskDefinition/ExecutionRole/DefaultPolicy/Resource"
    return [
        *acknowledged(
            f"{SERVICE}/TaskDefinition/Resource",
            solutions("ECS2"),
            reason="Plain environment variables carry non-secret settings (PORT, LOG_LEVEL); secrets are "
            "injected through the container's `secrets` (Secrets Manager), never as environment values.",
        ),
        *acknowledged(
            execution_policy,
            wildcard("Resource::*"),
            reason="ecr:GetAuthorizationToken supports no resource-level permission; pulls are scoped to the "
            "one repository.",
        ),
        *acknowledged(
            execution_policy,
            *INLINE_POLICY,
            reason="CDK grants of the task's single-purpose execution role (image pull, log writing), scoped "
            "to named resources; the inline form is the auditable one.",
        ),
        *acknowledged(
            "ApiDataAccess/Resource",
            wildcard(f"Resource::{arn_of(stack, f'{STORAGE}/Bucket/Resource')}/*"),
            reason="The API reads and writes objects of the one application bucket (Get/PutObject only); "
            "object keys are per-customer and not known at deploy time.",
        ),
    ]
