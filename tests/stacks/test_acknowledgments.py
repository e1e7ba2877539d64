"""Acknowledgments: each one must suppress a finding, or synthesis fails; the real app's all do."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Acknowledgment, App, PolicyViolatingResource, PolicyViolation, Stack, Validations
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk.cx_api import CloudAssembly
from cdk_nag import AwsSolutionsChecks

from cashtrace_constructs.config import EndpointConfig
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from stacks.acknowledgments import NagAcknowledgment, apply, audited
from stacks.acknowledgments.audit import UNUSED_ACKNOWLEDGMENT, suppressing, unsuppressed
from stacks.acknowledgments.rules import PLAIN_HTTP_LISTENER, nist_and_pci, solutions
from stacks.app import build_app
from stacks.environments import dev
from tests.synth import make_app, stack_in_region, unacknowledged, validation_report

S1 = solutions("S1")  # the bucket's finding: no server access logs
SQS3 = solutions("SQS3")  # the queue's finding: no dead-letter queue
NAG_NAMESPACES = ("AwsSolutions::", "NIST.800.53.R5::", "PCI.DSS.321::")


def _small_app(outdir: Path, *, report_only: bool = False) -> tuple[App, Stack]:
    """A bucket (finding S1) and a queue (finding SQS3), with the audited AwsSolutions pack."""
    app = make_app(outdir, report_only=report_only)
    stack = stack_in_region(app, "Acks")
    s3.Bucket(stack, "Bucket", enforce_ssl=True)
    sqs.Queue(stack, "Queue", enforce_ssl=True)
    Validations.of(app).add_plugins(audited(AwsSolutionsChecks(app)))
    return app, stack


def _reason(rule: str) -> str:
    return f"test acknowledgment of {rule}"


@pytest.mark.synth
def test_every_finding_acknowledged_and_each_acknowledgment_used_synthesizes(tmp_path: Path) -> None:
    app, stack = _small_app(tmp_path)
    apply(
        stack, [NagAcknowledgment("Bucket/Resource", S1, _reason(S1)), NagAcknowledgment("Queue", SQS3, _reason(SQS3))]
    )
    app.synth()


@pytest.mark.synth
def test_an_acknowledgment_that_suppresses_nothing_fails_synthesis(tmp_path: Path) -> None:
    app, stack = _small_app(tmp_path)
    apply(
        stack,
        [
            NagAcknowledgment("Bucket/Resource", S1, _reason(S1)),
            NagAcknowledgment("Queue", SQS3, _reason(SQS3)),
            # The queue has no S1 finding: this one suppresses nothing.
            NagAcknowledgment("Queue/Resource", S1, _reason(S1)),
        ],
    )
    # Nor can the audit's own finding be acknowledged away.
    Validations.of(stack).acknowledge(
        Acknowledgment(id=f"AwsSolutions::{UNUSED_ACKNOWLEDGMENT}", reason="waved through")
    )
    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        app.synth()
    message = str(failure.value)
    assert "AwsSolutions::AwsSolutions-S1 on Acks/Queue/Resource suppresses nothing" in message
    assert "Acks/Bucket/Resource suppresses nothing" not in message


def _suppressed_at(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (suppressed["acknowledgedAt"], suppressed["acknowledgedId"])
        for plugin in report["pluginReports"]
        for suppressed in plugin.get("suppressedViolations") or []
    }


def _unused(report: dict[str, Any]) -> list[str]:
    return [
        construct["constructPath"]
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        if violation["ruleName"] == UNUSED_ACKNOWLEDGMENT
        for construct in violation["violatingConstructs"]
    ]


@pytest.mark.synth
def test_the_closest_acknowledgment_is_the_one_used_as_cdk_decides(tmp_path: Path) -> None:
    app, stack = _small_app(tmp_path, report_only=True)
    bucket, queue = stack.node.find_child("Bucket"), stack.node.find_child("Queue")
    # S1 on the bucket and on its CfnBucket: CDK takes the closer one, so the outer one is unused.
    # SQS3 only on the queue's L2 construct: it covers the CfnQueue below it.
    for construct, rule in ((bucket, S1), (bucket.node.default_child, S1), (queue, SQS3)):
        assert construct is not None
        Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=_reason(rule)))
    app.synth()
    report = validation_report(tmp_path)
    assert _suppressed_at(report) == {("Acks/Bucket/Resource", S1), ("Acks/Queue", SQS3)}
    assert _unused(report) == ["Acks/Bucket"]


def _violation(
    rule: str, path: str, severity: str = "error", metadata: dict[str, str] | None = None
) -> PolicyViolation:
    return PolicyViolation(
        rule_name=rule,
        description="a finding",
        severity=severity,
        rule_metadata=metadata,
        violating_resources=[PolicyViolatingResource(construct_path=path, locations=[])],
    )


def test_only_suppressible_findings_use_an_acknowledgment() -> None:
    acknowledged = [("App/A", "My-Pack::Rule"), ("App/B", "My-Pack::Rule"), ("App/C", "My-Pack::Rule")]
    used = suppressing(
        [
            _violation("Rule", "App/A/Resource", "warning"),
            # CDK never suppresses a fatal finding, nor an error raised as a construct annotation.
            _violation("Rule", "App/B/Resource", "fatal"),
            _violation("Rule", "App/C/Resource", metadata={"cdk:annotation": "true"}),
        ],
        acknowledged,
        "My-Pack",
    )
    assert used == {("App/A", "My-Pack::Rule")}


def test_unsuppressed_counts_what_no_acknowledgment_covers_as_cdk_would_fail_on_it() -> None:
    acknowledged = [("App/A", "My-Pack::Rule")]
    violations = [
        _violation("Rule", "App/A/Resource"),
        _violation("Rule", "App/B/Resource"),
        _violation("Rule", "App/A/Other", "fatal"),
        _violation("Other", "App/A/Resource"),
    ]
    assert unsuppressed(violations, acknowledged, "My-Pack") == 3


def test_rule_names_are_namespaced_as_cdk_does_and_the_closest_path_wins() -> None:
    acknowledged = [("App", "My-Pack::Some-Rule"), ("App/A", "My-Pack::Some-Rule"), ("App/A", "Other::Some-Rule")]
    used = suppressing([_violation("Some Rule", "App/A/Resource")], acknowledged, "My-Pack")
    assert used == {("App/A", "My-Pack::Some-Rule")}


def test_a_path_that_names_no_construct_is_refused() -> None:
    app = make_app()
    stack = stack_in_region(app, "Acks")
    s3.Bucket(stack, "Bucket", enforce_ssl=True)
    with pytest.raises(DeploymentError) as refused:
        apply(stack, [NagAcknowledgment("Bukket/Resource", S1, _reason(S1))])
    assert refused.value.code is ErrorCode.CONFIG_INVALID
    assert "'Bukket/Resource'" in str(refused.value)


def _recorded_acknowledgments(assembly: CloudAssembly) -> Iterator[tuple[str, str]]:
    for stack in assembly.stacks_recursively:
        directory = Path(stack.template_full_path).parent
        manifest = json.loads((directory / "manifest.json").read_text())
        metadata = json.loads((directory / manifest["artifacts"][stack.id]["additionalMetadataFile"]).read_text())
        for path, entries in metadata.items():
            for entry in entries:
                if entry["type"] == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                    yield from ((path.removeprefix("/"), rule) for rule in entry["data"])


def test_every_acknowledgment_of_the_real_app_suppresses_a_finding_cdk_reports(
    cloud_assembly: CloudAssembly, app_validation_report: dict[str, Any]
) -> None:
    # CDK's own record of what each acknowledgment suppressed, independent of the audit's matching.
    acknowledged = {ack for ack in _recorded_acknowledgments(cloud_assembly) if ack[1].startswith(NAG_NAMESPACES)}
    assert len(acknowledged) > 100
    assert acknowledged - _suppressed_at(app_validation_report) == set()


@pytest.mark.synth
def test_plain_http_switches_on_the_listener_acknowledgments(tmp_path: Path) -> None:
    """The shipped environments serve TLS and acknowledge nothing about it; dev on explicit plain HTTP
    gets exactly the plain-HTTP entries, and the stack still passes every pack with no unused entry."""
    config = dataclasses.replace(dev(), endpoint=EndpointConfig(domain_name="dev.cashtrace.ng", plain_http=True))
    app = make_app(tmp_path, report_only=True)
    build_app(app, [config], with_pipeline=False)
    app.synth()
    report = validation_report(tmp_path)
    assert unacknowledged(report) == []
    plain_http = ("Api/LoadBalancer/ProductionListener/Resource", "Api/LoadBalancer/TestListener/Resource")
    suppressed = _suppressed_at(report)
    for listener in (*plain_http, "Grafana/LoadBalancer/Http/Resource"):
        path = f"{config.stack_name}/{listener}"
        assert {rule for at, rule in suppressed if at == path} >= set(PLAIN_HTTP_LISTENER), path


# The load-balancer TLS rules of the packs (CloudFront's own TLS policy, CFR4, is the storage capability's).
LISTENER_TLS_RULES = frozenset({*PLAIN_HTTP_LISTENER, *nist_and_pci("ELBTlsHttpsListenersOnly")})


def test_no_stack_of_the_real_app_acknowledges_a_listener_tls_finding(cloud_assembly: CloudAssembly) -> None:
    tls = [(path, rule) for path, rule in _recorded_acknowledgments(cloud_assembly) if rule in LISTENER_TLS_RULES]
    assert tls == []
