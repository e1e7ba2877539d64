"""Property 7 at synth time: the RegionLock aspect refuses stacks and resources outside Africa."""

from __future__ import annotations

import pytest
from aws_cdk import Aspects, Environment, Stack, Stage
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from cashtrace_constructs.region_lock import RegionLock
from tests.synth import make_app, stack_in_region


def _synth_errors(app) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError, match="ValidationFailed") as raised:
        app.synth()
    return str(raised.value)


def _locked_app():  # type: ignore[no-untyped-def]
    app = make_app()
    Aspects.of(app).add(RegionLock())
    return app


def _report(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return (tmp_path / "validation-report.json").read_text()


def test_stack_in_another_region_fails_synthesis_naming_the_stack(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(tmp_path)
    Aspects.of(app).add(RegionLock())
    stack_in_region(app, "Ireland", region="eu-west-1")
    _synth_errors(app)
    report = _report(tmp_path)
    assert "DEPLOY_RESIDENCY_VIOLATION" in report
    assert "Ireland" in report and "eu-west-1" in report


def test_environment_agnostic_stack_fails_synthesis(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(tmp_path)
    Aspects.of(app).add(RegionLock())
    Stack(app, "Anywhere")
    _synth_errors(app)
    assert "environment-agnostic" in _report(tmp_path)


def test_stack_in_cape_town_synthesizes() -> None:
    app = _locked_app()
    s3.Bucket(stack_in_region(app), "Bucket")
    app.synth()


def test_s3_replication_to_a_bucket_in_another_region_fails_naming_the_resource(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(tmp_path)
    Aspects.of(app).add(RegionLock())
    stack = stack_in_region(app)
    elsewhere = s3.Bucket.from_bucket_attributes(
        stack, "Replica", bucket_arn="arn:aws:s3:::cashtrace-replica-eu", region="eu-west-1"
    )
    s3.CfnBucket(
        stack,
        "Leaky",
        versioning_configuration=s3.CfnBucket.VersioningConfigurationProperty(status="Enabled"),
        replication_configuration=s3.CfnBucket.ReplicationConfigurationProperty(
            role="arn:aws:iam::123456789012:role/replication",
            rules=[
                s3.CfnBucket.ReplicationRuleProperty(
                    status="Enabled",
                    destination=s3.CfnBucket.ReplicationDestinationProperty(bucket=elsewhere.bucket_arn),
                )
            ],
        ),
    )
    _synth_errors(app)
    report = _report(tmp_path)
    assert "Test/Leaky" in report
    assert "ReplicationConfiguration" in report and "Property 7" in report


def _ecr_replication(app, *, region: str, registry: str) -> None:  # type: ignore[no-untyped-def]
    destination = ecr.CfnReplicationConfiguration.ReplicationDestinationProperty(region=region, registry_id=registry)
    rule = ecr.CfnReplicationConfiguration.ReplicationRuleProperty(destinations=[destination])
    ecr.CfnReplicationConfiguration(
        stack_in_region(app),
        "Replication",
        replication_configuration=ecr.CfnReplicationConfiguration.ReplicationConfigurationProperty(rules=[rule]),
    )


def test_ecr_replication_to_another_region_fails() -> None:
    app = _locked_app()
    _ecr_replication(app, region="eu-central-1", registry="123456789012")
    assert "ValidationFailed" in _synth_errors(app)


def test_multi_region_kms_key_fails() -> None:
    app = _locked_app()
    kms.Key(stack_in_region(app), "Key", multi_region=True)
    _synth_errors(app)


def test_same_region_replication_is_allowed() -> None:
    app = _locked_app()
    _ecr_replication(app, region="af-south-1", registry="210987654321")
    app.synth()


def test_a_stage_carries_its_own_lock(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Aspects of the App do not reach into a Stage; the stage must be locked itself.
    app = make_app(tmp_path)
    stage = Stage(app, "Elsewhere", env=Environment(account="123456789012", region="eu-west-1"))
    Aspects.of(stage).add(RegionLock())
    Stack(stage, "Inner")
    _synth_errors(app)
    assert "Elsewhere/Inner" in _report(tmp_path)


def test_allow_list_is_configurable() -> None:
    app = make_app()
    Aspects.of(app).add(RegionLock(allowed_regions=("af-south-1", "af-north-1")))
    stack_in_region(app, "Future", region="af-north-1")
    app.synth()
