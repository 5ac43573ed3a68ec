"""Drives the real webhook services against moto: a clock the test moves, and a queue drain.

``TimeTravelQueue`` is the real SQS adapter; it only records each send's delay and moves the
test clock forward by it (as if SQS had held the message that long), so a day of retries runs
in milliseconds. Use it with one delivery chain in flight at a time; with several, use a
schedule of zeros.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from shared.adapters.dynamodb_webhooks import WebhookEndpointRepository, WebhookMessageRepository
from shared.adapters.eventbridge import StatusEventBus
from shared.adapters.kms import KmsSecretCipher
from shared.adapters.sqs import WebhookQueue
from shared.adapters.webhook_http import WebhookHttpSender, check_webhook_url
from shared.domain.webhooks import WebhookJob
from shared.inbound import webhook_queue_message
from shared.services.webhook_dispatch import DispatchResult, WebhookDispatcher
from shared.services.webhook_endpoints import WebhookEndpointService
from shared.settings import Settings


@dataclass
class FakeClock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class TimeTravelQueue(WebhookQueue):
    def __init__(self, queue_url: str, clock: FakeClock) -> None:
        super().__init__(queue_url)
        self.clock = clock
        self.delays: list[int] = []

    def send(self, jobs: Sequence[WebhookJob], *, delay_seconds: int = 0) -> None:
        if not jobs:
            return
        self.delays.append(delay_seconds)
        self.clock.advance(delay_seconds)
        super().send(jobs, delay_seconds=0)


@dataclass
class Harness:
    settings: Settings
    clock: FakeClock
    queue: TimeTravelQueue
    endpoints: WebhookEndpointService
    dispatcher: WebhookDispatcher
    endpoint_store: WebhookEndpointRepository
    message_store: WebhookMessageRepository
    results: list[DispatchResult] = field(default_factory=list)

    def drain(self, *, limit: int = 500) -> list[DispatchResult]:
        """Hand every message on the webhook queue to the dispatcher until the queue is empty."""
        sqs = boto3.client("sqs")
        handled: list[DispatchResult] = []
        for _ in range(limit):
            messages = sqs.receive_message(
                QueueUrl=self.settings.webhook_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                break
            for message in messages:
                handled.append(self.dispatcher.handle(webhook_queue_message(message["Body"])))
                sqs.delete_message(
                    QueueUrl=self.settings.webhook_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        self.results.extend(handled)
        return handled

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        """Put an event on the project's bus, as the worker or the API would."""
        response = boto3.client("events").put_events(
            Entries=[
                {
                    "Source": "roomcraft",
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                    "EventBusName": self.settings.event_bus_name,
                }
            ]
        )
        assert response["FailedEntryCount"] == 0


def build_harness(settings: Settings, *, allow_loopback: bool = True) -> Harness:
    clock = FakeClock()
    queue = TimeTravelQueue(settings.webhook_queue_url, clock)
    cipher = KmsSecretCipher(settings.webhook_secrets_key_id)
    endpoint_store = WebhookEndpointRepository(settings)
    message_store = WebhookMessageRepository(settings)
    endpoints = WebhookEndpointService(
        settings=settings,
        endpoints=endpoint_store,
        messages=message_store,
        queue=queue,
        cipher=cipher,
        check_url=lambda url: check_webhook_url(url, allow_loopback=True),
        clock=clock,
    )
    dispatcher = WebhookDispatcher(
        settings=settings,
        endpoints=endpoint_store,
        messages=message_store,
        queue=queue,
        cipher=cipher,
        sender=WebhookHttpSender(
            timeout=settings.webhook_timeout_seconds,
            allow_loopback=allow_loopback,
            excerpt_bytes=settings.webhook_response_excerpt_bytes,
        ),
        events=StatusEventBus(settings.event_bus_name),
        clock=clock,
    )
    return Harness(settings, clock, queue, endpoints, dispatcher, endpoint_store, message_store)


def design_detail(
    design_id: str,
    version: int,
    status: str,
    *,
    tenant_id: str = "tnt_a",
    previous: str | None = None,
    occurred_at: datetime | None = None,
    webhook_url: str | None = None,
) -> dict[str, Any]:
    """A ``design.*`` event detail as ``shared.domain.events.design_event`` writes it."""
    return {
        "event_id": f"{design_id}.v{version}",
        "design_id": design_id,
        "tenant_id": tenant_id,
        "status": status,
        "previous_status": previous,
        "version": version,
        "progress": 1.0 if status in ("succeeded", "failed", "canceled") else 0.0,
        "origin": "api",
        "occurred_at": (occurred_at or datetime.now(UTC)).isoformat(),
        "batch_id": None,
        "outputs": [],
        "error": None,
        "webhook_url": webhook_url,
    }
