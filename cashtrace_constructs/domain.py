"""`EnvironmentDomain`: the environment's TLS certificate and, with a hosted zone, its DNS records.

With a Route 53 hosted zone the certificate is issued here, in the environment's own region, and
validated through DNS records CloudFormation writes into that zone; the API and Grafana get alias
records. With an imported certificate ARN, DNS is the team's (it points the names at the load
balancers). Nothing is looked up at synth, so no AWS credentials are needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from constructs import Construct

from cashtrace_constructs.config import EndpointConfig
from cashtrace_constructs.errors import DeploymentError, ErrorCode

# TLS 1.3 first, TLS 1.2 only with ECDHE key exchange and AES-GCM: forward secrecy and AEAD for
# every connection. Every TLS 1.2 client of the last decade (Android 5+, iOS 9+, current browsers
# and HTTP libraries) has these suites; the CBC and SHA-1 suites of ELBSecurityPolicy-TLS13-1-2-2021-06
# only serve clients a finance API should not accept. The TLS 1.3-only policy would turn away
# every Android device older than version 10 (no TLS 1.3 by default there).
TLS_POLICY = elbv2.SslPolicy.TLS13_RES
# Browsers that saw the API over HTTPS once never try plain HTTP for a year (there is no port 80).
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


@dataclass(frozen=True)
class ListenerTls:
    """What an HTTPS listener needs: the certificate, and the host name it covers (clients verify it)."""

    certificate: acm.ICertificate
    host_name: str

    @property
    def listener_certificates(self) -> list[elbv2.ListenerCertificate]:
        return [elbv2.ListenerCertificate.from_certificate_manager(self.certificate)]


@dataclass(frozen=True, kw_only=True)
class EnvironmentDomainProps:
    config: EndpointConfig


class EnvironmentDomain(Construct):
    """The certificate covering the API and Grafana names, and (with a zone) their alias records.

    Public: `certificate`, `zone` (None with an imported certificate), `api` and `grafana`
    (`ListenerTls` for each load balancer), `alias(id, tls, load_balancer)`.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: EnvironmentDomainProps) -> None:
        config = props.config
        if not config.tls:
            raise DeploymentError(
                ErrorCode.CONFIG_INVALID,
                "an environment on plain HTTP has no domain to build; leave EnvironmentDomain out",
                field="endpoint.plain_http",
            )
        super().__init__(scope, construct_id)
        self.zone: route53.IHostedZone | None = None
        if config.hosted_zone is not None:
            self.zone = route53.HostedZone.from_hosted_zone_attributes(
                self, "Zone", hosted_zone_id=config.hosted_zone.zone_id, zone_name=config.hosted_zone.zone_name
            )
            # In the load balancers' region: an ALB can only use a certificate of its own region.
            self.certificate: acm.ICertificate = acm.Certificate(
                self,
                "Certificate",
                domain_name=config.domain_name,
                subject_alternative_names=list(config.certificate_names[1:]),
                validation=acm.CertificateValidation.from_dns(self.zone),
            )
        elif config.certificate_arn is not None:
            self.certificate = acm.Certificate.from_certificate_arn(self, "Certificate", config.certificate_arn)
        else:  # EndpointConfig.validate refuses TLS without either; mypy cannot know
            raise DeploymentError(
                ErrorCode.CONFIG_INVALID, "TLS needs a hosted zone or a certificate", field="endpoint"
            )
        self.api = ListenerTls(self.certificate, config.domain_name)
        self.grafana = ListenerTls(self.certificate, config.grafana_host)

    def alias(
        self, construct_id: str, tls: ListenerTls, load_balancer: elbv2.IApplicationLoadBalancer
    ) -> route53.ARecord | None:
        """An alias A record of `tls.host_name` to `load_balancer`, when the zone is ours to write."""
        if self.zone is None:
            return None
        return route53.ARecord(
            self,
            construct_id,
            zone=self.zone,
            record_name=tls.host_name,
            target=route53.RecordTarget.from_alias(route53_targets.LoadBalancerTarget(load_balancer)),
        )
