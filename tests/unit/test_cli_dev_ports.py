"""``roomcraft dev`` with a port already taken: it names the port and exits 3, no traceback
(issue 13, item 11)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from shared.cli import EXIT_ENVIRONMENT, main
from shared.local.cloud import free_port


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


@pytest.mark.parametrize(
    ("option", "named"), [("--port", "API"), ("--cdn-port", "CDN"), ("--emulator-port", "")]
)
def test_a_taken_port_is_named_and_exits_3(
    taken_port: int, option: str, named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ports = {"--port": free_port(), "--cdn-port": free_port(), "--emulator-port": free_port()}
    ports[option] = taken_port
    argv = ["dev", *(part for name, port in ports.items() for part in (name, str(port)))]
    assert main(argv) == EXIT_ENVIRONMENT
    printed = capsys.readouterr()
    assert f"port {taken_port} on 127.0.0.1 is already in use ({option}" in printed.out
    assert named in printed.out
    assert "Traceback" not in printed.out + printed.err
