"""One in-process synth of the real app, timed by phase; `scripts/bench/breakdown.py` runs it.

`python scripts/bench/phases.py [--no-pipeline] [--no-nag] [--validation]` prints one JSON line:
seconds for import, build (constructs) and synth (aspects, nag, our rules, templates, and the
built-in CloudFormation validator when --validation).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

start = time.perf_counter()
import aws_cdk  # noqa: E402
import constructs  # noqa: E402

import stacks.app  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-pipeline", action="store_true")
    parser.add_argument("--no-nag", action="store_true", help="register only our rules, not the three nag packs")
    parser.add_argument("--validation", action="store_true", help="CDK's built-in CloudFormation validator on")
    args = parser.parse_args()
    imported = time.perf_counter()
    if args.no_nag:
        for pack in ("AwsSolutionsChecks", "PCIDSS321Checks", "NIST80053R5Checks"):
            setattr(stacks.app, pack, _NoPack)
        real = aws_cdk.Validations

        class _Validations:
            @staticmethod
            def of(scope: constructs.IConstruct) -> _Registry:
                return _Registry(real.of(scope))

        setattr(stacks.app, "Validations", _Validations)  # noqa: B010 - replaced for this measurement only
    with tempfile.TemporaryDirectory() as outdir:
        app = stacks.app.new_app(outdir=outdir, builtin_cloud_formation_validation=args.validation)
        stacks.app.build_app(app, with_pipeline=not args.no_pipeline)
        built = time.perf_counter()
        app.synth()
        done = time.perf_counter()
    print(json.dumps({"import": imported - start, "build": built - imported, "synth": done - built}))


class _NoPack:
    def __init__(self, _app: object) -> None:
        pass


class _Registry:
    def __init__(self, validations: aws_cdk.Validations) -> None:
        self.validations = validations

    def add_plugins(self, *plugins: object) -> None:
        self.validations.add_plugins(*(p for p in plugins if not isinstance(p, _NoPack)))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
