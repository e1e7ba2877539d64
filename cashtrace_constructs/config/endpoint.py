"""Where an environment is served: its domain, where its TLS certificate comes from, or explicit plain HTTP.

Two ways to TLS: a Route 53 hosted zone (the app issues a DNS-validated ACM certificate in the
environment's region and writes the alias records) or the ARN of a certificate the team imported
or issued itself (then the team points DNS at the load balancers). Staging and prod serve TLS
only; dev may run plain HTTP, but only when its config says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cashtrace_constructs.config.validation import ACM_CERTIFICATE_ARN_RE, require, require_match
from cashtrace_constructs.errors import ErrorCode

# Environments that hold no customer data may run without TLS, and only when they say so.
PLAIN_HTTP_ENVIRONMENTS: tuple[str, ...] = ("dev",)
# A DNS name of lower-case labels; ACM refuses a certificate's first name longer than 64 characters.
_DOMAIN_RE = re.compile(r"^(?=.{1,64}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_HOSTED_ZONE_ID_RE = re.compile(r"^Z[A-Z0-9]{1,31}$")
# Grafana's internal load balancer answers on this name; the certificate covers it too.
GRAFANA_HOST_PREFIX = "grafana"


@dataclass(frozen=True)
class HostedZone:
    """A public Route 53 hosted zone the environment's domain lives in (no lookup at synth)."""

    zone_id: str
    zone_name: str


@dataclass(frozen=True)
class EndpointConfig:
    """The environment's public name and its TLS: `hosted_zone` or `certificate_arn`, or `plain_http=True` (dev)."""

    domain_name: str
    hosted_zone: HostedZone | None = None
    certificate_arn: str | None = None
    plain_http: bool = False

    @property
    def tls(self) -> bool:
        return not self.plain_http

    @property
    def service_url(self) -> str:
        """The API's base URL once TLS is on (plain-HTTP environments use the load balancer's name)."""
        return f"https://{self.domain_name}"

    @property
    def grafana_host(self) -> str:
        return f"{GRAFANA_HOST_PREFIX}.{self.domain_name}"

    @property
    def certificate_names(self) -> tuple[str, ...]:
        """Every host name the certificate must cover: the API (and its test listener) and Grafana."""
        return (self.domain_name, self.grafana_host)

    def validate(self, path: str, *, environment_name: str, account: str, region: str) -> None:
        require_match(
            _DOMAIN_RE, self.domain_name, f"{path}.domain_name", "a lower-case DNS name of 64 characters at most"
        )
        if self.plain_http:
            require(
                environment_name in PLAIN_HTTP_ENVIRONMENTS,
                ErrorCode.CONFIG_INVALID,
                f"{path}.plain_http",
                f"{environment_name} serves customer traffic over TLS only; plain HTTP is allowed in "
                f"{', '.join(PLAIN_HTTP_ENVIRONMENTS)} only",
            )
            require(
                self.hosted_zone is None and self.certificate_arn is None,
                ErrorCode.CONFIG_INVALID,
                f"{path}.plain_http",
                "plain HTTP takes no hosted zone or certificate; drop plain_http to serve TLS",
            )
            return
        require(
            self.hosted_zone is not None or self.certificate_arn is not None,
            ErrorCode.CONFIG_INVALID,
            path,
            "has no TLS: set hosted_zone (the app issues a DNS-validated certificate) or certificate_arn "
            f"(an ACM certificate in {region}); only {', '.join(PLAIN_HTTP_ENVIRONMENTS)} may set plain_http=True",
        )
        require(
            self.hosted_zone is None or self.certificate_arn is None,
            ErrorCode.CONFIG_INVALID,
            f"{path}.certificate_arn",
            "set either hosted_zone (the app issues the certificate) or certificate_arn, not both",
        )
        if self.hosted_zone is not None:
            self._validate_zone(self.hosted_zone, f"{path}.hosted_zone", path)
        if self.certificate_arn is not None:
            self._validate_certificate(self.certificate_arn, f"{path}.certificate_arn", account, region)

    def _validate_zone(self, zone: HostedZone, path: str, endpoint_path: str) -> None:
        require_match(_HOSTED_ZONE_ID_RE, zone.zone_id, f"{path}.zone_id", "a Route 53 hosted zone id (Z...)")
        require_match(_DOMAIN_RE, zone.zone_name, f"{path}.zone_name", "a lower-case DNS name")
        require(
            self.domain_name == zone.zone_name or self.domain_name.endswith(f".{zone.zone_name}"),
            ErrorCode.CONFIG_INVALID,
            f"{endpoint_path}.domain_name",
            f"{self.domain_name!r} is not inside the hosted zone {zone.zone_name!r}",
        )

    def _validate_certificate(self, arn: str, path: str, account: str, region: str) -> None:
        require_match(ACM_CERTIFICATE_ARN_RE, arn, path, "an ACM certificate ARN")
        # A load balancer can only use a certificate of its own account and region.
        parts = arn.split(":")
        require(
            parts[3] == region,
            ErrorCode.CONFIG_INVALID,
            path,
            f"the certificate is in {parts[3]}; the environment's load balancers need one in {region}",
        )
        require(
            parts[4] == account,
            ErrorCode.CONFIG_INVALID,
            path,
            f"the certificate belongs to account {parts[4]}; the environment's load balancers need one of {account}",
        )
