"""A real webhook receiver on 127.0.0.1 for tests: scripted answers, every request recorded,
signatures checked with the ``standardwebhooks`` library as a customer would."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass(frozen=True)
class Reply:
    status: int = 200
    delay: float = 0.0
    """Seconds to wait before answering (a slow receiver)."""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b"ok"


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    def verify(self, secret: str) -> Any:
        """The parsed payload if ``secret`` signed this request; raises WebhookVerificationError if not."""
        return Webhook(secret).verify(self.body, self.headers)

    def signed_by(self, secret: str) -> bool:
        try:
            self.verify(secret)
        except WebhookVerificationError:
            return False
        return True


@dataclass
class Receiver:
    port: int = 0
    default: Reply = field(default_factory=Reply)
    script: deque[Reply] = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)
    gate: threading.Barrier | None = None
    """When set, each request waits there for the others before its answer (500 if they never come):
    proves requests are in flight at the same time without timing anything."""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def then(self, *replies: Reply) -> Receiver:
        """Answer the next requests with these replies, in order, then with ``default``."""
        with self._lock:
            self.script.extend(replies)
        return self

    def requests(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def delivered(self) -> list[Received]:
        return [r for r in self.requests() if 200 <= r.answered < 300]

    def wait_for(self, count: int, *, timeout: float = 30.0, delivered: bool = False) -> list[Received]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.delivered() if delivered else self.requests()
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def _next_reply(self) -> Reply:
        with self._lock:
            return self.script.popleft() if self.script else self.default

    def _record(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                reply = receiver._next_reply()
                if receiver.gate is not None:
                    try:
                        receiver.gate.wait()
                    except threading.BrokenBarrierError:
                        reply = Reply(500, body=b"alone at the gate")
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver._record(Received(self.path, headers, body, reply.status))
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers:
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting (a timeout test)

            def log_message(self, *_: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@contextmanager
def receiving(**kwargs: Any) -> Iterator[Receiver]:
    receiver = Receiver(**kwargs).start()
    try:
        yield receiver
    finally:
        receiver.stop()
