"""`python -m tests.session_app OUTDIR`: the real app, synthesized once for the whole test run.

conftest.py starts this in its own process when pytest starts, so the synth runs beside the
tests that need no templates (and outside coverage tracing, which would slow it). It writes
`OUTDIR.status` last: `ok`, or the traceback of the failure, which the fixture then reports.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path


def main(outdir: Path) -> int:
    status = outdir.with_suffix(".status")
    try:
        from stacks.app import build_app
        from tests.synth import make_app

        app = make_app(outdir, report_only=True)
        build_app(app)
        app.synth()
    except BaseException:
        status.write_text(traceback.format_exc())
        return 1
    status.write_text("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
