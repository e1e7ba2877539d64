"""Reading the repository's git history from a tool: one short `git` call, no shell, never raising."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(root: Path, *args: str) -> str | None:
    """`git <args>` in `root`: its output, or None where git is missing or the call fails."""
    try:
        result = subprocess.run(  # noqa: S603  # nosec B603 - fixed arguments and our own ids, no shell
            ["git", *args],  # noqa: S607
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None
