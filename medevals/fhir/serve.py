"""Running the sandbox as a real HTTP server: standalone (``medevals fhir serve``) or in a thread (tests).

Runs use the in-process ASGI transport instead (no port); this is for pointing other tools,
or ``medevals run --fhir-base-url``, at the same synthetic record.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from medevals.fhir.server import create_app
from medevals.fhir.world import build_store


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class ThreadedServer:
    """uvicorn serving the sandbox from a background thread; ``url`` is its FHIR base."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int | None = None):
        import uvicorn

        self.host, self.port = host, port or free_port(host)
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/fhir/"

    def start(self, timeout: float = 20.0) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"FHIR sandbox did not start on {self.host}:{self.port}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def sandbox_app(patients: int, seed: int, db: str = ":memory:", page_size: int = 100) -> Any:
    return create_app(build_store(patients, seed, db), default_count=page_size)
