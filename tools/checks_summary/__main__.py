"""`python -m tools.checks_summary [CDK_OUT]`: print which synth-time checks ran and passed."""

from __future__ import annotations

import sys
from pathlib import Path

from tools.checks_summary.summary import summarize


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    summary = summarize(Path(args[0] if args else "cdk.out"))
    print("\n".join(summary.lines()))
    return 0 if summary.passed else 1


if __name__ == "__main__":
    sys.exit(main())
