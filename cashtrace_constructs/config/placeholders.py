"""Documented placeholder values: they let `cdk synth` run without AWS credentials but can never deploy.

Every value a team must supply before a first deploy (account ids, the hosted zone, the address
that receives pipeline notifications) falls back to one of these; `is_placeholder` tells a value
apart from a real one, so a preflight check or a promotion gate can name what is still missing.
"""

from __future__ import annotations

from collections.abc import Mapping

# The tooling account that owns the image repositories ("build once, promote by digest").
PLACEHOLDER_PIPELINE_ACCOUNT = "444444444444"

PLACEHOLDER_ACCOUNTS: Mapping[str, str] = {
    "dev": "111111111111",
    "staging": "222222222222",
    "prod": "333333333333",
    # The tooling account of the CD pipeline: it owns the image repository and deploys into the three above.
    "pipeline": PLACEHOLDER_PIPELINE_ACCOUNT,
}

# Route 53 ids have this shape (Z + upper-case letters and digits); no real zone id is all zeros.
PLACEHOLDER_HOSTED_ZONE_IDS: Mapping[str, str] = {
    "dev": "Z00000000000000000001",
    "staging": "Z00000000000000000002",
    "prod": "Z00000000000000000003",
}

# RFC 2606 reserves example.com: mail to it is never delivered to anyone.
PLACEHOLDER_NOTIFICATION_EMAIL = "cashtrace-releases@example.com"

_PLACEHOLDERS = frozenset(
    {*PLACEHOLDER_ACCOUNTS.values(), *PLACEHOLDER_HOSTED_ZONE_IDS.values(), PLACEHOLDER_NOTIFICATION_EMAIL}
)


def is_placeholder(value: str) -> bool:
    """True for a documented placeholder account id, hosted zone id or address, or an ARN in a placeholder account."""
    if value in _PLACEHOLDERS:
        return True
    # arn:partition:service:region:account:resource
    parts = value.split(":")
    return value.startswith("arn:") and len(parts) > 4 and parts[4] in PLACEHOLDER_ACCOUNTS.values()
