"""HTTPS POST of one signed webhook to a customer endpoint, through the SSRF-safe client."""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping

import httpx

from shared.adapters.safe_http import check_url, guarded_client, read_capped
from shared.domain.errors import ImageUrlRefused, WebhookUrlRefused
from shared.domain.webhooks import AttemptOutcome, SendResult, outcome_of

USER_AGENT = "Roomcraft-Webhooks/1.0"


def check_webhook_url(
    url: str, *, allow_loopback: bool = False, resolve: bool = True, blocked_ports: Collection[int] = ()
) -> None:
    """Refuse a webhook target we would never call: not https (http to loopback only in local mode),
    credentials in the URL, or a host that is or resolves to a non-public address."""
    if len(url) > 2048:
        raise WebhookUrlRefused("the URL is longer than 2048 characters")
    try:
        check_url(url, allow_loopback=allow_loopback, resolve=resolve, blocked_ports=blocked_ports)
    except ImageUrlRefused as error:
        raise WebhookUrlRefused(error.message, details={"url": url}) from error


class WebhookHttpSender:
    """One POST per call, on its own connection, within ``timeout`` seconds in all.

    Never raises for what the endpoint does (refusal, timeout, connection error, any status):
    the result says what happened. Redirects are not followed, and only an excerpt of the answer
    is read.
    """

    def __init__(
        self,
        *,
        timeout: float,
        allow_loopback: bool = False,
        excerpt_bytes: int = 1024,
        blocked_ports: Collection[int] = (),
    ) -> None:
        self._timeout = timeout
        self._allow_loopback = allow_loopback
        self._blocked_ports = blocked_ports
        self._excerpt_bytes = excerpt_bytes

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        started = time.monotonic()
        try:
            check_url(
                url, allow_loopback=self._allow_loopback, resolve=False, blocked_ports=self._blocked_ports
            )
            with (
                guarded_client(
                    timeout=self._timeout,
                    allow_loopback=self._allow_loopback,
                    total_timeout=self._timeout,
                    blocked_ports=self._blocked_ports,
                ) as http,
                http.stream(
                    "POST", url, content=body, headers={**headers, "user-agent": USER_AGENT}
                ) as answer,
            ):
                excerpt, _ = read_capped(answer, self._excerpt_bytes)
                status = answer.status_code
        except ImageUrlRefused as error:
            return self._result(AttemptOutcome.REFUSED, started, error=error.message)
        except httpx.TimeoutException:
            return self._result(
                AttemptOutcome.TIMEOUT, started, error=f"no answer within {self._timeout:g} s"
            )
        except httpx.HTTPError as error:
            return self._result(
                AttemptOutcome.CONNECTION_ERROR, started, error=f"{type(error).__name__}: {error}"[:300]
            )
        text = excerpt.decode("utf-8", errors="replace") if excerpt else None
        outcome = outcome_of(status)
        error_text = None
        if outcome is AttemptOutcome.REDIRECT:
            error_text = f"redirects are not followed (Location: {answer.headers.get('location', '')[:200]})"
        elif outcome is not AttemptOutcome.DELIVERED:
            error_text = f"HTTP {status}"
        return self._result(outcome, started, status_code=status, error=error_text, excerpt=text)

    @staticmethod
    def _result(
        outcome: AttemptOutcome,
        started: float,
        *,
        status_code: int | None = None,
        error: str | None = None,
        excerpt: str | None = None,
    ) -> SendResult:
        return SendResult(
            outcome=outcome,
            status_code=status_code,
            latency_ms=int((time.monotonic() - started) * 1000),
            error=error,
            response_excerpt=excerpt,
        )
