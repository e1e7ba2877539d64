"""The CD pipeline (CashTrace-Pipeline): where its source comes from, what it ships, what blocks a release."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated

from cashtrace_constructs.config.environment import ENVIRONMENT_NAMES
from cashtrace_constructs.config.infrastructure import SecurityConfig, require_placement
from cashtrace_constructs.config.placeholders import PLACEHOLDER_NOTIFICATION_EMAIL, is_placeholder
from cashtrace_constructs.config.validation import REPOSITORY_RE, Between, check_bounds, require, require_match
from cashtrace_constructs.errors import ErrorCode

# Names the pipeline account gives the deployment record's reader so that another account finds them
# (cashtrace_constructs/promotion_gate.py); prod's promotion gate and `make preflight` read them.
DEPLOYMENT_RECORD_READER_ROLE = "cashtrace-deployment-record-reader"
DEPLOYMENT_RECORD_TABLE_PARAMETER = "/cashtrace/deployment-record/table-name"
# ECR's scan finding severities, lowest first.
SEVERITIES: tuple[str, ...] = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
_SOURCE_KEY_RE = re.compile(r"^[A-Za-z0-9!_.*'()/-]+\.zip$")
# An address SNS can deliver to: one @, no spaces, a dotted domain.
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class PipelineConfig:
    """The CD pipeline, a root config: constructing it validates it (paths read `pipeline.<field>`).

    Lives in the tooling account; it deploys the environments named in `promotion` in order.
    """

    account: str
    region: str
    # ECR repository of the release image; the security gate reads its scan findings (Property 3).
    release_repository: str = "cashtrace/api"
    # The zip CI uploads after `main` goes green (docs/ci.md); its object version is the release.
    source_object_key: str = "source/cashtrace.zip"
    # The file CI puts at the root of that zip naming the image tag/digest and commit.
    release_manifest: str = "release.json"
    # Property 3: an image finding at or above this severity blocks a release.
    vulnerability_severity_threshold: str = "HIGH"
    # How long the gate waits for an image scan still in progress before failing; CodeBuild's own
    # ceiling is 8 hours, but a scan that takes longer than an hour is stuck.
    scan_wait_seconds: Annotated[int, Between(0, 3600, ErrorCode.CI_FAILED)] = 600
    security: SecurityConfig = field(default_factory=SecurityConfig)
    # Environments the pipeline deploys, in promotion order.
    promotion: tuple[str, ...] = ("staging", "prod")
    # Who hears about failed executions and releases waiting for approval (SNS email subscriptions;
    # each address confirms once). The placeholder reaches nobody: stacks/environments.py reads the
    # real ones from context or the environment.
    notification_emails: tuple[str, ...] = (PLACEHOLDER_NOTIFICATION_EMAIL,)
    # The deployment record, its dead letters and the pipeline's logs outlive the stack (retention.py).
    retain_on_delete: bool = True

    def __post_init__(self) -> None:
        self.validate("pipeline")

    def validate(self, path: str) -> None:
        require_placement(self.account, self.region, self.security, path)
        require_match(REPOSITORY_RE, self.release_repository, f"{path}.release_repository", "an ECR repository name")
        require_match(_SOURCE_KEY_RE, self.source_object_key, f"{path}.source_object_key", "an S3 key ending in .zip")
        require(
            bool(self.release_manifest) and not self.release_manifest.startswith("/"),
            ErrorCode.CONFIG_INVALID,
            f"{path}.release_manifest",
            f"must be a path relative to the source root, got {self.release_manifest!r}",
        )
        require(
            self.vulnerability_severity_threshold in SEVERITIES,
            ErrorCode.CONFIG_INVALID,
            f"{path}.vulnerability_severity_threshold",
            f"must be one of {', '.join(SEVERITIES)}, got {self.vulnerability_severity_threshold!r}",
        )
        check_bounds(self, path)
        require(
            len(self.promotion) > 0 and all(name in ENVIRONMENT_NAMES for name in self.promotion),
            ErrorCode.CONFIG_INVALID,
            f"{path}.promotion",
            f"must name environments among {', '.join(ENVIRONMENT_NAMES)}, got {list(self.promotion)}",
        )
        require(
            len(self.promotion) == len(set(self.promotion)),
            ErrorCode.CONFIG_INVALID,
            f"{path}.promotion",
            "an environment appears twice in the promotion order",
        )
        require(
            len(self.notification_emails) > 0,
            ErrorCode.CONFIG_INVALID,
            f"{path}.notification_emails",
            "pipeline failures and pending approvals must reach someone: name at least one address",
        )
        for index, address in enumerate(self.notification_emails):
            require_match(_EMAIL_RE, address, f"{path}.notification_emails[{index}]", "an email address")

    @property
    def stack_name(self) -> str:
        return "CashTrace-Pipeline"

    def placeholder_fields(self) -> tuple[str, ...]:
        """Field paths still holding a documented placeholder: they synthesize, they cannot deploy."""
        fields = ["pipeline.account"] if is_placeholder(self.account) else []
        fields += [
            f"pipeline.notification_emails[{index}]"
            for index, address in enumerate(self.notification_emails)
            if is_placeholder(address)
        ]
        return tuple(fields)
