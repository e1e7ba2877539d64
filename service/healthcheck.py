"""`python -m service.healthcheck`: the image HEALTHCHECK, a GET of /health on the local port (exit 1 if not 200)."""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main(port: str | None = None) -> int:
    url = f"http://127.0.0.1:{port or os.environ.get('PORT', '8080')}/health"
    try:
        # A fixed loopback http URL: no scheme comes from outside.
        with urllib.request.urlopen(url, timeout=2) as response:  # nosec B310
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError):
        return 1


if __name__ == "__main__":
    sys.exit(main())
