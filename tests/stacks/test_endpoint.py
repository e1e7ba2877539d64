"""TLS on every listener of the real app, the names the certificate covers, and what each stack outputs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk.assertions import Template

from cashtrace_constructs.checks.template import of_type
from cashtrace_constructs.config import EndpointConfig, HostedZone
from cashtrace_constructs.domain import EnvironmentDomain, EnvironmentDomainProps
from cashtrace_constructs.errors import DeploymentError
from stacks.environments import all_environments
from tests.synth import make_app, stack_in_region

CONFIGS = {config.stack_name: config for config in all_environments()}
# Every environment template, top-level and as the pipeline deploys it.
TEMPLATES = (
    "CashTrace-Dev",
    "CashTrace-Staging",
    "CashTrace-Prod",
    "CashTrace-Pipeline/Staging/Environment",
    "CashTrace-Pipeline/Prod/Environment",
)
POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"


def _load_balancer(template: dict[str, Any], scheme: str) -> str:
    (logical_id,) = [
        i
        for i, r in of_type(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
        if r["Properties"]["Scheme"] == scheme
    ]
    return logical_id


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_listener_is_https_with_a_tls13_policy_and_nothing_listens_on_80(
    name: str, templates: dict[str, dict[str, Any]]
) -> None:
    template = templates[name]
    listeners = [r["Properties"] for _, r in of_type(template, "AWS::ElasticLoadBalancingV2::Listener")]
    assert sorted(listener["Port"] for listener in listeners) == [443, 443, 9443]
    for listener in listeners:
        assert listener["Protocol"] == "HTTPS" and listener["SslPolicy"] == POLICY, listener
        assert listener["Certificates"] == [{"CertificateArn": {"Ref": _certificate(template)}}]
    (production,) = [r for r in listeners if r["Port"] == 443 and "ListenerAttributes" in r]
    assert {
        "Key": "routing.http.response.strict_transport_security.header_value",
        "Value": "max-age=31536000; includeSubDomains",
    } in production["ListenerAttributes"]
    ingress = [
        rule
        for _, group in of_type(template, "AWS::EC2::SecurityGroup")
        for rule in group["Properties"].get("SecurityGroupIngress", [])
    ] + [r["Properties"] for _, r in of_type(template, "AWS::EC2::SecurityGroupIngress")]
    assert not [
        rule
        for rule in ingress
        if rule.get("FromPort", 0) <= 80 <= rule.get("ToPort", -1) and rule.get("CidrIp") == "0.0.0.0/0"
    ]


def _certificate(template: dict[str, Any]) -> str:
    (logical_id,) = [i for i, _ in of_type(template, "AWS::CertificateManager::Certificate")]
    return logical_id


@pytest.mark.parametrize("name", ["CashTrace-Dev", "CashTrace-Staging", "CashTrace-Prod"])
def test_the_certificate_covers_the_api_and_grafana_and_dns_points_both_at_their_load_balancers(
    name: str, templates: dict[str, dict[str, Any]]
) -> None:
    template, endpoint = templates[name], CONFIGS[name].endpoint
    assert endpoint.hosted_zone is not None
    certificate = template["Resources"][_certificate(template)]["Properties"]
    assert certificate["DomainName"] == endpoint.domain_name
    assert certificate["SubjectAlternativeNames"] == [f"grafana.{endpoint.domain_name}"]
    assert certificate["ValidationMethod"] == "DNS"
    assert {option["HostedZoneId"] for option in certificate["DomainValidationOptions"]} == {
        endpoint.hosted_zone.zone_id
    }
    records = {r["Properties"]["Name"]: r["Properties"] for _, r in of_type(template, "AWS::Route53::RecordSet")}
    api, grafana = records[f"{endpoint.domain_name}."], records[f"grafana.{endpoint.domain_name}."]
    assert api["AliasTarget"]["HostedZoneId"] == {
        "Fn::GetAtt": [_load_balancer(template, "internet-facing"), "CanonicalHostedZoneID"]
    }
    assert grafana["AliasTarget"]["HostedZoneId"] == {
        "Fn::GetAtt": [_load_balancer(template, "internal"), "CanonicalHostedZoneID"]
    }


@pytest.mark.parametrize("name", ["CashTrace-Staging", "CashTrace-Prod"])
def test_the_deploy_hook_checks_the_domain_over_https_on_the_load_balancer(
    name: str, templates: dict[str, dict[str, Any]]
) -> None:
    template, endpoint = templates[name], CONFIGS[name].endpoint
    [variables] = [
        r["Properties"]["Environment"]["Variables"]
        for _, r in of_type(template, "AWS::Lambda::Function")
        if "TEST_URL" in r["Properties"].get("Environment", {}).get("Variables", {})
    ]
    assert variables["TEST_URL"] == f"https://{endpoint.domain_name}:9443/health"
    assert variables["TEST_CONNECT_HOST"] == {"Fn::GetAtt": [_load_balancer(template, "internet-facing"), "DNSName"]}


@pytest.mark.parametrize("name", ["CashTrace-Staging", "CashTrace-Prod"])
def test_grafana_is_served_over_https_with_secure_cookies(name: str, templates: dict[str, dict[str, Any]]) -> None:
    template, endpoint = templates[name], CONFIGS[name].endpoint
    environment = {
        variable["Name"]: variable["Value"]
        for _, task in of_type(template, "AWS::ECS::TaskDefinition")
        for container in task["Properties"]["ContainerDefinitions"]
        if container["Name"] == "Grafana"
        for variable in container.get("Environment", [])
    }
    assert environment["GF_SECURITY_COOKIE_SECURE"] == "true"
    assert environment["GF_SERVER_ROOT_URL"] == f"https://grafana.{endpoint.domain_name}"


@pytest.mark.parametrize("name", ["CashTrace-Staging", "CashTrace-Prod"])
def test_each_environment_outputs_its_https_url_dashboard_and_grafana(
    name: str, templates: dict[str, dict[str, Any]]
) -> None:
    outputs, endpoint = templates[name]["Outputs"], CONFIGS[name].endpoint
    assert outputs["ServiceUrl"]["Value"] == CONFIGS[name].settings.url == f"https://{endpoint.domain_name}"
    assert outputs["GrafanaUrl"]["Value"] == f"https://grafana.{endpoint.domain_name}"
    dashboard = json.dumps(outputs["DashboardUrl"]["Value"])
    assert "console.aws.amazon.com/cloudwatch/home?region=af-south-1#dashboards/dashboard/" in dashboard


def _domain(endpoint: EndpointConfig) -> tuple[Stack, EnvironmentDomain]:
    stack = stack_in_region(make_app())
    return stack, EnvironmentDomain(stack, "Domain", props=EnvironmentDomainProps(config=endpoint))


def test_an_imported_certificate_is_used_as_is_and_dns_is_left_to_the_team() -> None:
    arn = "arn:aws:acm:af-south-1:123456789012:certificate/0f6a3c1e-1111-2222-3333-444455556666"
    stack, domain = _domain(EndpointConfig(domain_name="app.cashtrace.ng", certificate_arn=arn))
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    balancer = elbv2.ApplicationLoadBalancer(stack, "Balancer", vpc=vpc)
    assert domain.alias("ApiAlias", domain.api, balancer) is None
    assert domain.certificate.certificate_arn == arn and domain.zone is None
    template = Template.from_stack(stack).to_json()
    assert not list(of_type(template, "AWS::CertificateManager::Certificate"))
    assert not list(of_type(template, "AWS::Route53::RecordSet"))


def test_a_plain_http_environment_has_no_domain_to_build() -> None:
    with pytest.raises(DeploymentError) as refused:
        _domain(EndpointConfig(domain_name="dev.cashtrace.ng", plain_http=True))
    assert refused.value.field == "endpoint.plain_http"


def test_a_hosted_zone_issues_the_certificate_in_the_stacks_own_region() -> None:
    zone = HostedZone(zone_id="Z0123456789ABCDEFGHIJ", zone_name="cashtrace.ng")
    stack, domain = _domain(EndpointConfig(domain_name="app.cashtrace.ng", hosted_zone=zone))
    assert domain.zone is not None and domain.grafana.host_name == "grafana.app.cashtrace.ng"
    (certificate,) = [
        r for _, r in of_type(Template.from_stack(stack).to_json(), "AWS::CertificateManager::Certificate")
    ]
    # No CertificateRegion: the certificate lives where the load balancers do.
    assert "CertificateRegion" not in json.dumps(certificate) and stack.region == "af-south-1"
