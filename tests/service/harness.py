"""Runs the reference service in a thread on 127.0.0.1 (port 0), for as long as a `with` block lasts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from service.server import ServiceHandler, ServiceServer, ServiceSettings, serve


@dataclass
class Running:
    server: ServiceServer
    stop: threading.Event
    thread: threading.Thread
    outcome: list[bool] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    def shut_down(self, timeout: float = 10.0) -> bool:
        """Asks the service to stop (as SIGTERM does) and waits; whether it drained in time."""
        self.stop.set()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the service did not stop"
        return self.outcome[0]


@contextmanager
def running(settings: ServiceSettings, handler: type[ServiceHandler] = ServiceHandler) -> Iterator[Running]:
    server = ServiceServer(settings, handler)
    stop = threading.Event()
    service = Running(server, stop, threading.Thread(target=lambda: None))
    service.thread = threading.Thread(target=lambda: service.outcome.append(serve(server, stop)), daemon=True)
    service.thread.start()
    server.ready.wait(5)
    try:
        yield service
    finally:
        if service.thread.is_alive():
            service.shut_down()
