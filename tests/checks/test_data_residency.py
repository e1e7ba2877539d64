"""Property 7 rule over synthesized templates: compliant and non-compliant cases."""

from __future__ import annotations

from typing import Any

import pytest

from cashtrace_constructs.checks import DataResidency, SynthesizedStack, evaluate
from cashtrace_constructs.residency import GLOBAL_SERVICE_EXEMPTIONS


def _stack(resources: dict[str, Any], region: str | None = "af-south-1") -> SynthesizedStack:
    return SynthesizedStack(name="S", construct_path="S", template={"Resources": resources}, region=region)


def _findings(stack: SynthesizedStack) -> list[str]:
    return [str(f) for f in evaluate([DataResidency()], [stack])]


def test_resident_stack_is_compliant() -> None:
    stack = _stack(
        {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "x"}},
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"MultiRegion": False}},
            "Topic": {
                "Type": "AWS::SNS::Topic",
                "Properties": {"KmsMasterKeyId": "arn:aws:kms:af-south-1:123456789012:key/abc"},
            },
        }
    )
    assert _findings(stack) == []


@pytest.mark.parametrize("region", ["eu-west-1", "us-east-1", None])
def test_stack_outside_allow_list_or_env_agnostic_is_refused(region: str | None) -> None:
    findings = _findings(_stack({}, region=region))
    assert len(findings) == 1
    assert "Property 7" in findings[0] and "DEPLOY_RESIDENCY_VIOLATION" in findings[0]


@pytest.mark.parametrize(
    ("resource_type", "properties", "location"),
    [
        (
            "AWS::Backup::BackupPlan",
            {
                "BackupPlan": {
                    "BackupPlanRule": [
                        {
                            "CopyActions": [
                                {"DestinationBackupVaultArn": "arn:aws:backup:eu-west-1:123456789012:backup-vault:x"}
                            ]
                        }
                    ]
                }
            },
            "CopyActions",
        ),
        ("AWS::DynamoDB::GlobalTable", {"Replicas": [{"Region": "af-south-1"}, {"Region": "eu-west-2"}]}, "Replicas"),
        (
            "AWS::Logs::SubscriptionFilter",
            {"DestinationArn": {"Fn::Join": ["", ["arn:aws:firehose:us-west-2:", {"Ref": "AWS::AccountId"}, ":x"]]}},
            "DestinationArn",
        ),
        ("AWS::RDS::DBInstance", {"AutomaticBackupReplicationRegion": "eu-central-1"}, "AutomaticBackupReplication"),
        ("AWS::KMS::Key", {"MultiRegion": True}, "MultiRegion"),
        (
            "AWS::S3::Bucket",
            {"ReplicationConfiguration": {"Rules": [{"Destination": {"Bucket": "arn:aws:s3:::somewhere"}}]}},
            "Destination.Bucket",
        ),
    ],
)
def test_resources_sending_data_out_are_refused_with_their_location(
    resource_type: str, properties: dict[str, Any], location: str
) -> None:
    findings = evaluate([DataResidency()], [_stack({"Leaky": {"Type": resource_type, "Properties": properties}})])
    assert findings, f"{resource_type} leak was not found"
    assert all(f.logical_id == "Leaky" for f in findings)
    assert any(location in f.location for f in findings)


def test_replication_to_a_bucket_of_the_same_template_is_allowed() -> None:
    stack = _stack(
        {
            "Replica": {"Type": "AWS::S3::Bucket", "Properties": {}},
            "Source": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "ReplicationConfiguration": {
                        "Rules": [{"Destination": {"Bucket": {"Fn::GetAtt": ["Replica", "Arn"]}}}]
                    }
                },
            },
        }
    )
    assert _findings(stack) == []


def test_descriptions_may_mention_other_regions() -> None:
    stack = _stack(
        {"Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmDescription": "unlike eu-west-1"}}}
    )
    assert _findings(stack) == []


def test_cloudfront_may_name_us_east_1_only() -> None:
    assert "AWS::CloudFront::Distribution" in GLOBAL_SERVICE_EXEMPTIONS
    waf = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/y"
    ok = _stack(
        {"Cdn": {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {"WebACLId": waf}}}}
    )
    assert _findings(ok) == []
    bad_origin = {"DistributionConfig": {"Origins": [{"DomainName": "data.s3.eu-west-1.amazonaws.com"}]}}
    bad = _stack({"Cdn": {"Type": "AWS::CloudFront::Distribution", "Properties": bad_origin}})
    assert len(_findings(bad)) == 1
