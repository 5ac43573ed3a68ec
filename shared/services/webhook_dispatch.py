"""What the dispatcher does with each message on the webhook queue.

Three kinds of message arrive there:
- a status event from EventBridge (``design.*``, ``batch.*``, ``endpoint.*``): fan it out into
  one logged message and one delivery job per matching endpoint (and the design's own URL);
- a delivery job: make one signed POST, log the attempt, and schedule the next one with an SQS
  delay (hops of at most 15 minutes for longer waits): no Lambda ever sleeps;
- a replay job: re-queue one page of an endpoint's messages, and the next page as a new job.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.domain.clock import utcnow
from shared.domain.errors import ConcurrentUpdate, MalformedMessage
from shared.domain.events import DesignEventDetail
from shared.domain.webhook_ports import (
    BusPublisher,
    EndpointStore,
    MessageStore,
    SecretCipher,
    WebhookJobQueue,
    WebhookSender,
)
from shared.domain.webhooks import (
    DEFAULT_CHANNEL,
    AttemptOutcome,
    DeliveryAttempt,
    DeliveryJob,
    DesignWebhookData,
    DisabledReason,
    DisablePolicy,
    EndpointDisabledData,
    FailureReason,
    MessageStatus,
    ReplayJob,
    RetrySchedule,
    SendResult,
    WebhookEndpoint,
    WebhookEventType,
    WebhookJob,
    WebhookMessage,
    WebhookPayload,
    decide,
    event_type_for,
    message_id_for,
    secret_context,
    webhook_headers,
)
from shared.settings import Settings

logger = Logger(service="roomcraft", child=True)

MAX_DELAY_SECONDS = 600
"""Longest single hop. SQS allows 900 s; 600 s keeps every message's age well under the queue's
15-minute oldest-message alarm. Longer waits hop through the queue more than once."""
DUE_TOLERANCE = timedelta(seconds=1)
REPLAY_PAGE = 100
_RETRIES = 5


class DispatchResult(StrEnum):
    FANNED_OUT = "fanned_out"
    IGNORED = "ignored"
    DELIVERED = "delivered"
    RETRY_SCHEDULED = "retry_scheduled"
    FAILED = "failed"
    DEFERRED = "deferred"
    STALE = "stale"
    REPLAYED = "replayed"


class BusEvent(BaseModel):
    """The EventBridge envelope as the rule delivers it to SQS."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    id: str
    detail_type: str = Field(alias="detail-type")
    source: str
    time: datetime
    detail: dict[str, Any]


@dataclass(frozen=True)
class _Event:
    type: WebhookEventType
    tenant_id: str
    source_event_id: str
    occurred_at: datetime
    data: dict[str, Any]
    design_url: str | None = None
    about_endpoint: str | None = None


class WebhookDispatcher:
    def __init__(
        self,
        *,
        settings: Settings,
        endpoints: EndpointStore,
        messages: MessageStore,
        queue: WebhookJobQueue,
        cipher: SecretCipher,
        sender: WebhookSender,
        events: BusPublisher,
        clock: Callable[[], datetime] = utcnow,
        stamp: Callable[[], int] = lambda: int(time.time()),
    ) -> None:
        self._endpoints = endpoints
        self._messages = messages
        self._queue = queue
        self._cipher = cipher
        self._sender = sender
        self._events = events
        self._clock = clock
        self._stamp = stamp
        """The ``webhook-timestamp`` source: always the real time, which receivers check."""
        self._schedule = RetrySchedule(tuple(settings.webhook_retry_schedule_seconds))
        self._policy = DisablePolicy(timedelta(seconds=settings.webhook_disable_after_seconds))

    def handle(self, message: BusEvent | WebhookJob) -> DispatchResult:
        """One webhook queue message, parsed at the edge (shared.inbound.WebhookQueueRecord)."""
        if isinstance(message, BusEvent):
            return self.fan_out(message)
        if isinstance(message, DeliveryJob):
            return self.deliver(message)
        return self.replay_page(message)

    # --- fan-out ---------------------------------------------------------------------
    def fan_out(self, bus_event: BusEvent) -> DispatchResult:
        """One logged message and one delivery job per endpoint that wants this event."""
        event = self._describe(bus_event)
        if event is None:
            return DispatchResult.IGNORED
        now = self._clock()
        body = WebhookPayload(type=event.type, timestamp=event.occurred_at, data=event.data).body()
        targets: list[tuple[str, str | None, bool]] = [
            (e.endpoint_id, None, e.enabled)
            for e in self._endpoints.list(event.tenant_id)
            if not e.is_default_channel
            and e.subscribes_to(event.type)
            and e.endpoint_id != event.about_endpoint
        ]
        if event.design_url:
            targets.append((DEFAULT_CHANNEL, event.design_url, True))
        jobs: list[WebhookJob] = []
        for endpoint_id, url, enabled in targets:
            message = WebhookMessage(
                message_id=message_id_for(event.source_event_id, endpoint_id, event.occurred_at),
                tenant_id=event.tenant_id,
                endpoint_id=endpoint_id,
                event_type=event.type,
                source_event_id=event.source_event_id,
                body=body,
                url=url,
                next_attempt_at=now if enabled else None,
                created_at=event.occurred_at,
                updated_at=now,
            )
            if not enabled:  # logged as failed, so that "replay since" can bring it back once enabled
                message = message.given_up(FailureReason.ENDPOINT_DISABLED, now=now)
            existing = self._messages.create(message)
            current = existing or message
            # A redelivered event re-queues only what was never attempted (its first job may be lost).
            if current.status is MessageStatus.PENDING and current.last_attempt == 0:
                jobs.append(
                    DeliveryJob(
                        tenant_id=event.tenant_id,
                        endpoint_id=endpoint_id,
                        message_id=message.message_id,
                        round=current.round,
                        attempt=1,
                    )
                )
        self._queue.send(jobs)
        logger.info(
            "webhook event fanned out",
            extra={
                "event_type": event.type.value,
                "source_event_id": event.source_event_id,
                "jobs": len(jobs),
            },
        )
        return DispatchResult.FANNED_OUT if jobs else DispatchResult.IGNORED

    def _describe(self, bus_event: BusEvent) -> _Event | None:
        event_type = event_type_for(bus_event.detail_type)
        if event_type is None:
            return None
        try:
            if bus_event.detail_type.startswith("design."):
                design = DesignEventDetail.model_validate(bus_event.detail)
                return _Event(
                    type=event_type,
                    tenant_id=design.tenant_id,
                    source_event_id=design.event_id,
                    occurred_at=design.occurred_at,
                    data=DesignWebhookData.of(design).model_dump(mode="json"),
                    design_url=design.webhook_url,
                )
            if event_type is WebhookEventType.ENDPOINT_DISABLED:
                disabled = EndpointDisabledData.model_validate(bus_event.detail)
                return _Event(
                    type=event_type,
                    tenant_id=disabled.tenant_id,
                    source_event_id=disabled.event_id,
                    occurred_at=disabled.disabled_at,
                    data=disabled.model_dump(mode="json", exclude={"tenant_id", "event_id"}),
                    about_endpoint=disabled.endpoint_id,
                )
            return self._describe_batch(event_type, bus_event)
        except ValidationError as error:
            raise MalformedMessage(
                f"{bus_event.detail_type} event {bus_event.id} has an unexpected detail"
            ) from error

    @staticmethod
    def _describe_batch(event_type: WebhookEventType, bus_event: BusEvent) -> _Event:
        detail = _BatchDetail.model_validate(bus_event.detail)
        data = {
            k: v for k, v in bus_event.detail.items() if k not in ("tenant_id", "event_id", "webhook_url")
        }
        return _Event(
            type=event_type,
            tenant_id=detail.tenant_id,
            source_event_id=detail.event_id or f"{detail.batch_id}.completed",
            occurred_at=detail.occurred_at or bus_event.time,
            data=data,
        )

    # --- delivery --------------------------------------------------------------------
    def deliver(self, job: DeliveryJob) -> DispatchResult:
        now = self._clock()
        message = self._messages.find(job.tenant_id, job.endpoint_id, job.message_id)
        if message is None or not message.awaits(job):
            return DispatchResult.STALE  # replayed, already delivered, a duplicate, or expired
        if job.not_before is not None and job.not_before - now > DUE_TOLERANCE:
            wait = math.ceil((job.not_before - now).total_seconds())
            self._queue.send([job], delay_seconds=min(wait, MAX_DELAY_SECONDS))
            return DispatchResult.DEFERRED
        default_channel = job.endpoint_id == DEFAULT_CHANNEL
        endpoint = self._endpoints.find(job.tenant_id, job.endpoint_id)
        if endpoint is None and not default_channel:
            self._give_up(message, FailureReason.ENDPOINT_DELETED, now)
            return DispatchResult.FAILED
        if endpoint is not None and not endpoint.enabled:
            self._give_up(message, FailureReason.ENDPOINT_DISABLED, now)
            return DispatchResult.FAILED
        url = message.url if default_channel else (endpoint.url if endpoint else None)
        assert url is not None
        result = self._send(message, endpoint, url, now)
        decision = decide(result.outcome, job.attempt, self._schedule, default_channel=default_channel)
        next_at = None
        if decision.retry_in is not None:
            # Queued before the attempt is logged: a crash in between repeats the attempt (at least
            # once, same webhook-id) instead of leaving the message with no next job.
            next_at = now + timedelta(seconds=decision.retry_in)
            self._queue.send(
                [job.model_copy(update={"attempt": job.attempt + 1, "not_before": next_at})],
                delay_seconds=min(decision.retry_in, MAX_DELAY_SECONDS),
            )
        attempt = DeliveryAttempt(
            attempt=job.attempt, round=job.round, at=now, url=url, **result.model_dump()
        )
        self._log(message, job, attempt, decision.status, decision.failure_reason, next_at, now)
        if endpoint is not None and not default_channel:
            self._track_health(endpoint, result, decision.disable, now)
        logger.info(
            "webhook attempt",
            extra={
                "message_id": job.message_id,
                "endpoint_id": job.endpoint_id,
                "attempt": job.attempt,
                "outcome": result.outcome.value,
                "status_code": result.status_code,
                "latency_ms": result.latency_ms,
            },
        )
        if decision.status is MessageStatus.DELIVERED:
            return DispatchResult.DELIVERED
        return DispatchResult.RETRY_SCHEDULED if next_at else DispatchResult.FAILED

    def _send(
        self, message: WebhookMessage, endpoint: WebhookEndpoint | None, url: str, now: datetime
    ) -> SendResult:
        if endpoint is None:
            return SendResult(
                outcome=AttemptOutcome.NO_SECRET, error="the tenant has no default signing secret yet"
            )
        context = secret_context(endpoint.tenant_id, endpoint.endpoint_id)
        secrets = [self._cipher.decrypt(s.ciphertext, context) for s in endpoint.active_secrets(now)]
        if not secrets:
            return SendResult(
                outcome=AttemptOutcome.NO_SECRET, error="the endpoint has no active signing secret"
            )
        headers = webhook_headers(secrets, message.message_id, self._stamp(), message.body)
        return self._sender.post(url, message.body.encode(), headers)

    def _log(
        self,
        message: WebhookMessage,
        job: DeliveryJob,
        attempt: DeliveryAttempt,
        status: MessageStatus,
        reason: FailureReason | None,
        next_at: datetime | None,
        now: datetime,
    ) -> None:
        current: WebhookMessage | None = message
        for _ in range(_RETRIES):
            if current is None or not current.awaits(job):
                return  # replayed or finished meanwhile: this attempt no longer decides anything
            updated = current.with_attempt(
                attempt, now=now, status=status, failure_reason=reason, next_attempt_at=next_at
            )
            try:
                self._messages.save_if_unchanged(current, updated)
                return
            except ConcurrentUpdate:
                current = self._messages.find(job.tenant_id, job.endpoint_id, job.message_id)
        raise ConcurrentUpdate(f"message {job.message_id} keeps changing")

    def _give_up(self, message: WebhookMessage, reason: FailureReason, now: datetime) -> None:
        with contextlib.suppress(ConcurrentUpdate):  # replayed meanwhile: the new round decides
            self._messages.save_if_unchanged(message, message.given_up(reason, now=now))

    # --- endpoint health -------------------------------------------------------------
    def _track_health(
        self, endpoint: WebhookEndpoint, result: SendResult, disable: DisabledReason | None, now: datetime
    ) -> None:
        tenant_id, endpoint_id = endpoint.tenant_id, endpoint.endpoint_id
        if result.outcome is AttemptOutcome.DELIVERED:
            self._endpoints.record_success(tenant_id, endpoint_id, now)
            return
        failing_since = self._endpoints.record_failure(tenant_id, endpoint_id, now)
        if disable is None and self._policy.should_disable(failing_since, now):
            disable = DisabledReason.FAILING
        if disable is not None:
            self._disable(tenant_id, endpoint_id, disable, failing_since, now)

    def _disable(
        self,
        tenant_id: str,
        endpoint_id: str,
        reason: DisabledReason,
        failing_since: datetime | None,
        now: datetime,
    ) -> None:
        for _ in range(_RETRIES):
            current = self._endpoints.find(tenant_id, endpoint_id)
            if current is None or not current.enabled:
                return
            disabled = current.disabled(reason, now=now)
            try:
                self._endpoints.save_if_unchanged(current, disabled)
            except ConcurrentUpdate:
                continue
            break
        else:
            return
        notice = EndpointDisabledData(
            event_id=f"{endpoint_id}.disabled.v{disabled.version}",
            tenant_id=tenant_id,
            endpoint_id=endpoint_id,
            url=disabled.url,
            reason=reason,
            disabled_at=now,
            failing_since=failing_since,
        )
        logger.warning(
            "webhook endpoint disabled", extra={"endpoint_id": endpoint_id, "reason": reason.value}
        )
        try:
            self._events.publish_event(WebhookEventType.ENDPOINT_DISABLED.value, notice)
        except Exception:  # the endpoint is disabled either way; its API state says so
            logger.exception("could not publish endpoint.disabled", extra={"endpoint_id": endpoint_id})

    # --- replay ----------------------------------------------------------------------
    def replay_page(self, job: ReplayJob) -> DispatchResult:
        endpoint = self._endpoints.find(job.tenant_id, job.endpoint_id)
        if endpoint is None or not endpoint.enabled:
            return DispatchResult.IGNORED
        page, cursor = self._messages.list(
            job.tenant_id,
            job.endpoint_id,
            limit=REPLAY_PAGE,
            cursor=job.cursor,
            status=MessageStatus.FAILED if job.only_failed else None,
            since=job.since,
            newest_first=False,
        )
        now = self._clock()
        jobs: list[WebhookJob] = []
        for message in page:
            replayed = message.replayed(now=now)
            try:
                self._messages.save_if_unchanged(message, replayed)
            except ConcurrentUpdate:
                continue  # changed meanwhile (delivered, or replayed on its own)
            jobs.append(
                DeliveryJob(
                    tenant_id=job.tenant_id,
                    endpoint_id=job.endpoint_id,
                    message_id=message.message_id,
                    round=replayed.round,
                    attempt=1,
                )
            )
        if cursor:
            jobs.append(job.model_copy(update={"cursor": cursor}))
        self._queue.send(jobs)
        return DispatchResult.REPLAYED


class _BatchDetail(BaseModel):
    """What the dispatcher needs from a ``batch.*`` event (the batches feature owns its shape)."""

    model_config = ConfigDict(extra="allow")

    tenant_id: str
    batch_id: str
    event_id: str | None = None
    occurred_at: datetime | None = None
