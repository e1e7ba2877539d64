"""`make bench`: full synth vs a one-bucket app with the same toolchain, and the test suite, in one run.

Synth is timed through the real CLI (`cdk synth --quiet`), as an engineer runs it, with the
default built-in CloudFormation validation on for both apps. Medians of several runs; the
machine's load shows up in both numbers alike, so the ratio is the figure to watch.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SYNTH_RATIO_GOAL = 2.5
SUITE_GOAL_SECONDS = 90.0


def _timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, check=True, capture_output=True, env=env)  # noqa: S603 - fixed argv
    return time.perf_counter() - start


def _synth_seconds(app_command: str | None, runs: int) -> list[float]:
    cdk = shutil.which("cdk")
    if cdk is None:
        sys.exit("cdk CLI not on PATH: run through `make bench`")
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as outdir:
            argv = [cdk, "synth", "--quiet", "--no-notices", "--output", outdir]
            if app_command:
                argv += ["--app", app_command]
            times.append(_timed(argv, env={**os.environ, "PYTHONPATH": str(ROOT)}))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-tests", action="store_true")
    args = parser.parse_args()

    minimal = _synth_seconds(f"{sys.executable} scripts/bench/minimal_app.py", args.runs)
    full = _synth_seconds(None, args.runs)
    ratio = statistics.median(full) / statistics.median(minimal)
    print(f"minimal one-bucket app synth : median {statistics.median(minimal):6.2f} s  runs {_fmt(minimal)}")
    print(f"full CashTrace app synth     : median {statistics.median(full):6.2f} s  runs {_fmt(full)}")
    verdict = "ok" if ratio <= SYNTH_RATIO_GOAL else "OVER GOAL"
    print(f"ratio full / minimal         : {ratio:6.2f}x  (goal <= {SYNTH_RATIO_GOAL}x: {verdict})")

    if not args.skip_tests:
        # The README's test command, as CI runs it (dependencies are already installed here).
        suite = _timed(["make", "test"])
        verdict = "ok" if suite <= SUITE_GOAL_SECONDS else "OVER GOAL"
        print(f"test suite (make test)       : {suite:6.2f} s  (goal <= {SUITE_GOAL_SECONDS:.0f} s: {verdict})")

    budgets = ROOT / "tools" / "budgets"
    if budgets.exists():
        print()
        subprocess.run([sys.executable, "-m", "tools.budgets"], cwd=ROOT, check=True)


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    main()
