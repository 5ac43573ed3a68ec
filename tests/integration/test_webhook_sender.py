"""The HTTP side of a delivery against real local servers: limits on time and on what is read."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from shared.adapters.webhook_http import USER_AGENT, WebhookHttpSender, check_webhook_url
from shared.domain.errors import WebhookUrlRefused
from shared.domain.webhooks import AttemptOutcome
from tests.webhook_receiver import Receiver, Reply, receiving


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


@pytest.fixture
def trickler() -> Iterator[str]:
    """Answers with a status line, then one header byte every 0.2 s, forever: each read is quick,
    so only an overall deadline stops it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def serve() -> None:
        connection, _ = server.accept()
        connection.recv(65536)
        connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        while not stop.is_set():
            try:
                connection.sendall(b"a")
            except OSError:
                return
            time.sleep(0.2)
        connection.close()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/hook"
    stop.set()
    server.close()


def sender(**kwargs: object) -> WebhookHttpSender:
    return WebhookHttpSender(**{"timeout": 2.0, "allow_loopback": True, **kwargs})  # type: ignore[arg-type]


def test_a_server_trickling_bytes_cannot_outlast_the_overall_limit(trickler: str) -> None:
    result = sender(timeout=1.0).post(trickler, b"{}", {})
    assert result.outcome is AttemptOutcome.TIMEOUT
    assert result.status_code is None


def test_only_an_excerpt_of_the_answer_is_read(receiver: Receiver) -> None:
    receiver.then(Reply(500, body=b"x" * 100_000))
    result = sender(excerpt_bytes=64).post(receiver.url, b"{}", {"webhook-id": "msg_1"})
    assert (result.outcome, result.status_code) == (AttemptOutcome.HTTP_ERROR, 500)
    assert result.response_excerpt == "x" * 64
    [request] = receiver.requests()
    assert request.headers["user-agent"] == USER_AGENT
    assert request.headers["webhook-id"] == "msg_1"


def test_loopback_is_refused_unless_local_mode_allows_it(receiver: Receiver) -> None:
    result = sender(allow_loopback=False).post(receiver.url, b"{}", {})
    assert result.outcome is AttemptOutcome.REFUSED
    assert receiver.requests() == []
    with pytest.raises(WebhookUrlRefused):
        check_webhook_url(receiver.url)
    check_webhook_url(receiver.url, allow_loopback=True)


def test_a_host_resolving_to_a_private_address_is_refused_at_connect(monkeypatch: pytest.MonkeyPatch) -> None:
    def private(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))]

    monkeypatch.setattr(socket, "getaddrinfo", private)
    result = sender(allow_loopback=False).post("https://hooks.example.com/x", b"{}", {})
    assert result.outcome is AttemptOutcome.REFUSED
    assert "10.1.2.3" in (result.error or "")


def test_overlong_urls_are_refused() -> None:
    with pytest.raises(WebhookUrlRefused, match="2048"):
        check_webhook_url("https://93.184.215.14/" + "a" * 2048)
