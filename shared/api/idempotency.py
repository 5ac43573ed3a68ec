"""``Idempotency-Key`` on every POST: a retried request gets the first response back, not a second design.

An ASGI middleware, so it covers every POST route, present and future. The key is scoped to the
authenticated tenant and the path; the request (query and body) is hashed, and a different request
under the same key is refused (422 ``idempotency_key_reused``); a JSON body is compared parsed, so
whitespace and key order do not make a request different. Records live in DynamoDB through the
Powertools idempotency utility: the first request writes an in-progress record (a conditional put),
a concurrent duplicate gets 409 ``idempotency_request_in_progress``, a 2xx response is stored for
``ROOMCRAFT_IDEMPOTENCY_TTL_SECONDS`` and replayed with ``Idempotent-Replayed: true``. Other responses
are not stored: the record is dropped, so a retry runs again (a 429 or a 5xx may succeed later).

Webhook signing secrets (``whsec_…``) are shown once: they are never written to the idempotency
table. A stored response keeps ``null`` in their place, and its replay says so with
``Idempotent-Redacted: secret`` (rotate the secret to get a new one).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio
import anyio.from_thread
import anyio.to_thread
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.domain.errors import (
    IdempotencyInProgress,
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
    RoomcraftError,
    TooManyRequests,
)
from shared.resources import FUNCTIONS
from shared.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

HEADER = "idempotency-key"
REPLAYED_HEADER = "idempotent-replayed"
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
"""1 to 255 visible ASCII characters; the OpenAPI document declares the same pattern."""
_KEY_PATTERN = re.compile(IDEMPOTENCY_KEY_PATTERN)
_NOT_STORED_HEADERS = {b"x-request-id", b"date", b"server", b"content-length"}
_SECRET_VALUE = re.compile(rb'"whsec_[^"\\]*"')
"""A webhook signing secret as a JSON string value (base64 has no quote or backslash)."""
REDACTED_HEADER = "idempotent-redacted"
_LEASE_MS = (next(f for f in FUNCTIONS if f.id == "api").timeout_seconds + 1) * 1000
"""An in-progress record outlives the request that wrote it by at most this: a crashed request's key
becomes usable again once the api function's own timeout has surely passed."""
_THREADS = anyio.CapacityLimiter(16)
"""Threads waiting on an idempotent request, apart from those that run the routes (no starvation)."""

ErrorRenderer = Callable[..., Response]


@dataclass
class CapturedResponse:
    status: int = 500
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""

    def to_record(self) -> dict[str, Any]:
        """What is kept for replay: everything but the signing secrets, which are shown only once."""
        body, secrets = _SECRET_VALUE.subn(b"null", self.body)
        headers = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in self.headers]
        if secrets:
            headers.append([REDACTED_HEADER, "secret"])
        return {"status": self.status, "headers": headers, "body": base64.b64encode(body).decode()}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> CapturedResponse:
        return cls(
            status=int(record["status"]),
            headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in record["headers"]],
            body=base64.b64decode(record["body"]),
        )

    async def send_to(self, send: Send, *extra: tuple[bytes, bytes]) -> None:
        headers = [h for h in self.headers if h[0].lower() not in _NOT_STORED_HEADERS] + list(extra)
        headers.append((b"content-length", str(len(self.body)).encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


class _NotStored(Exception):
    """A response that is not kept for replay: Powertools drops the record and re-raises this."""

    def __init__(self, response: CapturedResponse) -> None:
        super().__init__(response.status)
        self.response = response


class _Lease:
    """Stands in for the Lambda context: Powertools reads it to expire an abandoned in-progress record."""

    def get_remaining_time_in_millis(self) -> int:
        return _LEASE_MS


def _run_once(*, call: dict[str, Any], execute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Runs ``execute`` unless ``call`` was seen before (Powertools decides, see ``_idempotent``)."""
    return execute()


def _idempotent(
    call: dict[str, Any],
    execute: Callable[[], dict[str, Any]],
    store: Callable[[], BasePersistenceLayer],
) -> dict[str, Any]:
    config = IdempotencyConfig(
        event_key_jmespath="[tenant, route, key]",
        payload_validation_jmespath="request",
        expires_after_seconds=get_settings().idempotency_ttl_seconds,
        raise_on_no_idempotency_key=True,
        lambda_context=_Lease(),  # type: ignore[arg-type]
    )
    run = idempotent_function(
        _run_once,
        data_keyword_argument="call",
        persistence_store=store(),
        config=config,
        key_prefix="roomcraft-api-post",
    )
    result: dict[str, Any] = run(call=call, execute=execute)
    return result


def request_fingerprint(query: bytes, body: bytes) -> str:
    """What makes two requests "the same": the query and the parsed body, not its bytes, so a retry
    that serializes the same JSON with other whitespace or key order is still the same request."""
    try:
        canonical = json.dumps(
            json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except ValueError:  # not JSON (or not UTF-8): the bytes are all there is to compare
        canonical = body
    return hashlib.sha256(query + b"\n" + canonical).hexdigest()


class IdempotencyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        render_error: ErrorRenderer,
        resolve_tenant: Callable[[Request], str],
        store: Callable[[], BasePersistenceLayer],
    ) -> None:
        """``resolve_tenant`` authenticates and rate-limits, raising what the route's dependency would;
        ``store`` gives the idempotency records' table (built on the first keyed request)."""
        self.app = app
        self._render_error = render_error
        self._resolve_tenant = resolve_tenant
        self._store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        key = request.headers.get(HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not _KEY_PATTERN.fullmatch(key):
            invalid = IdempotencyKeyInvalid("Idempotency-Key must be 1 to 255 visible ASCII characters")
            await self._send_error(request, invalid, send)
            return
        try:
            tenant = await anyio.to_thread.run_sync(self._resolve_tenant, request)
        except TooManyRequests as limited:
            await self._send_error(request, limited, send, retry_after=limited.retry_after)
            return
        except RoomcraftError:
            await self.app(scope, receive, send)  # unauthenticated: the route answers 401 itself
            return
        body = await request.body()
        call = {
            "tenant": tenant,
            "route": f"POST {scope['path']}",
            "key": key,
            "request": request_fingerprint(scope.get("query_string", b""), body),
        }
        first: CapturedResponse | None = None

        def execute() -> dict[str, Any]:
            nonlocal first
            response: CapturedResponse = anyio.from_thread.run(self._call_app, scope, body)
            if not 200 <= response.status < 300:
                raise _NotStored(response)
            first = response
            return response.to_record()

        try:
            record = await anyio.to_thread.run_sync(
                partial(_idempotent, call, execute, self._store), limiter=_THREADS
            )
        except _NotStored as not_stored:
            await not_stored.response.send_to(send)
            return
        except IdempotencyValidationError:
            reused = IdempotencyKeyReused(
                "this Idempotency-Key was used with a different request; use a new key for a new request"
            )
            await self._send_error(request, reused, send)
            return
        except IdempotencyAlreadyInProgressError:
            running = IdempotencyInProgress("the first request with this Idempotency-Key is still running")
            await self._send_error(request, running, send, retry_after=1)
            return
        if first is not None:  # this request ran: its own response, secrets included
            await first.send_to(send)
            return
        await CapturedResponse.from_record(record).send_to(send, (REPLAYED_HEADER.encode(), b"true"))

    async def _call_app(self, scope: Scope, body: bytes) -> CapturedResponse:
        captured = CapturedResponse()
        delivered = False

        async def receive() -> Message:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured.status = message["status"]
                captured.headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                captured.body += message.get("body", b"")

        await self.app(scope, receive, capture)
        return captured

    async def _send_error(
        self, request: Request, error: RoomcraftError, send: Send, *, retry_after: int | None = None
    ) -> None:
        response = self._render_error(request, error.http_status, error.code, error.message, error.details)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        await response(request.scope, request.receive, send)
