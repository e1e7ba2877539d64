"""The validation core of the environment model: shared name patterns, `require`, declarative bounds.

Only root configs (`EnvironmentConfig`, `PipelineConfig`, `GitHubOidcConfig`) validate; they hand
every part its full field path (`prod.service.container_port`), so each refusal names the field an
operator has to change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, get_type_hints

from cashtrace_constructs.errors import DeploymentError, ErrorCode

# ECR repository names: one pattern, shared with the release manifest (which imports no config).
from cashtrace_constructs.release_manifest import REPOSITORY_RE as REPOSITORY_RE

ACCOUNT_RE = re.compile(r"^\d{12}$")
# Resource and service names that end up in physical names (lower case, short).
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,30}$")
ENV_VAR_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
SECRET_NAME_RE = re.compile(r"^cashtrace/(?P<env>[a-z0-9-]+)/(?P<purpose>[a-z0-9][a-z0-9-_/]*)$")
ACM_CERTIFICATE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[0-9a-f-]+$")


def fail(code: ErrorCode, path: str, message: str) -> DeploymentError:
    return DeploymentError(code, message, field=path)


def require(condition: bool, code: ErrorCode, path: str, message: str) -> None:
    if not condition:
        raise fail(code, path, message)


def require_match(
    pattern: re.Pattern[str], value: str, path: str, expected: str, code: ErrorCode = ErrorCode.CONFIG_INVALID
) -> None:
    """`value` matches `pattern`; `expected` completes "must be ..." in the refusal."""
    require(bool(pattern.match(value)), code, path, f"must be {expected}, got {value!r}")


@dataclass(frozen=True)
class Between:
    """Inclusive bounds of a numeric field, declared as `Annotated[int, Between(1, 100)]`.

    `high=None` leaves the field unbounded above; `why` (a quota, a property) ends the message.
    A field whose value is None (an optional setting left unset) is not checked.
    """

    low: int
    high: int | None = None
    code: ErrorCode = ErrorCode.CONFIG_INVALID
    why: str = ""

    def check(self, value: float, path: str) -> None:
        in_range = self.low <= value and (self.high is None or value <= self.high)
        expected = f"at least {self.low}" if self.high is None else f"between {self.low} and {self.high}"
        reason = f" ({self.why})" if self.why else ""
        require(in_range, self.code, path, f"must be {expected}{reason}, got {value}")


def check_bounds(config: Any, path: str) -> None:
    """Check every `Between`-annotated field of the dataclass `config`, in field order."""
    for name, bounds in _declared_bounds(type(config)):
        value = getattr(config, name)
        if value is not None:
            bounds.check(value, f"{path}.{name}")


# Bounds per config class, read once: resolving the annotations is the slow part.
_DECLARED_BOUNDS: dict[type[Any], tuple[tuple[str, Between], ...]] = {}


def _declared_bounds(cls: type[Any]) -> tuple[tuple[str, Between], ...]:
    if cls not in _DECLARED_BOUNDS:
        hints = get_type_hints(cls, include_extras=True)
        _DECLARED_BOUNDS[cls] = tuple(
            (item.name, metadata)
            for item in fields(cls)
            for metadata in getattr(hints[item.name], "__metadata__", ())
            if isinstance(metadata, Between)
        )
    return _DECLARED_BOUNDS[cls]
