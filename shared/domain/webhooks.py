"""Webhooks to customer systems in the Standard Webhooks format: the rules, without I/O.

Event types and how bus events map onto them, endpoints and their signing secrets, the delivery
log, stable message ids, the retry schedule, the disabling rule and the signature itself.
Documented for customers in docs/webhooks.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from standardwebhooks import Webhook

from shared.domain.design import DesignError
from shared.domain.events import DesignEventDetail, OutputSummary
from shared.domain.ids import ulid_at
from shared.domain.status import DesignStatus

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32
DEFAULT_CHANNEL = "default"
"""Endpoint id of a tenant's per-request channel: designs created with their own ``webhook_url``."""
MAX_ATTEMPTS_KEPT = 50
"""Attempts kept in one message's log (replays add more); older ones are dropped."""


class WebhookEventType(StrEnum):
    DESIGN_QUEUED = "design.queued"
    DESIGN_STARTED = "design.started"
    DESIGN_SUCCEEDED = "design.succeeded"
    DESIGN_FAILED = "design.failed"
    DESIGN_CANCELED = "design.canceled"
    BATCH_COMPLETED = "batch.completed"
    ENDPOINT_DISABLED = "endpoint.disabled"
    TEST = "webhook.test"
    """Sent only on request to one endpoint; no filter applies to it."""


SUBSCRIBABLE: tuple[WebhookEventType, ...] = tuple(
    t for t in WebhookEventType if t is not WebhookEventType.TEST
)

_FROM_STATUS: dict[DesignStatus, WebhookEventType] = {
    DesignStatus.QUEUED: WebhookEventType.DESIGN_QUEUED,
    DesignStatus.PREPARING: WebhookEventType.DESIGN_STARTED,
    DesignStatus.SUCCEEDED: WebhookEventType.DESIGN_SUCCEEDED,
    DesignStatus.FAILED: WebhookEventType.DESIGN_FAILED,
    DesignStatus.CANCELED: WebhookEventType.DESIGN_CANCELED,
}


def event_type_for(detail_type: str) -> WebhookEventType | None:
    """The webhook type of a bus event's ``detail-type``; None for events not sent as webhooks."""
    if detail_type.startswith("design."):
        try:
            status = DesignStatus(detail_type.removeprefix("design."))
        except ValueError:
            return None
        return _FROM_STATUS.get(status)
    if detail_type in (WebhookEventType.BATCH_COMPLETED, WebhookEventType.ENDPOINT_DISABLED):
        return WebhookEventType(detail_type)
    return None


# --- payloads ---------------------------------------------------------------------------
class DesignWebhookData(BaseModel):
    """``data`` of every ``design.*`` webhook."""

    model_config = ConfigDict(frozen=True)

    design_id: str
    status: DesignStatus
    previous_status: DesignStatus | None
    version: int
    """Increases with every change: order events by it (deliveries may arrive out of order)."""
    progress: float
    origin: str
    occurred_at: datetime
    batch_id: str | None = None
    outputs: tuple[OutputSummary, ...] = ()
    error: DesignError | None = None
    structure_ok: bool | None = None
    """On design.succeeded: false when an output was kept under the structure threshold."""
    regenerations: int = 0

    @classmethod
    def of(cls, detail: DesignEventDetail) -> DesignWebhookData:
        return cls.model_validate(detail.model_dump(include=set(cls.model_fields)))


class WebhookTestData(BaseModel):
    """``data`` of ``webhook.test``."""

    model_config = ConfigDict(frozen=True)

    endpoint_id: str
    message: str = "This is a test event from Roomcraft."


class WebhookPayload(BaseModel):
    """The body of every webhook: ``{type, timestamp, data}``."""

    model_config = ConfigDict(frozen=True)

    type: WebhookEventType
    timestamp: datetime
    data: dict[str, Any]

    def body(self) -> str:
        """The exact text that is signed and sent."""
        return self.model_dump_json()


# --- endpoints and secrets --------------------------------------------------------------
def new_signing_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_context(tenant_id: str, endpoint_id: str) -> dict[str, str]:
    """Encryption context binding a stored secret to its endpoint: a copied ciphertext will not decrypt."""
    return {"purpose": "webhook-signing-secret", "tenant_id": tenant_id, "endpoint_id": endpoint_id}


class EndpointStatus(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class DisabledReason(StrEnum):
    GONE = "gone"
    """The endpoint answered 410 Gone."""
    FAILING = "failing"
    """Every attempt failed for longer than the disabling threshold."""
    MANUAL = "manual"
    """The tenant disabled it."""


class EndpointDisabledData(BaseModel):
    """``data`` of ``endpoint.disabled``, and the ``detail`` of the bus event of the same name."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    tenant_id: str
    endpoint_id: str
    url: str
    reason: DisabledReason
    disabled_at: datetime
    failing_since: datetime | None = None


class StoredSecret(BaseModel):
    model_config = ConfigDict(frozen=True)

    ciphertext: str
    """The ``whsec_`` secret encrypted with the deployment's key; never the plaintext."""
    created_at: datetime
    expires_at: datetime | None = None
    """None for the current secret; set on the previous one when the secret is rotated."""


class WebhookEndpoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    endpoint_id: str
    tenant_id: str
    url: str
    """Empty for the tenant's default channel, whose URL comes with each design."""
    description: str = ""
    event_types: tuple[WebhookEventType, ...] = ()
    """Types this endpoint receives; empty means every type."""
    status: EndpointStatus = EndpointStatus.ENABLED
    disabled_reason: DisabledReason | None = None
    disabled_at: datetime | None = None
    secrets: tuple[StoredSecret, ...]
    """Current secret first, then the previous one while its grace period lasts."""
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @property
    def is_default_channel(self) -> bool:
        return self.endpoint_id == DEFAULT_CHANNEL

    @property
    def enabled(self) -> bool:
        return self.status is EndpointStatus.ENABLED

    def subscribes_to(self, event_type: WebhookEventType) -> bool:
        return not self.event_types or event_type in self.event_types

    def active_secrets(self, now: datetime) -> tuple[StoredSecret, ...]:
        return tuple(s for s in self.secrets if s.expires_at is None or s.expires_at > now)

    def previous_secret_expires_at(self, now: datetime) -> datetime | None:
        return next((s.expires_at for s in self.active_secrets(now) if s.expires_at is not None), None)

    def _next(self, now: datetime, **changes: object) -> WebhookEndpoint:
        return self.model_copy(update={"version": self.version + 1, "updated_at": now, **changes})

    def with_secret(self, ciphertext: str, *, now: datetime, grace: timedelta) -> WebhookEndpoint:
        """Rotate: the new secret becomes current, the old one stays valid for ``grace``.

        Only one previous secret is kept: rotating again within the grace period ends the older one.
        """
        kept: list[StoredSecret] = [StoredSecret(ciphertext=ciphertext, created_at=now)]
        current = next((s for s in self.secrets if s.expires_at is None), None)
        if current is not None and grace > timedelta(0):
            kept.append(current.model_copy(update={"expires_at": now + grace}))
        return self._next(now, secrets=tuple(kept))

    def changed(self, now: datetime, **changes: object) -> WebhookEndpoint:
        return self._next(now, **changes)

    def disabled(self, reason: DisabledReason, *, now: datetime) -> WebhookEndpoint:
        return self._next(now, status=EndpointStatus.DISABLED, disabled_reason=reason, disabled_at=now)

    def reenabled(self, *, now: datetime) -> WebhookEndpoint:
        return self._next(now, status=EndpointStatus.ENABLED, disabled_reason=None, disabled_at=None)


class EndpointHealth(BaseModel):
    """Kept apart from the endpoint's configuration: the dispatcher updates it atomically."""

    model_config = ConfigDict(frozen=True)

    failing_since: datetime | None = None
    """First failed attempt of the current run of failures; cleared by any 2xx."""
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None


@dataclass(frozen=True)
class DisablePolicy:
    """An endpoint that has failed every attempt for ``after`` (3 days by default) is disabled.

    Checked at each failed attempt: the run of failures starts at its first failed attempt and
    ends at any 2xx answer. ``410 Gone`` disables at once.
    """

    after: timedelta

    def should_disable(self, failing_since: datetime | None, now: datetime) -> bool:
        return failing_since is not None and now - failing_since >= self.after


# --- delivery ---------------------------------------------------------------------------
def message_id_for(source_event_id: str, endpoint_id: str, occurred_at: datetime) -> str:
    """The ``webhook-id`` of one event for one endpoint: the same on every attempt and redelivery.

    A ULID whose time is the event's and whose random part is a hash of event and endpoint, so
    ids sort by event time (the delivery log and "replay since" rely on that).
    """
    digest = hashlib.sha256(f"{source_event_id}\n{endpoint_id}".encode()).digest()
    return "msg_" + ulid_at(int(occurred_at.timestamp() * 1000), int.from_bytes(digest[:10], "big"))


def message_id_floor(moment: datetime) -> str:
    """The smallest message id of events at or after ``moment``."""
    return "msg_" + ulid_at(int(moment.timestamp() * 1000))


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"
    HTTP_ERROR = "http_error"
    GONE = "gone"
    REDIRECT = "redirect"
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    REFUSED = "refused"
    """The target is not a public address (or not https): SSRF defence."""
    NO_SECRET = "no_secret"  # noqa: S105 - an outcome name


def outcome_of(status_code: int) -> AttemptOutcome:
    """Success on 2xx only; a redirect is a failure because redirects are never followed."""
    if 200 <= status_code < 300:
        return AttemptOutcome.DELIVERED
    if status_code == 410:
        return AttemptOutcome.GONE
    if 300 <= status_code < 400:
        return AttemptOutcome.REDIRECT
    return AttemptOutcome.HTTP_ERROR


class SendResult(BaseModel):
    """What one HTTP POST to a customer endpoint gave."""

    model_config = ConfigDict(frozen=True)

    outcome: AttemptOutcome
    status_code: int | None = None
    latency_ms: int = 0
    error: str | None = None
    response_excerpt: str | None = None


class DeliveryAttempt(BaseModel):
    model_config = ConfigDict(frozen=True)

    attempt: int
    round: int
    """1 for the first delivery, +1 for each replay."""
    at: datetime
    url: str
    outcome: AttemptOutcome
    status_code: int | None = None
    latency_ms: int = 0
    error: str | None = None
    response_excerpt: str | None = None


class MessageStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class FailureReason(StrEnum):
    EXHAUSTED = "exhausted"
    """Every attempt of the schedule failed."""
    GONE = "gone"
    ENDPOINT_DISABLED = "endpoint_disabled"
    ENDPOINT_DELETED = "endpoint_deleted"


class WebhookMessage(BaseModel):
    """One event for one endpoint, and every attempt to deliver it: the delivery log's entry."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    tenant_id: str
    endpoint_id: str
    event_type: WebhookEventType
    source_event_id: str
    body: str
    """The exact payload sent (and signed) on every attempt."""
    url: str | None = None
    """The target of a default-channel message (the design's ``webhook_url``); None for endpoints."""
    status: MessageStatus = MessageStatus.PENDING
    failure_reason: FailureReason | None = None
    round: int = 1
    last_attempt: int = 0
    """Highest attempt number of this round already made."""
    next_attempt_at: datetime | None = None
    attempts: tuple[DeliveryAttempt, ...] = ()
    created_at: datetime
    updated_at: datetime
    version: int = 1

    def awaits(self, job: DeliveryJob) -> bool:
        """Whether ``job`` is this message's next attempt (stale and duplicate jobs are not)."""
        return (
            self.status is MessageStatus.PENDING
            and job.round == self.round
            and job.attempt > self.last_attempt
        )

    def _next(self, now: datetime, **changes: object) -> WebhookMessage:
        return self.model_copy(update={"version": self.version + 1, "updated_at": now, **changes})

    def with_attempt(
        self,
        attempt: DeliveryAttempt,
        *,
        now: datetime,
        status: MessageStatus,
        failure_reason: FailureReason | None = None,
        next_attempt_at: datetime | None = None,
    ) -> WebhookMessage:
        return self._next(
            now,
            attempts=(*self.attempts, attempt)[-MAX_ATTEMPTS_KEPT:],
            last_attempt=max(self.last_attempt, attempt.attempt),
            status=status,
            failure_reason=failure_reason,
            next_attempt_at=next_attempt_at,
        )

    def given_up(self, reason: FailureReason, *, now: datetime) -> WebhookMessage:
        return self._next(now, status=MessageStatus.FAILED, failure_reason=reason, next_attempt_at=None)

    def replayed(self, *, now: datetime) -> WebhookMessage:
        """A new round of the same message (same ``webhook-id``), starting from attempt 1 now."""
        return self._next(
            now,
            round=self.round + 1,
            last_attempt=0,
            status=MessageStatus.PENDING,
            failure_reason=None,
            next_attempt_at=now,
        )


@dataclass(frozen=True)
class RetrySchedule:
    """``delays[i]`` is the wait before attempt ``i + 1``; its length is the number of attempts."""

    delays: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.delays or any(d < 0 for d in self.delays):
            raise ValueError("a retry schedule needs at least one attempt and no negative delay")

    @property
    def attempts(self) -> int:
        return len(self.delays)

    def next_delay(self, attempt: int) -> int | None:
        """Seconds to wait after failed attempt ``attempt``; None when it was the last one."""
        return self.delays[attempt] if attempt < len(self.delays) else None


@dataclass(frozen=True)
class Decision:
    status: MessageStatus
    failure_reason: FailureReason | None = None
    retry_in: int | None = None
    disable: DisabledReason | None = None


def decide(
    outcome: AttemptOutcome, attempt: int, schedule: RetrySchedule, *, default_channel: bool
) -> Decision:
    """What follows one attempt: delivered, another attempt later, or give up (and maybe disable)."""
    if outcome is AttemptOutcome.DELIVERED:
        return Decision(MessageStatus.DELIVERED)
    if outcome is AttemptOutcome.GONE:
        return Decision(
            MessageStatus.FAILED,
            FailureReason.GONE,
            disable=None if default_channel else DisabledReason.GONE,
        )
    delay = schedule.next_delay(attempt)
    if delay is None:
        return Decision(MessageStatus.FAILED, FailureReason.EXHAUSTED)
    return Decision(MessageStatus.PENDING, retry_in=delay)


def signature_header(secrets_plain: Sequence[str], message_id: str, timestamp: int, body: str) -> str:
    """``webhook-signature``: ``v1,<base64 HMAC-SHA256 of id.timestamp.body>`` per secret, space-separated."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return " ".join(Webhook(secret).sign(message_id, moment, body) for secret in secrets_plain)


def webhook_headers(
    secrets_plain: Sequence[str], message_id: str, timestamp: int, body: str
) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_plain, message_id, timestamp, body),
        "content-type": "application/json",
    }


# --- jobs on the webhook queue ----------------------------------------------------------
class DeliveryJob(BaseModel):
    """Make attempt ``attempt`` of round ``round`` of one message, not before ``not_before``."""

    # Unknown fields are ignored, as on every queue message: a newer producer may add one mid-deploy.
    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: Literal["deliver"] = "deliver"
    tenant_id: str
    endpoint_id: str
    message_id: str
    round: int = Field(ge=1)
    attempt: int = Field(ge=1)
    not_before: datetime | None = None


class ReplayJob(BaseModel):
    """Replay one endpoint's messages since a time, one page per job (the next page is a new job)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: Literal["replay"] = "replay"
    tenant_id: str
    endpoint_id: str
    since: datetime
    only_failed: bool = False
    cursor: str | None = None


WebhookJob = DeliveryJob | ReplayJob


def parse_body(body: str) -> dict[str, Any]:
    value = json.loads(body)
    if not isinstance(value, dict):
        raise ValueError("a webhook body is a JSON object")
    return value
