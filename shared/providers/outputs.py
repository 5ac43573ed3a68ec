"""Download a provider's output images: allowed hosts only, SSRF-safe, size- and time-capped, checked.

Providers hand back URLs (Replicate serves outputs from ``replicate.delivery``). Each URL is
checked (https, a host on the allow-list, a public address: ``shared.adapters.safe_http``),
fetched with a byte cap and an overall deadline, and decoded to prove it is an image before it
is stored. Transient failures (timeouts, 5xx, dropped connections) are retried with the
provider's ``RetryPolicy``; anything else fails the design with ``provider_output_invalid``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

from shared.adapters.safe_http import check_url, guarded_client
from shared.domain.errors import ImageError, ImageUrlRefused, ProviderOutputInvalid
from shared.providers.base import GeneratedImage
from shared.providers.retry import RetryPolicy, TransientFailure

CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "TIFF": "image/tiff",
    "BMP": "image/bmp",
    "AVIF": "image/avif",
}


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == name or host.endswith(f".{name}") for name in (a.lower() for a in allowed))


class OutputDownloader:
    def __init__(
        self,
        *,
        allowed_hosts: tuple[str, ...],
        max_bytes: int,
        max_pixels: int,
        timeout: float,
        retry: RetryPolicy,
        allow_loopback: bool = False,
        authorization: Callable[[], str] | None = None,
    ) -> None:
        self._allowed_hosts = allowed_hosts
        self._max_bytes = max_bytes
        self._max_pixels = max_pixels
        self._timeout = timeout
        self._retry = retry
        self._allow_loopback = allow_loopback
        self._authorization = authorization
        """The provider's ``Authorization`` value, sent only on a second try after 401/403/404:
        some output files are served only to the account that made them."""

    def download(self, url: str, *, metadata: dict[str, str] | None = None) -> GeneratedImage:
        self._check(url)
        try:
            data = self._retry.run(lambda: self._fetch(url), what="downloading a provider output")
        except _Refused as refused:
            if self._authorization is None:
                raise refused.error from None
            headers = {"Authorization": self._authorization()}
            try:
                data = self._retry.run(
                    lambda: self._fetch(url, headers=headers), what="downloading a provider output"
                )
            except _Refused as again:
                raise again.error from None
        content_type = self._verify_image(data)
        return GeneratedImage(data=data, content_type=content_type, metadata=dict(metadata or {}))

    def _check(self, url: str) -> None:
        host = urlsplit(url).hostname or ""
        if not host_allowed(host, self._allowed_hosts):
            raise ProviderOutputInvalid(
                f"the provider's output is served from {host or 'nowhere'!r}, which is not an allowed "
                "output host (ROOMCRAFT_REPLICATE_OUTPUT_HOSTS)"
            )
        try:
            check_url(url, allow_loopback=self._allow_loopback, resolve=False)
        except ImageUrlRefused as error:
            raise ProviderOutputInvalid(f"the provider's output URL is refused: {error.message}") from error

    def _fetch(self, url: str, headers: dict[str, str] | None = None) -> bytes:
        deadline = time.monotonic() + self._timeout
        try:
            with (
                guarded_client(timeout=self._timeout, allow_loopback=self._allow_loopback) as http,
                http.stream("GET", url, headers=headers) as response,
            ):
                status = response.status_code
                if status == 429 or status >= 500:
                    raise TransientFailure(
                        f"the output host answered HTTP {status}",
                        retry_after=parse_retry_after(response.headers.get("retry-after")),
                    )
                if status in (401, 403, 404):
                    raise _Refused(
                        ProviderOutputInvalid(
                            f"the provider's output could not be fetched (HTTP {status}); it may have expired"
                        )
                    )
                if status != 200:
                    raise ProviderOutputInvalid(
                        f"the provider's output could not be fetched (HTTP {status}); it may have expired"
                    )
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > self._max_bytes:
                    raise ProviderOutputInvalid(
                        f"the provider's output is {declared} bytes; the limit is {self._max_bytes}"
                    )
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self._max_bytes:
                        raise ProviderOutputInvalid(
                            f"the provider's output is larger than the limit of {self._max_bytes} bytes"
                        )
                    if time.monotonic() > deadline:
                        raise TransientFailure(f"the output download took longer than {self._timeout:.0f} s")
                    chunks.append(chunk)
        except httpx.TimeoutException as error:
            raise TransientFailure(f"the output download timed out ({type(error).__name__})") from error
        except httpx.TransportError as error:
            raise TransientFailure(f"the output download failed ({type(error).__name__})") from error
        return b"".join(chunks)

    def _verify_image(self, data: bytes) -> str:
        # Pillow only here: this module runs in the worker and in the callback, never at API start.
        from shared.imaging.prepare import load_image, open_image

        try:
            image, kind = open_image(data, max_bytes=self._max_bytes, max_pixels=self._max_pixels)
            with image:
                load_image(image)
        except ImageError as error:
            raise ProviderOutputInvalid(
                f"the provider's output is not a usable image: {error.message}"
            ) from error
        return CONTENT_TYPES.get(kind, "application/octet-stream")


class _Refused(Exception):
    """401/403/404 from the output host: tried once more with the provider's credentials."""

    def __init__(self, error: ProviderOutputInvalid) -> None:
        super().__init__(error.message)
        self.error = error


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date; None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
