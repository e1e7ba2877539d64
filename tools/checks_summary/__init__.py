"""`python -m tools.checks_summary [CDK_OUT]`: which synth-time checks ran over which templates, and their verdicts."""

from tools.checks_summary.summary import Summary, summarize

__all__ = ["Summary", "summarize"]
