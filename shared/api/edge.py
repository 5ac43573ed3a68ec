"""The edge check: in the cloud the API is reached only through CloudFront, where AWS WAF limits
each client's request rate (docs/tenants.md). CloudFront adds a secret header to every request it
forwards; a request to the execute-api URL without it (one that skipped the WAF) is refused.

Unset (the local cloud, tests), nothing is checked. The secret is read from Secrets Manager once per
container and cached (``shared.adapters.secrets``); compared in constant time.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from shared.domain.errors import RoomcraftError

EDGE_HEADER = "x-roomcraft-edge"
"""Sent by CloudFront to the API origin only (an origin custom header, never seen by clients)."""

ErrorRenderer = Callable[[Request, int, str, str], Response]


def install_edge_check(app: FastAPI, render_error: ErrorRenderer, expected: Callable[[], str] | None) -> None:
    """Refuse requests that did not come through CloudFront; ``expected`` reads the secret (None:
    no edge in front, nothing to check)."""
    if expected is None:
        return

    @app.middleware("http")
    async def through_the_edge_only(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        try:
            secret = expected()
        except RoomcraftError:
            # Fail closed: without the secret no request can be told from one that skipped the WAF.
            return render_error(
                request,
                503,
                "edge_check_unavailable",
                "the API cannot verify its edge right now; retry later",
            )
        presented = request.headers.get(EDGE_HEADER, "")
        if not hmac.compare_digest(presented.encode(), secret.encode()):
            return render_error(
                request,
                403,
                "direct_access_forbidden",
                "call the API through its CloudFront URL (the stack's ApiUrl output), not execute-api",
            )
        return await call_next(request)
