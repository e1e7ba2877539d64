"""The application bucket, the static-asset bucket and its CloudFront distribution, and their log buckets."""

from __future__ import annotations

from aws_cdk import Stack

from cashtrace_constructs.config import EnvironmentConfig
from stacks.acknowledgments.rules import (
    KMS_DEFAULT_ENCRYPTION,
    REPLICATION,
    NagAcknowledgment,
    acknowledged,
    solutions,
)

STORAGE = "Storage"
STATIC_ASSETS = "StaticAssets"
DISTRIBUTION = f"{STATIC_ASSETS}/Distribution/Resource"


def buckets(config: EnvironmentConfig, stack: Stack) -> list[NagAcknowledgment]:
    entries: list[NagAcknowledgment] = []
    for owner in (STORAGE, STATIC_ASSETS):
        for bucket in (f"{owner}/Bucket/Resource", f"{owner}/AccessLogs/Resource"):
            entries += acknowledged(
                bucket,
                *REPLICATION,
                reason="Replication would copy the objects to a second bucket; a cross-region one is forbidden "
                "by Property 7 (data residency) and a same-region one adds nothing to versioning in the same "
                "region. Versioning and the RETAIN removal policy protect against deletion.",
            )
        entries += acknowledged(
            f"{owner}/AccessLogs/Resource",
            *KMS_DEFAULT_ENCRYPTION,
            reason="S3 delivers server access logs only to buckets encrypted with S3-managed keys (SSE-S3); a "
            "KMS default would make log delivery fail.",
        )
    return [
        *entries,
        *acknowledged(
            f"{STATIC_ASSETS}/Bucket/Resource",
            *KMS_DEFAULT_ENCRYPTION,
            reason="The bucket holds only the public web build, served to anyone through CloudFront; it is "
            "encrypted at rest with S3-managed keys. A KMS key would need a key policy letting every "
            "CloudFront distribution of the account decrypt it, which protects nothing more.",
        ),
    ]


def distribution(config: EnvironmentConfig, stack: Stack) -> list[NagAcknowledgment]:
    return [
        *acknowledged(
            DISTRIBUTION,
            solutions("CFR1"),
            reason="Public static assets (JavaScript, CSS, images) for customers who may travel; no user data "
            "is behind this distribution, so restricting countries protects nothing.",
        ),
        *acknowledged(
            DISTRIBUTION,
            solutions("CFR2"),
            reason="A CloudFront web ACL must be created in us-east-1; this app deploys only to af-south-1 "
            "(residency). The origin is a private bucket of read-only public files behind OAC; WAF for the "
            "API sits on the regional load balancer (service capability).",
        ),
        *acknowledged(
            DISTRIBUTION,
            solutions("CFR3"),
            reason="CloudFront standard logs cannot be delivered to buckets in af-south-1 (an opt-in region) "
            "and carry viewer IP addresses, which are personal data: shipping them to a bucket outside "
            "Africa would break Property 7. The origin bucket's S3 access logs stay in af-south-1.",
        ),
        *acknowledged(
            DISTRIBUTION,
            solutions("CFR4"),
            reason="Without a custom domain the distribution uses the *.cloudfront.net certificate, for which "
            "CloudFront fixes the TLS policy. A custom domain needs an ACM certificate in us-east-1 (future "
            "work, docs/data.md); it will then get TLSv1.2_2021.",
        ),
    ]
