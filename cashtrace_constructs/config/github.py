"""Which GitHub repository and branch may assume the release role (GitHub Actions OIDC, no AWS keys)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from cashtrace_constructs.config.validation import Between, check_bounds, require, require_match
from cashtrace_constructs.errors import ErrorCode

GITHUB_OIDC_ISSUER = "token.actions.githubusercontent.com"
_GITHUB_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,99})$")
_BRANCH_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$")


@dataclass(frozen=True)
class GitHubOidcConfig:
    """A root config: constructing it validates it (paths read `github.<field>`)."""

    owner: str = "cashtrace"
    repository: str = "cashtrace-infrastructure"
    branch: str = "main"
    # IAM allows one provider per issuer URL and account: import it when another stack owns it.
    create_provider: bool = True
    # STS accepts 1..12 hours; a release job finishes well inside one.
    max_session_minutes: Annotated[int, Between(15, 720)] = 60

    def __post_init__(self) -> None:
        self.validate("github")

    def validate(self, path: str) -> None:
        for name in ("owner", "repository"):
            require_match(
                _GITHUB_NAME_RE,
                getattr(self, name),
                f"{path}.{name}",
                f"a GitHub {name} name (letters, digits, '.', '_', '-')",
            )
        # A wildcard here would let any branch (or any pull request) release to production.
        require(
            bool(_BRANCH_RE.match(self.branch)) and "*" not in self.branch and ".." not in self.branch,
            ErrorCode.CONFIG_INVALID,
            f"{path}.branch",
            f"must be one exact branch name, got {self.branch!r}",
        )
        check_bounds(self, path)

    @property
    def subject(self) -> str:
        """The `sub` claim GitHub puts in tokens of a push-triggered job on the branch."""
        return f"repo:{self.owner}/{self.repository}:ref:refs/heads/{self.branch}"
