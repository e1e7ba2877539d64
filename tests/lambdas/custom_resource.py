"""CloudFormation's side of a custom resource, on loopback: the pre-signed URL a handler answers."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _CloudFormation(BaseHTTPRequestHandler):
    def do_PUT(self) -> None:
        server: Any = self.server
        server.answers.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        status = server.statuses.pop(0) if server.statuses else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def response_server() -> Iterator[Any]:
    """CloudFormation's pre-signed response URL: records each answer; `statuses` makes the next PUTs fail."""
    httpd: Any = ThreadingHTTPServer(("127.0.0.1", 0), _CloudFormation)
    httpd.answers, httpd.statuses = [], []
    httpd.url = f"http://127.0.0.1:{httpd.server_port}/response?signature=x"
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
