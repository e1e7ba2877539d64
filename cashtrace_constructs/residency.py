"""Data residency (Property 7): which regions are allowed, and which template properties move data.

Pure functions over CloudFormation JSON, shared by the `RegionLock` aspect (in-process, per
resource) and the data-residency rule of the checks plugin (per synthesized template, Stages
included).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Any AWS region name, including the ones a string only mentions inside an ARN or a host name.
_REGION_RE = re.compile(r"(?<![a-z0-9-])((?:us|eu|ap|sa|ca|me|af|il|mx)(?:-gov)?-[a-z]+-\d)(?![a-z0-9])")

# Global services that hold no user data. Their resources may name us-east-1 because AWS only
# offers them there (CloudFront's WAF web ACLs and ACM certificates); they are listed here, and
# only here, so a reviewer sees every exemption in one place.
GLOBAL_SERVICE_EXEMPTIONS: Mapping[str, tuple[str, ...]] = {
    "AWS::CloudFront::Distribution": ("us-east-1",),
    "AWS::Route53::RecordSet": ("us-east-1",),
    "AWS::Route53::HostedZone": ("us-east-1",),
}

# Free-text properties: mentioning a region in a description sends no data anywhere.
_IGNORED_KEYS = frozenset({"Description", "Comment", "AlarmDescription", "Metadata"})


@dataclass(frozen=True)
class ResidencyLeak:
    """One property of one resource that sends or copies data outside the allowed regions."""

    logical_id: str
    resource_type: str
    location: str
    reason: str


def _strings(value: Any, location: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield location, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key not in _IGNORED_KEYS:
                yield from _strings(item, f"{location}.{key}")
    elif isinstance(value, Sequence):
        for index, item in enumerate(value):
            yield from _strings(item, f"{location}[{index}]")


def _is_reference(value: Any) -> bool:
    return isinstance(value, Mapping) and bool({"Ref", "Fn::GetAtt"} & set(value))


def _s3_replication_leaks(logical_id: str, properties: Mapping[str, Any]) -> Iterator[ResidencyLeak]:
    # An S3 ARN carries no region, so a destination named by literal ARN or import could be
    # anywhere: only a bucket defined in this same (region-pinned) template is provably local.
    rules = (properties.get("ReplicationConfiguration") or {}).get("Rules") or []
    for index, rule in enumerate(rules):
        destination = (rule.get("Destination") or {}).get("Bucket")
        if not _is_reference(destination):
            yield ResidencyLeak(
                logical_id,
                "AWS::S3::Bucket",
                f"Properties.ReplicationConfiguration.Rules[{index}].Destination.Bucket",
                f"replication destination {destination!r} is not a bucket of this region-locked stack",
            )


def resource_leaks(logical_id: str, resource: Mapping[str, Any], allowed_regions: Sequence[str]) -> list[ResidencyLeak]:
    """Every way one template resource sends data outside `allowed_regions`."""
    resource_type = str(resource.get("Type", ""))
    properties = resource.get("Properties") or {}
    allowed = set(allowed_regions) | set(GLOBAL_SERVICE_EXEMPTIONS.get(resource_type, ()))
    leaks: list[ResidencyLeak] = []
    for location, text in _strings(properties, "Properties"):
        for region in _REGION_RE.findall(text):
            if region not in allowed:
                leaks.append(
                    ResidencyLeak(logical_id, resource_type, location, f"names region {region} ({text[:120]})")
                )
    if resource_type == "AWS::S3::Bucket":
        leaks.extend(_s3_replication_leaks(logical_id, properties))
    if resource_type == "AWS::KMS::Key" and properties.get("MultiRegion") is True:
        leaks.append(
            ResidencyLeak(
                logical_id, resource_type, "Properties.MultiRegion", "multi-region keys can be replicated out of Africa"
            )
        )
    return leaks


def template_leaks(template: Mapping[str, Any], allowed_regions: Sequence[str]) -> list[ResidencyLeak]:
    """Every residency leak in a synthesized CloudFormation template."""
    leaks: list[ResidencyLeak] = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        leaks.extend(resource_leaks(logical_id, resource, allowed_regions))
    return leaks
