"""The DEPLOY_* error codes of the design and the one exception type that carries them."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Error codes from the design document, plus two this platform adds.

    The six design codes are the contract with operators and tooling; the two
    additions name refusals the design folds into "resource limit" but that an
    operator needs to tell apart (a bad config value vs. data leaving Africa).
    """

    CI_FAILED = "DEPLOY_CI_FAILED"
    APPROVAL_REQUIRED = "DEPLOY_APPROVAL_REQUIRED"
    HEALTH_CHECK_FAILED = "DEPLOY_HEALTH_CHECK_FAILED"
    ROLLBACK_FAILED = "DEPLOY_ROLLBACK_FAILED"
    SECRET_ACCESS_DENIED = "DEPLOY_SECRET_ACCESS_DENIED"  # noqa: S105  # nosec B105 - an error code, not a secret
    RESOURCE_LIMIT = "DEPLOY_RESOURCE_LIMIT"
    # Added by this platform (not in the design's table):
    CONFIG_INVALID = "DEPLOY_CONFIG_INVALID"
    RESIDENCY_VIOLATION = "DEPLOY_RESIDENCY_VIOLATION"


DESIGN_ERROR_CODES: tuple[ErrorCode, ...] = (
    ErrorCode.CI_FAILED,
    ErrorCode.APPROVAL_REQUIRED,
    ErrorCode.HEALTH_CHECK_FAILED,
    ErrorCode.ROLLBACK_FAILED,
    ErrorCode.SECRET_ACCESS_DENIED,
    ErrorCode.RESOURCE_LIMIT,
)


class DeploymentError(Exception):
    """A refusal with a DEPLOY_* code and, where one applies, the offending field path.

    The message always starts with the code so that it survives being flattened into a
    log line, a jsii error or a CloudFormation status reason.
    """

    def __init__(self, code: ErrorCode, message: str, *, field: str | None = None) -> None:
        self.code = code
        self.field = field
        self.detail = message
        where = f" [{field}]" if field else ""
        super().__init__(f"{code.value}{where}: {message}")
