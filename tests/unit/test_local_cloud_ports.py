"""With loopback allowed (the local cloud), image and webhook URLs still cannot reach the local
cloud's own ports: the emulator's control plane, the API, the CDN (issue 13, item 10)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared.adapters.safe_http import AddressRefused, ImageUrlFetcher, check_url
from shared.adapters.webhook_http import WebhookHttpSender, check_webhook_url
from shared.domain.errors import WebhookUrlRefused
from shared.domain.webhooks import AttemptOutcome


class _Answer(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._ok()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self._ok()

    def _ok(self) -> None:
        self.server.hits += 1  # type: ignore[attr-defined]
        body = b'{"secret": "emulator state"}'
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def own_port() -> Iterator[tuple[int, ThreadingHTTPServer]]:
    """A loopback service standing in for the emulator (moto's /moto-api/ control plane)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    server.hits = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "origin", ["http://127.0.0.1", "http://localhost", "http://[::1]", "https://[::ffff:127.0.0.1]"]
)
def test_urls_to_the_local_clouds_own_ports_are_refused(own_port: tuple[int, object], origin: str) -> None:
    port, _ = own_port
    url = f"{origin}:{port}/moto-api/data.json"
    with pytest.raises(AddressRefused, match="local cloud"):
        check_url(url, allow_loopback=True, blocked_ports=(port,))
    with pytest.raises(WebhookUrlRefused, match="local cloud"):
        check_webhook_url(url, allow_loopback=True, blocked_ports=(port,))


def test_other_loopback_ports_stay_usable_locally(own_port: tuple[int, ThreadingHTTPServer]) -> None:
    port, server = own_port
    url = f"http://127.0.0.1:{port}/room.jpg"
    check_url(url, allow_loopback=True, blocked_ports=(port + 1,))
    fetched = ImageUrlFetcher(timeout=5, deadline=10, allow_loopback=True, blocked_ports=(port + 1,)).fetch(
        url, max_bytes=1000
    )
    assert fetched == b'{"secret": "emulator state"}'
    assert server.hits == 1  # type: ignore[attr-defined]


def test_the_image_fetcher_never_connects_to_a_blocked_port(
    own_port: tuple[int, ThreadingHTTPServer],
) -> None:
    port, server = own_port
    fetcher = ImageUrlFetcher(timeout=5, deadline=10, allow_loopback=True, blocked_ports=(port,))
    for host in ("127.0.0.1", "localhost"):
        with pytest.raises(AddressRefused):
            fetcher.fetch(f"http://{host}:{port}/moto-api/data.json", max_bytes=1000)
    assert server.hits == 0  # type: ignore[attr-defined]


def test_the_webhook_sender_refuses_a_blocked_port_and_reads_nothing(
    own_port: tuple[int, ThreadingHTTPServer],
) -> None:
    port, server = own_port
    sender = WebhookHttpSender(timeout=5, allow_loopback=True, blocked_ports=(port,))
    for host in ("127.0.0.1", "localhost"):
        result = sender.post(f"http://{host}:{port}/moto-api/data.json", b"{}", {})
        assert result.outcome is AttemptOutcome.REFUSED
        assert "emulator state" not in (result.response_excerpt or "")
    assert server.hits == 0  # type: ignore[attr-defined]


def test_the_local_cloud_blocks_its_own_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``LocalCloud`` gives the handlers, read back through the settings."""
    from shared.settings import Settings

    monkeypatch.setenv("ROOMCRAFT_LOOPBACK_BLOCKED_PORTS", "[4566, 8787, 8788]")
    assert Settings().loopback_blocked_ports == (4566, 8787, 8788)
