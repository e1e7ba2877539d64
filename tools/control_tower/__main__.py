"""`python -m tools.control_tower [CDK_OUT]`: the Control Tower proactive controls over every template,
grouped by control (what fails where). `make security` judges the same findings by security/policy.yaml."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from itertools import groupby
from pathlib import Path

from tools.control_tower.guard import evaluate, extract_bundle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("cdk_out", nargs="?", type=Path, default=Path("cdk.out"))
    args = parser.parse_args(argv)
    templates = sorted(args.cdk_out.rglob("*.template.json"))
    if not templates:
        parser.error(f"no templates in {args.cdk_out}: run `make synth` first")
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as directory:
        bundle = extract_bundle(Path(directory))
        findings = evaluate(bundle, templates)
        print(
            f"Control Tower proactive controls ({bundle.rule_count} rules, validator {bundle.version}) over "
            f"{len(templates)} templates in {time.monotonic() - started:.1f} s: {len(findings)} failing resource checks"
        )
    for control, group in groupby(findings, key=lambda finding: finding.control):
        items = list(group)
        print(f"{control} ({items[0].rule}): {len(items)}")
        for finding in items:
            print(f"    {finding.location}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
