"""An image server on 127.0.0.1 that drips its body one byte at a time (a slow or hostile source).

Each byte comes well inside any per-read timeout, so only an overall deadline stops the fetch.
The drip is bounded (``total_seconds``), so a fetch without a deadline ends too, in a failed test
rather than a hung suite.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class SlowSource:
    url: str
    byte_every_seconds: float
    total_seconds: float
    requests: int = 0
    disconnected: threading.Event = field(default_factory=threading.Event)
    """Set when a client hung up before the body was complete (it gave up on the source)."""


@contextmanager
def slow_source(*, byte_every_seconds: float = 0.25, total_seconds: float = 45.0) -> Iterator[SlowSource]:
    state = SlowSource(url="", byte_every_seconds=byte_every_seconds, total_seconds=total_seconds)
    length = max(1, int(total_seconds / byte_every_seconds))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests += 1
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(length))
            self.end_headers()
            try:
                for _ in range(length):
                    self.wfile.write(b"\xff")
                    self.wfile.flush()
                    time.sleep(byte_every_seconds)
            except OSError:  # the client gave up: what a deadline does
                state.disconnected.set()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="slow-source", daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/room.jpg"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
