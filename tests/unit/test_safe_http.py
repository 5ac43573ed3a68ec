from __future__ import annotations

import ipaddress

import pytest

from shared.adapters.safe_http import check_url, is_allowed_address
from shared.domain.errors import ImageUrlRefused


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata service
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",  # multicast
        "240.0.0.1",  # reserved
        "::1",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:169.254.169.254",
        "2002:a00:1::1",  # 6to4 wrapping 10.0.0.1
        "2002:7f00:1::1",  # 6to4 wrapping 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 wrapping 10.0.0.1
        "2001::1",  # Teredo
        "fec0::1",  # deprecated site-local
        "2001:db8::1",  # documentation
        "100::1",  # discard-only
        "::",
        "255.255.255.255",
        "198.18.0.1",  # benchmarking
    ],
)
def test_private_and_special_addresses_are_refused(address: str) -> None:
    assert not is_allowed_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_allowed_address(ipaddress.ip_address(address))


def test_loopback_only_when_allowed() -> None:
    assert is_allowed_address(ipaddress.ip_address("127.0.0.1"), allow_loopback=True)
    assert not is_allowed_address(ipaddress.ip_address("10.0.0.1"), allow_loopback=True)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://93.184.215.14/room.jpg", "https"),
        ("ftp://example.com/room.jpg", "https"),
        ("https://169.254.169.254/latest/meta-data", "not a public address"),
        ("https://[::1]/room.jpg", "not a public address"),
        ("https://user:pw@93.184.215.14/room.jpg", "credentials"),
        ("https:///room.jpg", "no host"),
        ("http://127.0.0.1:9/room.jpg", "https"),  # loopback http only in local mode
    ],
)
def test_refused_urls_say_why(url: str, fragment: str) -> None:
    with pytest.raises(ImageUrlRefused) as raised:
        check_url(url, resolve=False)
    assert fragment in raised.value.message
    assert raised.value.code == "image_url_refused"


def test_local_mode_accepts_http_to_loopback() -> None:
    check_url("http://127.0.0.1:8000/room.jpg", allow_loopback=True, resolve=False)


def test_https_to_a_public_literal_is_accepted() -> None:
    check_url("https://93.184.215.14/room.jpg", resolve=False)


def test_6to4_wrapping_a_public_address_is_allowed() -> None:
    assert is_allowed_address(ipaddress.ip_address("2002:5db8:d70e::1"))  # 93.184.215.14


def test_the_connected_address_must_be_the_checked_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Even if something between the check and the socket swapped the address, the peer is checked."""
    import httpcore

    from shared.adapters import safe_http

    class Stream(httpcore.NetworkStream):
        closed = False

        def get_extra_info(self, info: str) -> object:
            return ("10.0.0.7", 443) if info == "server_addr" else None

        def close(self) -> None:
            Stream.closed = True

    monkeypatch.setattr(
        safe_http, "resolve_checked", lambda *_, **__: [ipaddress.ip_address("93.184.215.14")]
    )
    monkeypatch.setattr(httpcore.SyncBackend, "connect_tcp", lambda *_, **__: Stream())
    backend = safe_http._CheckedBackend(allow_loopback=False)
    with pytest.raises(ImageUrlRefused, match="not the checked address"):
        backend.connect_tcp("hooks.example.com", 443)
    assert Stream.closed


def test_dns_answers_for_private_addresses_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from shared.adapters import safe_http

    def rebinding(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with pytest.raises(ImageUrlRefused, match=r"169\.254\.169\.254"):
        safe_http._CheckedBackend(allow_loopback=False).connect_tcp("metadata.example.com", 443)


def test_a_deployed_function_never_honours_local_loopback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shared import bootstrap
    from shared.settings import Settings, get_settings

    assert Settings(allow_loopback_urls=True).loopback_urls_allowed
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "roomcraft-prod-api")
    assert not Settings(allow_loopback_urls=True).loopback_urls_allowed
    # The design service checks image URLs (and webhook URLs) with that rule, not the raw setting.
    monkeypatch.setenv("ROOMCRAFT_ALLOW_LOOPBACK_URLS", "true")
    get_settings.cache_clear()
    bootstrap.reset()
    try:
        with pytest.raises(ImageUrlRefused):
            bootstrap.design_service()._check_image_url("http://127.0.0.1:8000/room.jpg")
    finally:
        get_settings.cache_clear()
        bootstrap.reset()
