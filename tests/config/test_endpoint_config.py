"""TLS by config: staging and prod refuse plain HTTP, dev takes it only explicitly; placeholders are named."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from cashtrace_constructs.config import (
    PLACEHOLDER_NOTIFICATION_EMAIL,
    EndpointConfig,
    EnvironmentConfig,
    HostedZone,
    PipelineConfig,
    is_placeholder,
)
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from stacks import environments

ACCOUNT = "123456789012"
ZONE = HostedZone(zone_id="Z0123456789ABCDEFGHIJ", zone_name="cashtrace.ng")


def _certificate(region: str = "af-south-1", account: str = ACCOUNT) -> str:
    return f"arn:aws:acm:{region}:{account}:certificate/0f6a3c1e-1111-2222-3333-444455556666"


def _with_endpoint(name: str, endpoint: EndpointConfig) -> EnvironmentConfig:
    shipped = getattr(environments, name)({f"account.{name}": ACCOUNT})
    return dataclasses.replace(shipped, endpoint=endpoint)


@pytest.mark.parametrize("name", ["staging", "prod"])
def test_staging_and_prod_refuse_plain_http(name: str) -> None:
    domain = environments.all_environments()[["dev", "staging", "prod"].index(name)].endpoint.domain_name
    with pytest.raises(DeploymentError) as refused:
        _with_endpoint(name, EndpointConfig(domain_name=domain, plain_http=True))
    assert refused.value.field == f"{name}.endpoint.plain_http"
    assert refused.value.code is ErrorCode.CONFIG_INVALID


@pytest.mark.parametrize("name", ["dev", "staging", "prod"])
def test_no_environment_runs_without_tls_unless_it_says_so(name: str) -> None:
    domain = getattr(environments, name)().endpoint.domain_name
    with pytest.raises(DeploymentError) as refused:
        _with_endpoint(name, EndpointConfig(domain_name=domain))
    assert refused.value.field == f"{name}.endpoint"
    assert refused.value.code is ErrorCode.CONFIG_INVALID
    assert "hosted_zone" in str(refused.value) and "certificate_arn" in str(refused.value)


def test_dev_may_run_plain_http_when_its_config_says_so() -> None:
    config = _with_endpoint("dev", EndpointConfig(domain_name="dev.cashtrace.ng", plain_http=True))
    assert not config.endpoint.tls


@pytest.mark.parametrize(
    ("endpoint", "field"),
    [
        (
            EndpointConfig(domain_name="app.cashtrace.ng", hosted_zone=ZONE, certificate_arn=_certificate()),
            "certificate_arn",
        ),
        (
            EndpointConfig(domain_name="app.cashtrace.ng", certificate_arn=_certificate(region="us-east-1")),
            "certificate_arn",
        ),
        (
            EndpointConfig(domain_name="app.cashtrace.ng", certificate_arn=_certificate(account="210987654321")),
            "certificate_arn",
        ),
        (EndpointConfig(domain_name="app.cashtrace.ng", certificate_arn="arn:aws:iam::1:role/x"), "certificate_arn"),
        (EndpointConfig(domain_name="app.example.com", hosted_zone=ZONE), "domain_name"),
        (EndpointConfig(domain_name="App.CashTrace.ng", hosted_zone=ZONE), "domain_name"),
        (
            EndpointConfig(domain_name="app.cashtrace.ng", hosted_zone=HostedZone("not-a-zone", "cashtrace.ng")),
            "hosted_zone.zone_id",
        ),
        (EndpointConfig(domain_name="app.cashtrace.ng", plain_http=True, hosted_zone=ZONE), "plain_http"),
    ],
)
def test_bad_endpoints_are_refused_with_the_field(endpoint: EndpointConfig, field: str) -> None:
    with pytest.raises(DeploymentError) as refused:
        _with_endpoint("prod", endpoint)
    assert refused.value.field == f"prod.endpoint.{field}"


def test_an_imported_certificate_of_the_environments_account_and_region_is_accepted() -> None:
    config = _with_endpoint("prod", EndpointConfig(domain_name="app.cashtrace.ng", certificate_arn=_certificate()))
    assert config.endpoint.certificate_names == ("app.cashtrace.ng", "grafana.app.cashtrace.ng")


def test_the_environment_url_is_the_https_domain() -> None:
    config = environments.prod()
    with pytest.raises(DeploymentError) as refused:
        dataclasses.replace(config, settings=dataclasses.replace(config.settings, url="https://www.cashtrace.ng"))
    assert refused.value.field == "prod.settings.url"
    assert config.endpoint.service_url == config.settings.url == "https://app.cashtrace.ng"


def test_tls_settings_come_from_context_then_environment_then_the_placeholder_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable in ("CASHTRACE_PROD_HOSTED_ZONE_ID", "CASHTRACE_PROD_CERTIFICATE_ARN"):
        monkeypatch.delenv(variable, raising=False)
    placeholder = environments.prod().endpoint
    assert placeholder.hosted_zone is not None and is_placeholder(placeholder.hosted_zone.zone_id)
    monkeypatch.setenv("CASHTRACE_PROD_HOSTED_ZONE_ID", "Z0123456789ABCDEFGHIJ")
    assert environments.prod().endpoint.hosted_zone == ZONE
    imported = environments.prod({"account.prod": ACCOUNT, "certificate-arn.prod": _certificate()}).endpoint
    assert imported.certificate_arn == _certificate() and imported.hosted_zone is None


def test_placeholder_fields_name_what_a_team_must_still_supply(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("CASHTRACE_PROD_ACCOUNT", "CASHTRACE_PIPELINE_ACCOUNT", "CASHTRACE_PROD_HOSTED_ZONE_ID"):
        monkeypatch.delenv(variable, raising=False)
    assert environments.prod().placeholder_fields() == (
        "prod.infrastructure.account",
        "prod.service.repository_account",
        "prod.endpoint.hosted_zone.zone_id",
    )
    real = environments.prod(
        {"account.prod": ACCOUNT, "account.pipeline": "210987654321", "hosted-zone-id.prod": ZONE.zone_id}
    )
    assert real.placeholder_fields() == ()
    own_certificate = _with_endpoint(
        "prod", EndpointConfig(domain_name="app.cashtrace.ng", certificate_arn=_certificate(account=ACCOUNT))
    )
    assert "prod.endpoint.certificate_arn" not in own_certificate.placeholder_fields()
    assert is_placeholder(_certificate(account="333333333333"))


def _pipeline(**overrides: Any) -> PipelineConfig:
    return PipelineConfig(**{"account": "444444444444", "region": "af-south-1", **overrides})


def test_pipeline_notifications_need_a_real_looking_address() -> None:
    with pytest.raises(DeploymentError) as refused:
        _pipeline(notification_emails=())
    assert refused.value.field == "pipeline.notification_emails"
    with pytest.raises(DeploymentError) as refused:
        _pipeline(notification_emails=("ops@cashtrace.ng", "not an address"))
    assert refused.value.field == "pipeline.notification_emails[1]"
    assert _pipeline().placeholder_fields() == ("pipeline.account", "pipeline.notification_emails[0]")
    assert _pipeline(notification_emails=("ops@cashtrace.ng",)).notification_emails == ("ops@cashtrace.ng",)


def test_pipeline_notification_addresses_come_from_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CASHTRACE_NOTIFICATION_EMAILS", raising=False)
    assert environments.pipeline().notification_emails == (PLACEHOLDER_NOTIFICATION_EMAIL,)
    configured = environments.pipeline({"notification-emails": "ops@cashtrace.ng, release@cashtrace.ng"})
    assert configured.notification_emails == ("ops@cashtrace.ng", "release@cashtrace.ng")
