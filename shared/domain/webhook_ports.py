"""What the webhook use cases need from the outside world (kept beside ``ports.py`` to merge cleanly)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel

from shared.domain.webhooks import (
    EndpointHealth,
    MessageStatus,
    SendResult,
    WebhookEndpoint,
    WebhookJob,
    WebhookMessage,
)


class EndpointStore(Protocol):
    def create(self, endpoint: WebhookEndpoint) -> bool:
        """False when an endpoint with that id already exists."""
        ...

    def create_within_limit(self, endpoint: WebhookEndpoint, *, limit: int) -> bool:
        """Create a registered endpoint unless the tenant has ``limit`` already (False, nothing written).
        Atomic: parallel creates never pass the limit."""
        ...

    def find(self, tenant_id: str, endpoint_id: str) -> WebhookEndpoint | None: ...
    def list(self, tenant_id: str) -> list[WebhookEndpoint]: ...
    def save_if_unchanged(self, previous: WebhookEndpoint, updated: WebhookEndpoint) -> None: ...
    def delete(self, tenant_id: str, endpoint_id: str) -> bool: ...
    def health(self, tenant_id: str, endpoint_id: str) -> EndpointHealth: ...
    def record_success(self, tenant_id: str, endpoint_id: str, now: datetime) -> None: ...
    def record_failure(self, tenant_id: str, endpoint_id: str, now: datetime) -> datetime | None:
        """Mark a failed attempt; the start of the current run of failures (None if the endpoint is gone)."""
        ...

    def clear_failures(self, tenant_id: str, endpoint_id: str) -> None: ...


class MessageStore(Protocol):
    def create(self, message: WebhookMessage) -> WebhookMessage | None:
        """Store a new message; if one with that id exists, return it instead (nothing is written)."""
        ...

    def find(self, tenant_id: str, endpoint_id: str, message_id: str) -> WebhookMessage | None: ...
    def save_if_unchanged(self, previous: WebhookMessage, updated: WebhookMessage) -> None: ...
    def list(
        self,
        tenant_id: str,
        endpoint_id: str,
        *,
        limit: int,
        cursor: str | None = None,
        status: MessageStatus | None = None,
        since: datetime | None = None,
        newest_first: bool = True,
    ) -> tuple[list[WebhookMessage], str | None]: ...


class SecretCipher(Protocol):
    def encrypt(self, plaintext: str, context: Mapping[str, str]) -> str: ...
    def decrypt(self, ciphertext: str, context: Mapping[str, str]) -> str: ...


class WebhookJobQueue(Protocol):
    def send(self, jobs: Sequence[WebhookJob], *, delay_seconds: int = 0) -> None: ...


class WebhookSender(Protocol):
    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult: ...


class BusPublisher(Protocol):
    def publish_event(self, detail_type: str, detail: BaseModel) -> None: ...
