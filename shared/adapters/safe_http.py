"""Outbound HTTP to addresses users give us (image URLs, webhook endpoints), safe against SSRF.

The host is resolved once, every address is checked, and the connection is made to the checked
address itself, so a DNS answer that changes between check and connect (rebinding) cannot
reach an internal service. Redirects are never followed and bodies are read with a cap.

Locally (loopback allowed) the local cloud's own ports (the AWS emulator, the API, the CDN) stay
refused: ``blocked_ports``, so a webhook or image URL cannot reach the emulator's control plane.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Collection, Iterable
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from shared.domain.errors import ImageTooLarge, ImageUrlRefused, SourceFetchFailed, SourceFetchTimeout

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(ImageUrlRefused):
    pass


def is_allowed_address(address: IPAddress, *, allow_loopback: bool = False) -> bool:
    """Only globally routable unicast addresses; loopback too when explicitly allowed (local mode)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_allowed_address(address.ipv4_mapped, allow_loopback=allow_loopback)
    if isinstance(address, ipaddress.IPv6Address) and address.sixtofour is not None:
        # 6to4 (2002::/16) carries an IPv4 address that relays route to: judge that one.
        return is_allowed_address(address.sixtofour, allow_loopback=False)
    if address.is_loopback:
        return allow_loopback
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return False
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_link_local)


def refuse_blocked_port(address: IPAddress, port: int, blocked_ports: Collection[int]) -> None:
    """Loopback is allowed only locally, and never to the local cloud's own services."""
    if port in blocked_ports and (
        address.is_loopback
        or (
            isinstance(address, ipaddress.IPv6Address)
            and bool(address.ipv4_mapped and address.ipv4_mapped.is_loopback)
        )
    ):
        raise AddressRefused(f"port {port} on {address} is the local cloud itself")


def resolve_checked(
    host: str, port: int, *, allow_loopback: bool, blocked_ports: Collection[int] = ()
) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise AddressRefused(f"cannot resolve host {host!r}") from error
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not is_allowed_address(address, allow_loopback=allow_loopback):
            raise AddressRefused(f"{host} resolves to {address}, which is not a public address")
        refuse_blocked_port(address, port, blocked_ports)
        addresses.append(address)
    if not addresses:
        raise AddressRefused(f"cannot resolve host {host!r}")
    return addresses


def check_url(
    url: str, *, allow_loopback: bool = False, resolve: bool = True, blocked_ports: Collection[int] = ()
) -> None:
    """Refuse URLs we will never fetch: not https (http only to loopback locally), or private hosts."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise ImageUrlRefused("the URL has no host")
    if parts.username or parts.password:
        raise ImageUrlRefused("URLs with credentials are refused")
    loopback_http = allow_loopback and parts.scheme == "http" and _names_loopback(host)
    if parts.scheme != "https" and not loopback_http:
        raise ImageUrlRefused("only https URLs are accepted")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if literal is not None and not is_allowed_address(literal, allow_loopback=allow_loopback):
        raise AddressRefused(f"{host} is not a public address")
    if literal is not None:
        refuse_blocked_port(literal, port, blocked_ports)
    if resolve:
        resolve_checked(host, port, allow_loopback=allow_loopback, blocked_ports=blocked_ports)


def _names_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _DeadlineStream(httpcore.NetworkStream):
    """Bounds every read and write by one deadline, so a server that trickles bytes cannot hold a
    request past its overall time limit (httpx's own timeouts apply to each operation)."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: float) -> None:
        self._stream = stream
        self._deadline = deadline

    def _left(self, timeout: float | None, error: type[Exception]) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise error("the request took longer than its time limit")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        stream = self._stream.start_tls(
            ssl_context, server_hostname, self._left(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(stream, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


def connected_address(stream: httpcore.NetworkStream) -> IPAddress | None:
    peer = stream.get_extra_info("server_addr")
    if not peer:
        return None
    return ipaddress.ip_address(str(peer[0]).split("%", 1)[0])


class _CheckedBackend(httpcore.SyncBackend):
    """Connects only to addresses that passed the check, and to exactly those."""

    def __init__(
        self, *, allow_loopback: bool, total_timeout: float | None = None, blocked_ports: Collection[int] = ()
    ) -> None:
        self._allow_loopback = allow_loopback
        self._total_timeout = total_timeout
        self._blocked_ports = blocked_ports

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        started = time.monotonic()
        addresses = resolve_checked(
            host, port, allow_loopback=self._allow_loopback, blocked_ports=self._blocked_ports
        )
        last_error: Exception | None = None
        for address in addresses:
            try:
                stream = super().connect_tcp(str(address), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as error:
                last_error = error
                continue
            # Belt and braces: the socket's peer must be the address that was checked.
            peer = connected_address(stream)
            if peer != address or not is_allowed_address(peer, allow_loopback=self._allow_loopback):
                stream.close()
                raise AddressRefused(f"{host} connected to {peer}, which is not the checked address")
            if self._total_timeout is not None:
                return _DeadlineStream(stream, started + self._total_timeout)
            return stream
        assert last_error is not None
        raise last_error


@cache
def _tls_context() -> ssl.SSLContext:
    """Built once per container: loading the CA bundle costs ~40 ms, too much for every request."""
    return httpx.create_ssl_context()


def guarded_client(
    *,
    timeout: float,
    allow_loopback: bool = False,
    total_timeout: float | None = None,
    blocked_ports: Collection[int] = (),
) -> httpx.Client:
    """An httpx client that only reaches checked public addresses and never follows redirects.

    ``total_timeout`` bounds each connection's whole life (connect, send, answer), for clients
    used for one request each; ``timeout`` bounds each network operation.
    """
    transport = httpx.HTTPTransport(retries=0, verify=_tls_context())
    # httpx has no public hook for the network backend; the pool it builds is swapped for one
    # with the same TLS context that connects through the checked backend.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=transport._pool._ssl_context,
        network_backend=_CheckedBackend(
            allow_loopback=allow_loopback, total_timeout=total_timeout, blocked_ports=blocked_ports
        ),
    )
    return httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,  # never route user-chosen URLs through an environment proxy
        headers={"User-Agent": "Roomcraft/0.1 (+https://github.com/roomcraft)"},
    )


def read_capped(response: httpx.Response, cap: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > cap:
            return b"".join(chunks)[:cap], True
    return b"".join(chunks), False


class ImageUrlFetcher:
    """Downloads a room photo from a user's URL within size and time limits.

    ``timeout`` bounds each network operation; ``deadline`` the whole fetch (connect, answer, body),
    so a server that sends one byte every few seconds is cut off on time, not after minutes."""

    def __init__(
        self,
        *,
        timeout: float,
        deadline: float,
        allow_loopback: bool = False,
        blocked_ports: Collection[int] = (),
    ) -> None:
        self._timeout = timeout
        self._deadline = deadline
        self._allow_loopback = allow_loopback
        self._blocked_ports = blocked_ports

    def fetch(self, url: str, *, max_bytes: int, deadline_seconds: float | None = None) -> bytes:
        check_url(url, allow_loopback=self._allow_loopback, resolve=False, blocked_ports=self._blocked_ports)
        deadline = self._deadline if deadline_seconds is None else min(self._deadline, deadline_seconds)
        try:
            with (
                guarded_client(
                    timeout=min(self._timeout, deadline),
                    allow_loopback=self._allow_loopback,
                    total_timeout=deadline,
                    blocked_ports=self._blocked_ports,
                ) as http,
                http.stream("GET", url) as response,
            ):
                if response.is_redirect:
                    raise SourceFetchFailed(
                        f"the image URL redirects ({response.status_code}); give the final URL"
                    )
                if response.status_code != 200:
                    raise SourceFetchFailed(f"the image URL answered HTTP {response.status_code}")
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise ImageTooLarge(f"the image is {declared} bytes; the limit is {max_bytes}")
                body, truncated = read_capped(response, max_bytes)
        except httpx.TimeoutException as error:
            raise SourceFetchTimeout(
                f"the image URL did not send the image within {deadline:g} s", details={"seconds": deadline}
            ) from error
        except httpx.HTTPError as error:
            raise SourceFetchFailed(f"the image URL could not be fetched: {error}") from error
        if truncated:
            raise ImageTooLarge(f"the image is larger than the limit of {max_bytes} bytes")
        return body
