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
            reason="The internet-facing API load balancer accepts 80/443 from anywhere; WAF (managed rule "
            "groups) filters the traffic. The test listener port only admits the VPC's NAT addresses.",
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
    if config.service.certificate_arn is not None:
        return acknowledged(
            f"{SERVICE}/LoadBalancer/Redirect80To443/Resource",
            *nist_and_pci("ELBv2ACMCertificateRequired"),
            reason="This port-80 listener only answers with a redirect to HTTPS on 443, which carries the "
            "certificate; no request is served over it.",
        )
    entries: list[NagAcknowledgment] = []
    for listener in ("ProductionListener", "TestListener"):
        entries += acknowledged(
            f"{SERVICE}/LoadBalancer/{listener}/Resource",
            *PLAIN_HTTP_LISTENER,
            reason="No ACM certificate is configured for this environment yet (ServiceConfig.certificate_arn "
            "is None), so the listener serves HTTP. Setting certificate_arn switches production to HTTPS "
            "on 443 with an 80->443 redirect and the test listener to HTTPS; docs/service.md lists this "
            "as a go-live step.",
        )
    entries += acknowledged(
        f"{SERVICE}/LoadBalancerSecurityGroup/Resource",
        our_rule("CT-WorldOpenIngress"),
        reason="TEMPORARY until TLS lands (issue 17): without a certificate the port-80 listener forwards "
        "plain HTTP to the service; with ServiceConfig.certificate_arn set it only redirects to 443 and "
        "the rule passes without this entry.",
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
