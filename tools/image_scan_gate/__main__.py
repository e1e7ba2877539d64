"""`python -m tools.image_scan_gate`: the pipeline's security gate step (exit 1 blocks the release)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cashtrace_constructs import release_manifest
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from tools.image_scan_gate.gate import enforce, evaluate, one_line, release_image


def main(argv: Sequence[str] | None = None, *, ecr: Any = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repository", required=True)
    parser.add_argument("--digest", help="the sha256 digest the pipeline's stage templates pin")
    parser.add_argument("--release-manifest", type=Path, help="release.json written by CI into the source zip")
    parser.add_argument("--threshold", default="HIGH")
    parser.add_argument("--wait-seconds", type=float, default=600)
    parser.add_argument("--poll-seconds", type=float, default=15)
    args = parser.parse_args(argv)
    try:
        manifest = release_manifest.load(args.release_manifest) if args.release_manifest else None
        image = release_image(args.repository, digest=args.digest, manifest=manifest)
        if ecr is None:
            import boto3

            ecr = boto3.client("ecr")
        verdict = evaluate(
            ecr, image, threshold=args.threshold, wait_seconds=args.wait_seconds, poll_seconds=args.poll_seconds
        )
        print(verdict.summary())
        enforce(verdict)
    except DeploymentError as error:
        print(one_line(str(error), limit=1000), file=sys.stderr)
        return 1
    except Exception as error:  # a manifest of the wrong shape, no region, no credentials: one line, no traceback
        failure = DeploymentError(ErrorCode.CI_FAILED, one_line(f"{type(error).__name__}: {error}"), field="release")
        print(failure, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
