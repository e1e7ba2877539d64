"""`make bench-breakdown`: where the full synth's time goes, phase by phase (medians of fresh processes).

Each variant runs scripts/bench/phases.py in new processes, so every figure includes Python and
jsii start-up like a real `cdk synth` (the CLI's own start-up, ~1-2 s, is not in these figures).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
VARIANTS = {
    "full app, validator on (as cdk synth)": ["--validation"],
    "full app, validator off": [],
    "full app, validator off, no nag packs": ["--no-nag"],
    "no pipeline, validator off": ["--no-pipeline"],
    "no pipeline, validator off, no nag packs": ["--no-pipeline", "--no-nag"],
}


def run(flags: list[str]) -> dict[str, float]:
    out = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, str(ROOT / "scripts" / "bench" / "phases.py"), *flags],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{'variant':44} {'import':>7} {'build':>7} {'synth':>7} {'total':>7}   (s, median of {args.runs})")
    for name, flags in VARIANTS.items():
        runs = [run(flags) for _ in range(args.runs)]
        phases = {key: statistics.median(r[key] for r in runs) for key in ("import", "build", "synth")}
        total = statistics.median(sum(r.values()) for r in runs)
        print(f"{name:44} {phases['import']:7.2f} {phases['build']:7.2f} {phases['synth']:7.2f} {total:7.2f}")


if __name__ == "__main__":
    main()
