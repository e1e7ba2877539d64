"""No bucket is public: all four public-access-block switches on, no public ACL, no unconditioned `*` grant.

cdk-nag judges the construct tree; this reads the template that ships, so a public-access block
switched off or a public policy statement added through an escape hatch is refused too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cashtrace_constructs.checks.rule import Finding, StackRule, SynthesizedStack
from cashtrace_constructs.checks.template import listed, of_type, properties, references, statements

PUBLIC_ACCESS_BLOCK = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
PUBLIC_ACLS = ("PublicRead", "PublicReadWrite", "AuthenticatedRead")


def grants_everyone(statement: Mapping[str, Any]) -> bool:
    """An Allow to any principal (`*` or `{"AWS": "*"}`) with no Condition narrowing who it reaches."""
    if statement.get("Effect") != "Allow" or statement.get("Condition"):
        return False
    principal = statement.get("Principal")
    if principal == "*":
        return True
    return isinstance(principal, Mapping) and "*" in listed(principal.get("AWS"))


class PublicBuckets(StackRule):
    rule_id = "CT-PublicBucket"
    property_name = "Bucket exposure"
    description = (
        "Every S3 bucket blocks public access (all four switches), has no public canned ACL, and no bucket "
        "policy allows `*` without a condition."
    )
    fix = "Keep block_public_access=BLOCK_ALL; grant through a principal (CloudFront OAC, a role), never `*`."

    def check_stack(self, stack: SynthesizedStack) -> Iterable[Finding]:
        for logical_id, bucket in of_type(stack.template, "AWS::S3::Bucket"):
            props = properties(bucket)
            block = props.get("PublicAccessBlockConfiguration") or {}
            off = [switch for switch in PUBLIC_ACCESS_BLOCK if block.get(switch) is not True]
            if off:
                yield self.finding(
                    stack,
                    f"bucket {logical_id} does not block public access ({', '.join(off)} not true)",
                    logical_id=logical_id,
                    location="Properties.PublicAccessBlockConfiguration",
                )
            if props.get("AccessControl") in PUBLIC_ACLS:
                yield self.finding(
                    stack,
                    f"bucket {logical_id} has the public canned ACL {props['AccessControl']}",
                    logical_id=logical_id,
                    location="Properties.AccessControl",
                )
        for logical_id, policy in of_type(stack.template, "AWS::S3::BucketPolicy"):
            props = properties(policy)
            buckets = sorted(references(props.get("Bucket"))) or [str(props.get("Bucket"))]
            for index, statement in statements(props.get("PolicyDocument") or {}):
                if grants_everyone(statement):
                    yield self.finding(
                        stack,
                        f"bucket policy {logical_id} of {', '.join(buckets)} allows "
                        f"{statement.get('Action')} to everyone (`*`) without a condition",
                        logical_id=logical_id,
                        location=f"Properties.PolicyDocument.Statement[{index}]",
                    )
