"""`SecretManager`: the design's operator interface to one environment's secrets.

Runtime code (boto3, no CDK). Scoped to one environment: a name of another environment is
refused with DEPLOY_SECRET_ACCESS_DENIED before any AWS call, and AWS's own access-denied
errors surface with the same code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import boto3
from botocore.exceptions import ClientError

from cashtrace_constructs.config import ENVIRONMENT_NAMES
from cashtrace_constructs.errors import DeploymentError, ErrorCode

DEFAULT_REGION = "af-south-1"
# CloudTrail's event history (LookupEvents) covers the last 90 days; the trail bucket keeps more.
LOOKUP_WINDOW = timedelta(days=90)
_ACCESS_DENIED = frozenset({"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"})
_NOT_FOUND = frozenset({"ResourceNotFoundException"})
# The field EnvironmentSecrets generates and the rotation Lambda replaces (its SECRET_VALUE_KEY);
# the application reads its key from there and every other field survives a rotation.
VALUE_KEY = "key"
_SECRET_ARN = re.compile(r"^arn:[^:]+:secretsmanager:[^:]*:\d*:secret:(?P<name>.+?)(-[A-Za-z0-9]{6})?$")
_ACTIONS: dict[str, Literal["read", "write", "rotate"]] = {
    "GetSecretValue": "read",
    "BatchGetSecretValue": "read",
    "DescribeSecret": "read",
    "PutSecretValue": "write",
    "UpdateSecret": "write",
    "UpdateSecretVersionStage": "write",
    "CreateSecret": "write",
    "DeleteSecret": "write",
    "RestoreSecret": "write",
    "RotateSecret": "rotate",
    "CancelRotateSecret": "rotate",
}


@dataclass(frozen=True)
class SecretMetadata:
    name: str
    version: str
    created_at: datetime
    rotated_at: datetime
    expires_at: datetime | None = None


@dataclass(frozen=True)
class SecretAccessLog:
    timestamp: datetime
    principal: str
    action: Literal["read", "write", "rotate"]
    success: bool


class SecretManager:
    """get/set/rotate/list/audit for the secrets of one environment (`cashtrace/<env>/...`)."""

    def __init__(
        self,
        environment: str,
        *,
        region: str = DEFAULT_REGION,
        secrets_client: Any | None = None,
        cloudtrail_client: Any | None = None,
    ) -> None:
        if environment not in ENVIRONMENT_NAMES:
            raise DeploymentError(
                ErrorCode.CONFIG_INVALID,
                f"must be one of {', '.join(ENVIRONMENT_NAMES)}, got {environment!r}",
                field="environment",
            )
        self.environment = environment
        self.prefix = f"cashtrace/{environment}/"
        self._secrets = secrets_client or boto3.client("secretsmanager", region_name=region)
        self._cloudtrail = cloudtrail_client or boto3.client("cloudtrail", region_name=region)

    # ---- scoping ----

    def qualified_name(self, name: str) -> str:
        """`api-keys`, `cashtrace/<env>/api-keys` or its ARN -> the full name; other environments refused."""
        arn = _SECRET_ARN.match(name)
        full = arn.group("name") if arn else name
        if not full.startswith("cashtrace/"):
            full = self.prefix + full
        if not full.startswith(self.prefix) or len(full) == len(self.prefix):
            raise DeploymentError(
                ErrorCode.SECRET_ACCESS_DENIED,
                f"{name!r} is not a secret of environment {self.environment!r} (Property 6)",
                field="name",
            )
        return full

    def _call(self, client: Any, operation: str, name: str, **kwargs: Any) -> Any:
        try:
            return getattr(client, operation)(**kwargs)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _ACCESS_DENIED:
                raise DeploymentError(
                    ErrorCode.SECRET_ACCESS_DENIED,
                    f"AWS denied {operation} on {name!r}: {error.response['Error'].get('Message', code)}",
                    field="name",
                ) from error
            if code in _NOT_FOUND:
                raise DeploymentError(
                    ErrorCode.CONFIG_INVALID,
                    f"environment {self.environment!r} has no secret {name!r}; secrets are created by the CDK app",
                    field="name",
                ) from error
            raise

    # ---- the design's interface ----

    def get_secret(self, name: str) -> str:
        full = self.qualified_name(name)
        response = self._call(self._secrets, "get_secret_value", full, SecretId=full)
        return str(response["SecretString"])

    def set_secret(self, name: str, value: str) -> None:
        """A new AWSCURRENT version of an existing secret, as the JSON object rotation expects (`shaped_value`).

        Creating secrets is the CDK app's job; database logins change only through rotation.
        """
        full = self.qualified_name(name)
        current = self._call(self._secrets, "get_secret_value", full, SecretId=full)
        shaped = shaped_value(value, str(current.get("SecretString") or ""), name=full)
        self._call(self._secrets, "put_secret_value", full, SecretId=full, SecretString=shaped)

    def rotate_secret(self, name: str) -> None:
        """Starts the secret's configured rotation now (its Lambda or the managed rotation)."""
        full = self.qualified_name(name)
        self._call(self._secrets, "rotate_secret", full, SecretId=full)

    def list_secrets(self) -> list[SecretMetadata]:
        found: list[SecretMetadata] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Filters": [{"Key": "name", "Values": [self.prefix]}]}
            if token:
                kwargs["NextToken"] = token
            page = self._call(self._secrets, "list_secrets", self.prefix, **kwargs)
            for entry in page.get("SecretList", []):
                # The name filter is a prefix match on words; keep exactly this environment's.
                if entry["Name"].startswith(self.prefix) and not entry.get("DeletedDate"):
                    found.append(_metadata(entry))
            token = page.get("NextToken")
            if not token:
                return sorted(found, key=lambda metadata: metadata.name)

    def audit_access(self, name: str, *, since: datetime | None = None) -> list[SecretAccessLog]:
        """Reads, writes and rotations of one secret from CloudTrail, denied attempts included.

        Looked up by event source, not by resource name: CloudTrail leaves the resource list of
        a denied call empty, and denied calls are what an audit is for.
        """
        full = self.qualified_name(name)
        end = datetime.now(UTC)
        start = max(since or end - LOOKUP_WINDOW, end - LOOKUP_WINDOW)
        logs = [log for event in self._events(full, start, end) if (log := _access_log(event, full)) is not None]
        return sorted(logs, key=lambda log: log.timestamp)

    def _events(self, name: str, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "LookupAttributes": [{"AttributeKey": "EventSource", "AttributeValue": "secretsmanager.amazonaws.com"}],
                "StartTime": start,
                "EndTime": end,
            }
            if token:
                kwargs["NextToken"] = token
            page = self._call(self._cloudtrail, "lookup_events", name, **kwargs)
            yield from page.get("Events", [])
            token = page.get("NextToken")
            if not token:
                return


def shaped_value(value: str, current: str, *, name: str = "the secret") -> str:
    """The JSON object to store: the current fields, with `value` under `key` (or merged, if it is an object).

    A plain value (a third party's API key as pasted) goes under `key`; a JSON object is merged
    into the current fields. A database login (username and password) is refused: its password
    must change in the database too, which only its rotation does.
    """
    try:
        existing = json.loads(current)
    except ValueError:
        existing = None
    fields: dict[str, Any] = existing if isinstance(existing, dict) else {}
    if "username" in fields and "password" in fields:
        raise DeploymentError(
            ErrorCode.CONFIG_INVALID,
            f"{name} is a database login: change it with `rotate`, which also sets it in the database",
            field="name",
        )
    try:
        given = json.loads(value)
    except ValueError:
        given = None
    shaped = {**fields, **given} if isinstance(given, dict) else {**fields, VALUE_KEY: value}
    if not isinstance(shaped.get(VALUE_KEY), str) or not shaped[VALUE_KEY]:
        raise DeploymentError(
            ErrorCode.CONFIG_INVALID,
            f"the value must carry a non-empty string under {VALUE_KEY!r}, which the application and rotation read",
            field="value",
        )
    return json.dumps(shaped)


def _metadata(entry: dict[str, Any]) -> SecretMetadata:
    current = next(
        (version for version, stages in (entry.get("SecretVersionsToStages") or {}).items() if "AWSCURRENT" in stages),
        "",
    )
    created = entry.get("CreatedDate") or entry.get("LastChangedDate") or datetime.fromtimestamp(0, UTC)
    return SecretMetadata(
        name=entry["Name"],
        version=current,
        created_at=created,
        rotated_at=entry.get("LastRotatedDate") or entry.get("LastChangedDate") or created,
        expires_at=entry.get("NextRotationDate"),
    )


def _names_in(detail: dict[str, Any]) -> set[str]:
    """Secret names an event refers to: its secretId parameter and its resources (ARNs)."""
    candidates = [str((detail.get("requestParameters") or {}).get("secretId") or "")]
    candidates += [str(r.get("ARN") or r.get("arn") or "") for r in detail.get("resources") or []]
    names: set[str] = set()
    for candidate in candidates:
        arn = _SECRET_ARN.match(candidate)
        names.add(arn.group("name") if arn else candidate)
    return names - {""}


def _access_log(event: dict[str, Any], name: str) -> SecretAccessLog | None:
    action = _ACTIONS.get(str(event.get("EventName")))
    if action is None:
        return None
    detail = json.loads(event.get("CloudTrailEvent") or "{}")
    if name not in _names_in(detail):
        return None
    identity = detail.get("userIdentity") or {}
    return SecretAccessLog(
        timestamp=event["EventTime"],
        principal=str(identity.get("arn") or identity.get("invokedBy") or event.get("Username") or "unknown"),
        action=action,
        success="errorCode" not in detail,
    )
