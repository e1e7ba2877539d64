"""The service's public entrance: ALB with WAF and access logs, blue/green target groups, listeners, security groups."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from cashtrace_constructs.config import DeploymentStrategy, ServiceConfig
from cashtrace_constructs.domain import STRICT_TRANSPORT_SECURITY, TLS_POLICY, ListenerTls
from cashtrace_constructs.log_buckets import access_log_bucket
from cashtrace_constructs.log_retention import retention
from cashtrace_constructs.naming import per_stack_name

WAF_MANAGED_RULE_GROUPS: tuple[str, ...] = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)


class PublicLoadBalancer:
    """Internet-facing ALB of one service, built into `scope` (the service's own scope).

    Public: `load_balancer`, `security_group`, `access_log_bucket`, `server_access_log_bucket`,
    `web_acl`, `waf_log_group`, `blue_target_group`, `green_target_group`, `tls` and
    `certificate` (None on plain HTTP), `production_listener`, `test_listener`; `test_url` and
    `test_connect_host` are where the deploy hook checks the green tasks.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        environment_name: str,
        config: ServiceConfig,
        strategy: DeploymentStrategy,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        encryption_key: kms.IKey,
        test_client_cidrs: Sequence[str],
        tls: ListenerTls | None,
    ) -> None:
        self._config = config
        # S3 server access logs of the access-log bucket land here; logging this bucket too would loop.
        self.server_access_log_bucket = access_log_bucket(scope, "ServerAccessLogs")
        # Not `access_log_bucket` itself: that one is the end of the logging chain, while this one is
        # logged, has no TLS-version policy and no noncurrent-version expiry (docs/service.md).
        self.access_log_bucket = s3.Bucket(
            scope,
            "AccessLogs",
            # ALB access logs can only be written with SSE-S3 (AWS does not support SSE-KMS for them).
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.server_access_log_bucket,
            server_access_logs_prefix="alb-access-logs/",
            removal_policy=RemovalPolicy.RETAIN,
            # PCI DSS 10.7: a year of audit trail.
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(400))],
        )
        self.security_group = ec2.SecurityGroup(
            scope,
            "LoadBalancerSecurityGroup",
            vpc=vpc,
            description=f"{config.name} load balancer: public listeners, test listener for the deploy hook only",
            allow_all_outbound=False,
        )
        self.load_balancer = elbv2.ApplicationLoadBalancer(
            scope,
            "LoadBalancer",
            vpc=vpc,
            vpc_subnets=subnets,
            internet_facing=True,
            security_group=self.security_group,
            drop_invalid_header_fields=True,
            deletion_protection=True,
            # Longer than any request, so the ALB never cuts a request the target still serves.
            idle_timeout=Duration.seconds(config.longest_request_seconds + 30),
        )
        self.load_balancer.log_access_logs(self.access_log_bucket, prefix=f"{config.name}-alb")

        metric_prefix = f"cashtrace-{environment_name}-{config.name}"
        self.web_acl = _web_acl(scope, metric_prefix)
        wafv2.CfnWebACLAssociation(
            scope,
            "WebAclAssociation",
            resource_arn=self.load_balancer.load_balancer_arn,
            web_acl_arn=self.web_acl.attr_arn,
        )
        # WAF only logs to log groups whose name starts with aws-waf-logs-, so CloudFormation cannot
        # name it; the stack suffix keeps a group retained by a failed first deploy out of the retry's way.
        self.waf_log_group = logs.LogGroup(
            scope,
            "WafLogs",
            log_group_name=per_stack_name(f"aws-waf-logs-{metric_prefix}"),
            retention=retention(config.log_retention_days),
            encryption_key=encryption_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        wafv2.CfnLoggingConfiguration(
            scope,
            "WafLogging",
            resource_arn=self.web_acl.attr_arn,
            # WAF wants the bare log-group ARN; CDK's log_group_arn ends in ":*", which WAF rejects.
            log_destination_configs=[
                Stack.of(scope).format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=self.waf_log_group.log_group_name,
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
        )

        self.blue_target_group = _target_group(scope, "Blue", vpc, config, strategy)
        self.green_target_group = _target_group(scope, "Green", vpc, config, strategy)
        self.tls = tls
        self.certificate: acm.ICertificate | None = tls.certificate if tls else None
        # With TLS: HTTPS on 443 only. No port 80 at all, not even a redirect: a redirect listener
        # needs port 80 open to the internet (checkov CKV_AWS_260), and HSTS keeps browsers on HTTPS.
        # Without TLS (a config only dev may have): HTTP on 80.
        production_port = 443 if tls else 80
        self.production_listener = self._listener("ProductionListener", production_port, self.blue_target_group)
        if tls:
            self.production_listener.set_attribute(
                "routing.http.response.strict_transport_security.header_value", STRICT_TRANSPORT_SECURITY
            )
        # CodeDeploy registers the replacement (green) tasks here first, for the deploy hook.
        self.test_listener = self._listener("TestListener", config.test_listener_port, self.green_target_group)
        self.security_group.add_ingress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(production_port), f"Public API traffic on {production_port}"
        )
        # Separate ingress resources: the NAT addresses are tokens nag cannot evaluate inside the group.
        for index, cidr in enumerate(test_client_cidrs):
            ec2.CfnSecurityGroupIngress(
                scope,
                f"TestListenerIngress{index}",
                group_id=self.security_group.security_group_id,
                ip_protocol="tcp",
                from_port=config.test_listener_port,
                to_port=config.test_listener_port,
                cidr_ip=cidr,
                description="Deploy hook to the test listener",
            )

    def _listener(
        self, construct_id: str, port: int, target_group: elbv2.ApplicationTargetGroup
    ) -> elbv2.ApplicationListener:
        tls = self.tls
        return self.load_balancer.add_listener(
            construct_id,
            port=port,
            protocol=elbv2.ApplicationProtocol.HTTPS if tls else elbv2.ApplicationProtocol.HTTP,
            certificates=tls.listener_certificates if tls else None,
            ssl_policy=TLS_POLICY if tls else None,
            default_target_groups=[target_group],
            open=False,
        )

    @property
    def test_connect_host(self) -> str | None:
        """Where the hook connects when TLS is on: the load balancer, verified as the certificate's host name."""
        return self.load_balancer.load_balancer_dns_name if self.tls else None

    def test_url(self, path: str) -> str:
        """The test listener's URL: on the certificate's host name once TLS is on, the ALB's own name before.

        With TLS the hook connects to `test_connect_host` and verifies the certificate against this
        URL's host, so the release is checked over the same TLS clients get, before DNS points anywhere.
        """
        host = self.tls.host_name if self.tls else self.load_balancer.load_balancer_dns_name
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self._config.test_listener_port}{path}"


def _web_acl(scope: Construct, metric_prefix: str) -> wafv2.CfnWebACL:
    rules = [
        wafv2.CfnWebACL.RuleProperty(
            name=group,
            priority=index,
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS", name=group
                )
            ),
            override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
            visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True,
                metric_name=f"{metric_prefix}-{group}",
                sampled_requests_enabled=True,
            ),
        )
        for index, group in enumerate(WAF_MANAGED_RULE_GROUPS)
    ]
    return wafv2.CfnWebACL(
        scope,
        "WebAcl",
        scope="REGIONAL",
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        rules=rules,
        visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
            cloud_watch_metrics_enabled=True, metric_name=metric_prefix, sampled_requests_enabled=True
        ),
    )


def _target_group(
    scope: Construct, construct_id: str, vpc: ec2.IVpc, config: ServiceConfig, strategy: DeploymentStrategy
) -> elbv2.ApplicationTargetGroup:
    return elbv2.ApplicationTargetGroup(
        scope,
        construct_id,
        vpc=vpc,
        target_type=elbv2.TargetType.IP,
        port=config.container_port,
        protocol=elbv2.ApplicationProtocol.HTTP,
        # Draining waits for the longest request (Property 10).
        deregistration_delay=Duration.seconds(config.deregistration_delay_seconds),
        health_check=elbv2.HealthCheck(
            path=strategy.health_check_path,
            interval=Duration.seconds(config.health_check_interval_seconds),
            timeout=Duration.seconds(min(strategy.health_check_timeout, config.health_check_interval_seconds - 1)),
            healthy_threshold_count=config.healthy_threshold,
            unhealthy_threshold_count=config.unhealthy_threshold,
            healthy_http_codes="200",
        ),
    )
