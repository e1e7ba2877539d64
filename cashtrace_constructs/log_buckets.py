"""The bucket that receives S3 server access logs (and ALB access logs): one definition for every stack."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

# Server access logs are audit evidence (PCI DSS 10.7 asks for a year).
ACCESS_LOG_RETENTION = Duration.days(400)


def access_log_bucket(scope: Construct, construct_id: str) -> s3.Bucket:
    """Private, TLS-only, versioned, kept a year; encrypted with S3-managed keys, the only
    encryption S3 server access logging and ALB access logs can deliver to."""
    return s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removal_policy=RemovalPolicy.RETAIN,
        lifecycle_rules=[
            s3.LifecycleRule(
                id="ExpireAccessLogs",
                expiration=ACCESS_LOG_RETENTION,
                noncurrent_version_expiration=Duration.days(30),
            )
        ],
    )
