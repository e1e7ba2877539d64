"""How an acknowledgment is written: one construct path, the rules it acknowledges, one reason.

Rule ids carry their pack's namespace (`AwsSolutions::AwsSolutions-S1`): CDK matches an
acknowledgment to a plugin's finding by `<plugin name>::<rule name>`, and drops the bare form.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnElement, Stack
from constructs import IConstruct


@dataclass(frozen=True)
class NagAcknowledgment:
    # Relative to the stack; a `*` matches one segment (per-AZ and generated constructs).
    path: str
    rule: str
    reason: str
    # The module of this package that owns the entry; `make evidence` groups acknowledgments by it.
    capability: str = ""


def acknowledged(path: str, *rules: str, reason: str) -> list[NagAcknowledgment]:
    """The entries for `rules` on the construct at `path`, all for the same reason."""
    return [NagAcknowledgment(path, rule, reason) for rule in rules]


def solutions(rule: str) -> str:
    return f"AwsSolutions::AwsSolutions-{rule}"


def nist(rule: str) -> str:
    return f"NIST.800.53.R5::NIST.800.53.R5-{rule}"


def pci(rule: str) -> str:
    return f"PCI.DSS.321::PCI.DSS.321-{rule}"


def our_rule(rule: str) -> str:
    """A rule of our own `CashTraceChecks` plugin (cashtrace_constructs/checks/)."""
    return f"CashTraceChecks::{rule}"


def nist_and_pci(rule: str) -> tuple[str, str]:
    """The NIST 800-53 R5 and PCI DSS 3.2.1 packs share most rule names."""
    return nist(rule), pci(rule)


def managed_policy(name: str) -> str:
    """AwsSolutions-IAM4 for one AWS managed policy (`service-role/...` included in `name`)."""
    return solutions(f"IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{name}]")


def wildcard(detail: str) -> str:
    """AwsSolutions-IAM5 for one wildcard, `Resource::...` or `Action::...`."""
    return solutions(f"IAM5[{detail}]")


INLINE_POLICY = nist_and_pci("IAMNoInlinePolicy")
REPLICATION = nist_and_pci("S3BucketReplicationEnabled")
KMS_DEFAULT_ENCRYPTION = nist_and_pci("S3DefaultEncryptionKMS")
BUCKET_LOGGING = (solutions("S1"), *nist_and_pci("S3BucketLoggingEnabled"))
SECRET_ROTATION = (solutions("SMG4"), nist("SecretsManagerRotationEnabled"))
PLAIN_HTTP_LISTENER = (*nist_and_pci("ALBHttpToHttpsRedirection"), *nist_and_pci("ELBv2ACMCertificateRequired"))


def construct_at(stack: Stack, path: str) -> IConstruct:
    node: IConstruct = stack
    for segment in path.split("/"):
        node = node.node.find_child(segment)
    return node


def logical_id(stack: Stack, path: str) -> str:
    """The logical id of the CloudFormation element at `path`, as cdk-nag writes it in a finding."""
    element = construct_at(stack, path)
    if not isinstance(element, CfnElement):
        raise TypeError(f"{element.node.path} is not a CloudFormation element")
    return stack.get_logical_id(element)


def arn_of(stack: Stack, path: str) -> str:
    """`Fn::GetAtt [<element at path>, Arn]` the way cdk-nag renders it in an IAM5 finding."""
    return f"<{logical_id(stack, path)}.Arn>"
