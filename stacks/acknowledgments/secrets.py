"""The environment's secrets: rotation, the rotation function and the audit trail."""

from __future__ import annotations

from aws_cdk import Stack

from cashtrace_constructs.config import EnvironmentConfig, SecretKind
from stacks.acknowledgments.functions import python_handler
from stacks.acknowledgments.rules import (
    INLINE_POLICY,
    KMS_DEFAULT_ENCRYPTION,
    REPLICATION,
    SECRET_ROTATION,
    NagAcknowledgment,
    acknowledged,
)

SECRETS = "Secrets"
AUDIT = f"{SECRETS}/Audit"
# Secrets EnvironmentSecrets makes for the cache and Grafana (it is the only secret factory).
CACHE_AUTH_TOKEN = f"{SECRETS}/CacheAuthTokenSecret/Resource"
GRAFANA_ADMIN_SECRET = f"{SECRETS}/GrafanaAdminSecret/Resource"


def _construct_id(purpose: str) -> str:
    return "".join(part.capitalize() for part in purpose.split("-")) + "Secret"


def rotation(config: EnvironmentConfig, stack: Stack) -> list[NagAcknowledgment]:
    entries: list[NagAcknowledgment] = []
    secrets = config.settings.secrets
    if any(secret.kind is SecretKind.GENERATED for secret in secrets):
        entries += python_handler(
            f"{SECRETS}/RotationFunction",
            unscoped_actions="secretsmanager:GetRandomPassword (granted by CDK's rotation schedule) and X-Ray "
            "tracing support no resource-level permissions; every secret action is scoped to the rotated secrets.",
        )
    third_party = [secret for secret in secrets if secret.kind is SecretKind.THIRD_PARTY]
    if third_party:
        entries += python_handler(f"{SECRETS}/AgeWatch/Function")
    for secret in third_party:
        entries += acknowledged(
            f"{SECRETS}/{_construct_id(secret.name.split('/', 2)[2])}/Resource",
            *SECRET_ROTATION,
            reason="A third-party key (SecretKind.THIRD_PARTY): only its issuer can make a new one, and a rotation "
            "would overwrite the key with a random value. SecretAgeWatch alarms when it is older than "
            "secrets.third_party_max_age_days.",
        )
    return [
        *entries,
        *acknowledged(
            CACHE_AUTH_TOKEN,
            *SECRET_ROTATION,
            reason="Not rotated, and no rotation is scheduled. The API reads the token once, at task start "
            "(ECS secret injection), so a safe rotation is ElastiCache's ROTATE (old and new token both "
            "valid), then a replacement of every API task, then SET (old token retired): it spans a "
            "service deployment that a Secrets Manager rotation function cannot wait for, and CloudFormation "
            "re-applies AuthToken from this secret on the next deploy. Until that flow exists (docs/data.md) "
            "the 64-character token is readable only by the API's execution role, over TLS, from the API's "
            "security group.",
        ),
        *acknowledged(
            GRAFANA_ADMIN_SECRET,
            *SECRET_ROTATION,
            reason="Grafana keeps its own hash of the admin password and reads this secret only on first "
            "start; a Secrets Manager rotation would not change the login. Operators rotate it in "
            "Grafana and here together (docs/monitoring.md).",
        ),
    ]


def audit_trail(config: EnvironmentConfig, stack: Stack) -> list[NagAcknowledgment]:
    entries = acknowledged(
        f"{AUDIT}/Trail/LogsRole/DefaultPolicy/Resource",
        *INLINE_POLICY,
        reason="CDK generates this policy for CloudTrail's delivery into the one audit log group; an inline "
        "policy on a single-purpose service role is easier to audit than a shared managed policy.",
    )
    for bucket in ("TrailBucket", "AccessLogs"):
        entries += acknowledged(
            f"{AUDIT}/{bucket}/Resource",
            *REPLICATION,
            reason="Replicating audit logs to another region is forbidden by data residency (Property 7), and "
            "same-region replication adds nothing to S3's multi-AZ durability; versioning keeps overwritten "
            "or deleted log objects recoverable.",
        )
    return [
        *entries,
        *acknowledged(
            f"{AUDIT}/AccessLogs/Resource",
            *KMS_DEFAULT_ENCRYPTION,
            reason="S3 server access log delivery only supports SSE-S3 on the destination bucket; the trail's "
            "own bucket is SSE-KMS with the environment key.",
        ),
    ]
