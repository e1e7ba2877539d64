"""`ApplicationStorage` (the user-data bucket) and `StaticAssetsCdn` (CloudFront for public static assets only)."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cashtrace_constructs.config import DataConfig
from cashtrace_constructs.log_buckets import access_log_bucket


@dataclass(frozen=True, kw_only=True)
class ApplicationStorageProps:
    environment_name: str
    encryption_key: kms.IKey
    config: DataConfig


class ApplicationStorage(Construct):
    """The bucket for user files (receipts, exports): environment key, versioned, private, TLS-only.

    Never a CDN origin: user data is served only through the API, in the residency region.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: ApplicationStorageProps) -> None:
        super().__init__(scope, construct_id)
        config = props.config
        self.access_logs = access_log_bucket(self, "AccessLogs")
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=props.encryption_key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="application/",
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="TierAndExpireOldVersions",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INTELLIGENT_TIERING,
                            transition_after=Duration.days(config.storage_tiering_after_days),
                        )
                    ],
                    noncurrent_version_expiration=Duration.days(config.storage_noncurrent_expiry_days),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
        )


@dataclass(frozen=True, kw_only=True)
class StaticAssetsCdnProps:
    environment_name: str


class StaticAssetsCdn(Construct):
    """CloudFront in front of a bucket that holds only the web app's public build output.

    The distribution has exactly one origin, this bucket, reached with origin access control;
    there is no API or user-data origin, so no personal data can be cached at the edge.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: StaticAssetsCdnProps) -> None:
        super().__init__(scope, construct_id)
        name = props.environment_name
        self.access_logs = access_log_bucket(self, "AccessLogs")
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            # Public build output only. A KMS key would have to let every CloudFront distribution
            # of the account decrypt it (CDK's OAC key policy uses a wildcard), for no secrecy gain.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="static-assets/",
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[s3.LifecycleRule(id="ExpireOldBuilds", noncurrent_version_expiration=Duration.days(30))],
        )
        self.response_headers_policy = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            # Account-unique and fixed (the generated name embeds the construct path: logical_ids.py).
            response_headers_policy_name=f"cashtrace-{name}-static-security-headers",
            comment=f"CashTrace {name} static assets: security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(730), include_subdomains=True, preload=True, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override=True
                ),
                xss_protection=cloudfront.ResponseHeadersXSSProtection(protection=True, mode_block=True, override=True),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy="default-src 'self'; object-src 'none'; frame-ancestors 'none'; "
                    "base-uri 'self'; upgrade-insecure-requests",
                    override=True,
                ),
            ),
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"CashTrace {name} static assets (no API, no user data)",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(
                    self.bucket,
                    origin_access_levels=[cloudfront.AccessLevel.READ],
                    origin_access_control=cloudfront.S3OriginAccessControl(
                        self,
                        "OriginAccessControl",
                        origin_access_control_name=f"cashtrace-{name}-static-assets",
                        signing=cloudfront.Signing.SIGV4_ALWAYS,
                    ),
                    # A fixed id: CDK's generated one embeds the absolute construct path (logical_ids.py).
                    origin_id="static-assets",
                ),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.response_headers_policy,
                compress=True,
            ),
            default_root_object="index.html",
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            # Edge locations in Lagos and Johannesburg are only in the "all" price class.
            price_class=cloudfront.PriceClass.PRICE_CLASS_ALL,
            enable_logging=False,
        )
