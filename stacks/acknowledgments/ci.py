"""The role GitHub Actions assumes on `main` to push release images and the source archive."""

from __future__ import annotations

from stacks.acknowledgments.rules import NagAcknowledgment, acknowledged, wildcard


def github_oidc_access(path: str) -> list[NagAcknowledgment]:
    """The `GitHubOidcAccess` at `path` (relative to its stack)."""
    return acknowledged(
        f"{path}/ReleasePolicy/Resource",
        wildcard("Resource::*"),
        reason="ecr:GetAuthorizationToken (the docker login to ECR) supports no resource-level permission; "
        "it is the only action on '*', and pushing still needs the repository-scoped actions.",
    )
