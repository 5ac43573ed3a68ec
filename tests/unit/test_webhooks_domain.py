"""The pure webhook rules: event mapping, ids, signatures, retry schedule, disabling, rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from shared.domain.design import Brief, Design, SourceImage
from shared.domain.errors import UnknownEventType
from shared.domain.events import design_event
from shared.domain.status import DesignStatus
from shared.domain.webhooks import (
    SUBSCRIBABLE,
    AttemptOutcome,
    DeliveryJob,
    DesignWebhookData,
    DisabledReason,
    DisablePolicy,
    FailureReason,
    MessageStatus,
    RetrySchedule,
    StoredSecret,
    WebhookEndpoint,
    WebhookEventType,
    WebhookMessage,
    WebhookPayload,
    decide,
    event_type_for,
    message_id_floor,
    message_id_for,
    new_signing_secret,
    outcome_of,
    webhook_headers,
)
from shared.services.webhook_endpoints import parse_event_types
from shared.settings import Settings

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PRODUCTION = RetrySchedule(Settings().webhook_retry_schedule_seconds)


@pytest.mark.parametrize(
    ("detail_type", "expected"),
    [
        ("design.queued", WebhookEventType.DESIGN_QUEUED),
        ("design.preparing", WebhookEventType.DESIGN_STARTED),
        ("design.generating", None),
        ("design.finalizing", None),
        ("design.succeeded", WebhookEventType.DESIGN_SUCCEEDED),
        ("design.failed", WebhookEventType.DESIGN_FAILED),
        ("design.canceled", WebhookEventType.DESIGN_CANCELED),
        ("design.exploded", None),
        ("batch.completed", WebhookEventType.BATCH_COMPLETED),
        ("batch.created", None),
        ("endpoint.disabled", WebhookEventType.ENDPOINT_DISABLED),
        ("webhook.test", None),
    ],
)
def test_bus_events_map_to_webhook_types(detail_type: str, expected: WebhookEventType | None) -> None:
    assert event_type_for(detail_type) == expected


def test_the_test_type_cannot_be_subscribed_to() -> None:
    assert WebhookEventType.TEST not in SUBSCRIBABLE
    assert parse_event_types(["design.failed", "design.succeeded", "design.failed"]) == (
        WebhookEventType.DESIGN_FAILED,
        WebhookEventType.DESIGN_SUCCEEDED,
    )
    with pytest.raises(UnknownEventType) as raised:
        parse_event_types(["webhook.test"])
    assert raised.value.code == "unknown_event_type"
    assert "design.started" in raised.value.details["valid"]  # type: ignore[operator]


def test_message_ids_are_stable_per_event_and_endpoint_and_sort_by_event_time() -> None:
    first = message_id_for("dsn_A.v1", "whe_1", T0)
    assert first == message_id_for("dsn_A.v1", "whe_1", T0)
    assert first.startswith("msg_")
    assert len(first) == 30
    assert first != message_id_for("dsn_A.v1", "whe_2", T0)
    assert first != message_id_for("dsn_A.v2", "whe_1", T0)
    later = message_id_for("dsn_B.v1", "whe_1", T0 + timedelta(milliseconds=1))
    assert first < later
    assert message_id_floor(T0) <= first < message_id_floor(T0 + timedelta(milliseconds=1)) <= later


def test_signature_is_the_standard_webhooks_hmac_over_id_timestamp_body() -> None:
    secret = new_signing_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[6:])) == 32
    body = WebhookPayload(type=WebhookEventType.TEST, timestamp=T0, data={"a": "é"}).body()
    now = int(datetime.now(UTC).timestamp())
    headers = webhook_headers([secret], "msg_1", now, body)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"msg_1.{now}.{body}".encode(), hashlib.sha256).digest())
    assert headers["webhook-signature"] == f"v1,{expected.decode()}"
    assert headers["webhook-timestamp"] == str(now)
    assert Webhook(secret).verify(body.encode(), headers) == json.loads(body)


def test_two_secrets_give_two_signatures_each_verifying() -> None:
    new, old = new_signing_secret(), new_signing_secret()
    now = int(datetime.now(UTC).timestamp())
    headers = webhook_headers([new, old], "msg_2", now, "{}")
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(new).verify("{}", headers)
    Webhook(old).verify("{}", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_signing_secret()).verify("{}", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify('{"tampered": true}', headers)


def test_payload_has_type_timestamp_data() -> None:
    design = Design(
        design_id="dsn_1",
        tenant_id="tnt_a",
        status=DesignStatus.PREPARING,
        version=2,
        source=SourceImage(upload_id="upl_1", key="k"),
        brief=Brief(room_type="bedroom", style="japandi", seed=1),
        provider="preview",
        storage_token="tok",
        created_at=T0,
        updated_at=T0,
        webhook_url="https://hooks.example.com/x",
    )
    detail = design_event(design, previous=DesignStatus.QUEUED)
    data = DesignWebhookData.of(detail).model_dump(mode="json")
    assert "tenant_id" not in data
    assert "webhook_url" not in data
    payload = json.loads(WebhookPayload(type=WebhookEventType.DESIGN_STARTED, timestamp=T0, data=data).body())
    assert set(payload) == {"type", "timestamp", "data"}
    assert payload["type"] == "design.started"
    assert payload["timestamp"].startswith("2026-11-23T12:00:00")
    assert payload["data"]["design_id"] == "dsn_1"
    assert payload["data"]["previous_status"] == "queued"


def test_the_production_schedule_spans_about_a_day_in_eight_attempts() -> None:
    assert PRODUCTION.delays == (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
    assert PRODUCTION.attempts == 8
    assert 24 * 3600 < sum(PRODUCTION.delays) < 28 * 3600
    assert [PRODUCTION.next_delay(n) for n in range(1, 9)] == [5, 300, 1800, 7200, 18000, 36000, 36000, None]
    with pytest.raises(ValueError, match="at least one attempt"):
        RetrySchedule(())


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, AttemptOutcome.DELIVERED),
        (204, AttemptOutcome.DELIVERED),
        (299, AttemptOutcome.DELIVERED),
        (301, AttemptOutcome.REDIRECT),
        (307, AttemptOutcome.REDIRECT),
        (400, AttemptOutcome.HTTP_ERROR),
        (410, AttemptOutcome.GONE),
        (429, AttemptOutcome.HTTP_ERROR),
        (500, AttemptOutcome.HTTP_ERROR),
        (100, AttemptOutcome.HTTP_ERROR),
    ],
)
def test_success_is_2xx_only(status: int, outcome: AttemptOutcome) -> None:
    assert outcome_of(status) is outcome


def test_decisions_after_an_attempt() -> None:
    assert (
        decide(AttemptOutcome.DELIVERED, 1, PRODUCTION, default_channel=False).status
        is MessageStatus.DELIVERED
    )
    retry = decide(AttemptOutcome.TIMEOUT, 3, PRODUCTION, default_channel=False)
    assert (retry.status, retry.retry_in) == (MessageStatus.PENDING, 1800)
    last = decide(AttemptOutcome.HTTP_ERROR, 8, PRODUCTION, default_channel=False)
    assert (last.status, last.failure_reason, last.retry_in) == (
        MessageStatus.FAILED,
        FailureReason.EXHAUSTED,
        None,
    )
    gone = decide(AttemptOutcome.GONE, 1, PRODUCTION, default_channel=False)
    assert (gone.status, gone.failure_reason, gone.disable) == (
        MessageStatus.FAILED,
        FailureReason.GONE,
        DisabledReason.GONE,
    )
    # A design's own URL answering 410 stops that message; there is no endpoint to disable.
    assert decide(AttemptOutcome.GONE, 1, PRODUCTION, default_channel=True).disable is None


def test_disabling_rule_is_three_days_of_unbroken_failure() -> None:
    policy = DisablePolicy(timedelta(days=3))
    assert not policy.should_disable(None, T0)
    assert not policy.should_disable(T0, T0 + timedelta(days=3) - timedelta(seconds=1))
    assert policy.should_disable(T0, T0 + timedelta(days=3))


def _endpoint() -> WebhookEndpoint:
    return WebhookEndpoint(
        endpoint_id="whe_1",
        tenant_id="tnt_a",
        url="https://hooks.example.com/x",
        secrets=(StoredSecret(ciphertext="c1", created_at=T0),),
        created_at=T0,
        updated_at=T0,
    )


def test_rotation_keeps_the_previous_secret_for_the_grace_period_only() -> None:
    once = _endpoint().with_secret("c2", now=T0, grace=timedelta(hours=24))
    assert [s.ciphertext for s in once.active_secrets(T0)] == ["c2", "c1"]
    assert once.previous_secret_expires_at(T0) == T0 + timedelta(hours=24)
    assert [s.ciphertext for s in once.active_secrets(T0 + timedelta(hours=24))] == ["c2"]
    twice = once.with_secret("c3", now=T0 + timedelta(hours=1), grace=timedelta(hours=24))
    assert [s.ciphertext for s in twice.secrets] == ["c3", "c2"]  # only one previous secret is kept
    immediate = _endpoint().with_secret("c2", now=T0, grace=timedelta(0))
    assert [s.ciphertext for s in immediate.secrets] == ["c2"]
    assert twice.version == 3


def test_filters_and_states() -> None:
    endpoint = _endpoint()
    assert endpoint.subscribes_to(WebhookEventType.BATCH_COMPLETED)  # no filter: everything
    filtered = endpoint.changed(T0, event_types=(WebhookEventType.DESIGN_FAILED,))
    assert filtered.subscribes_to(WebhookEventType.DESIGN_FAILED)
    assert not filtered.subscribes_to(WebhookEventType.DESIGN_SUCCEEDED)
    disabled = filtered.disabled(DisabledReason.GONE, now=T0)
    assert (disabled.enabled, disabled.disabled_reason, disabled.disabled_at) == (False, "gone", T0)
    back = disabled.reenabled(now=T0)
    assert (back.enabled, back.disabled_reason, back.disabled_at) == (True, None, None)


def test_a_message_awaits_only_its_next_attempt_of_its_round() -> None:
    message = WebhookMessage(
        message_id="msg_1",
        tenant_id="tnt_a",
        endpoint_id="whe_1",
        event_type=WebhookEventType.DESIGN_QUEUED,
        source_event_id="dsn_1.v1",
        body="{}",
        created_at=T0,
        updated_at=T0,
    )

    def job(round_: int, attempt: int) -> DeliveryJob:
        return DeliveryJob(
            tenant_id="tnt_a", endpoint_id="whe_1", message_id="msg_1", round=round_, attempt=attempt
        )

    assert message.awaits(job(1, 1))
    assert not message.awaits(job(2, 1))
    replayed = message.replayed(now=T0)
    assert (replayed.round, replayed.last_attempt, replayed.status) == (2, 0, MessageStatus.PENDING)
    assert not replayed.awaits(job(1, 2))  # the old round's retry chain is dropped
    assert replayed.awaits(job(2, 1))
    failed = replayed.given_up(FailureReason.ENDPOINT_DISABLED, now=T0)
    assert not failed.awaits(job(2, 1))
