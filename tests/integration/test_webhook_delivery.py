"""Webhook delivery end to end inside one process: bus → rule → SQS → dispatcher → a real receiver.

moto plays AWS (EventBridge rule matching, SQS, DynamoDB, KMS); the receiver is a real HTTP
server on 127.0.0.1 that verifies signatures with the ``standardwebhooks`` library.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest

from shared.domain.errors import (
    UnknownEventType,
    WebhookEndpointDisabled,
    WebhookEndpointLimitReached,
    WebhookEndpointNotFound,
    WebhookUrlRefused,
)
from shared.domain.ids import new_id
from shared.domain.webhooks import (
    DEFAULT_CHANNEL,
    AttemptOutcome,
    DisabledReason,
    FailureReason,
    MessageStatus,
    secret_context,
)
from shared.inbound import webhook_queue_message
from shared.local.cloud import free_port
from shared.services.webhook_dispatch import DispatchResult
from shared.settings import Settings
from tests.webhook_harness import Harness, build_harness, design_detail
from tests.webhook_receiver import Receiver, Reply, receiving

PRODUCTION_SCHEDULE = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)


@pytest.fixture(scope="module")
def cloud() -> Iterator[dict[str, str]]:
    """One in-process moto for the module (provisioning costs seconds); tests keep apart by tenant."""
    from moto import mock_aws

    from shared import bootstrap
    from shared.local.provision import provision_resources

    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        env = provision_resources(stage="hooks", endpoint_url=None)
        for name, value in env.items():
            patch.setenv(name, value)
        patch.delenv("ROOMCRAFT_AWS_ENDPOINT_URL", raising=False)
        bootstrap.reset()
        yield env
        bootstrap.reset()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


def make_harness(cloud: dict[str, str], schedule: tuple[int, ...] = (0, 0, 0), **overrides: Any) -> Harness:
    sqs, url = boto3.client("sqs"), cloud["ROOMCRAFT_WEBHOOK_QUEUE_URL"]
    while found := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in found:  # whatever an earlier test left behind
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    settings = Settings(  # type: ignore[call-arg]
        webhook_retry_schedule_seconds=schedule, webhook_timeout_seconds=1, **overrides
    )
    return build_harness(settings)


@pytest.fixture
def hooks(cloud: dict[str, str]) -> Harness:
    return make_harness(cloud)


@pytest.fixture
def tenant() -> str:
    return new_id("tnt")


@pytest.fixture
def other() -> str:
    return new_id("tnt")


def only_message(hooks: Harness, tenant: str, endpoint_id: str) -> Any:
    messages, _ = hooks.message_store.list(tenant, endpoint_id, limit=10)
    assert len(messages) == 1, messages
    return messages[0]


# --- the happy path and fan-out ----------------------------------------------------------


def test_a_status_event_reaches_matching_endpoints_signed_and_logged(
    hooks: Harness, receiver: Receiver, tenant: str, other: str
) -> None:
    everything, secret = hooks.endpoints.create(tenant, url=receiver.url + "/all", description="all")
    only_failures, _ = hooks.endpoints.create(
        tenant, url=receiver.url + "/failed", event_types=["design.failed"]
    )
    other_tenant, _ = hooks.endpoints.create(other, url=receiver.url + "/b")

    hooks.publish(
        "design.succeeded", design_detail("dsn_1", 5, "succeeded", previous="finalizing", tenant_id=tenant)
    )
    hooks.publish(
        "design.generating", design_detail("dsn_1", 3, "generating", tenant_id=tenant)
    )  # not a webhook type
    hooks.drain()

    [request] = receiver.requests()
    assert request.path == "/hook/all"
    payload = request.verify(secret)
    assert payload["type"] == "design.succeeded"
    assert payload["data"]["design_id"] == "dsn_1"
    assert payload["data"]["version"] == 5
    assert set(payload) == {"type", "timestamp", "data"}
    assert request.headers["content-type"] == "application/json"

    logged = only_message(hooks, tenant, everything.endpoint_id)
    assert logged.message_id == request.webhook_id
    assert logged.status is MessageStatus.DELIVERED
    [attempt] = logged.attempts
    assert (attempt.attempt, attempt.status_code, attempt.outcome) == (1, 200, AttemptOutcome.DELIVERED)
    assert attempt.response_excerpt == "ok"
    assert attempt.latency_ms >= 0
    assert hooks.message_store.list(tenant, only_failures.endpoint_id, limit=10)[0] == []
    assert hooks.message_store.list(other, other_tenant.endpoint_id, limit=10)[0] == []
    assert hooks.endpoint_store.health(tenant, everything.endpoint_id).last_success_at is not None


def test_a_redelivered_event_keeps_its_webhook_id_and_is_not_sent_again(
    hooks: Harness, receiver: Receiver, tenant: str
) -> None:
    hooks.endpoints.create(tenant, url=receiver.url)
    detail = design_detail("dsn_2", 1, "queued", tenant_id=tenant)
    hooks.publish("design.queued", detail)
    hooks.publish("design.queued", detail)  # EventBridge delivers at least once
    hooks.drain()
    assert len(receiver.requests()) == 1


# --- faults ------------------------------------------------------------------------------


def test_500s_then_success_is_retried_with_the_same_webhook_id(
    hooks: Harness, receiver: Receiver, tenant: str
) -> None:
    endpoint, secret = hooks.endpoints.create(tenant, url=receiver.url)
    receiver.then(Reply(500, body=b"database down"), Reply(503))
    hooks.publish("design.queued", design_detail("dsn_3", 1, "queued", tenant_id=tenant))
    hooks.drain()

    requests = receiver.requests()
    assert [r.answered for r in requests] == [500, 503, 200]
    assert len({r.webhook_id for r in requests}) == 1
    assert all(r.signed_by(secret) for r in requests)
    logged = only_message(hooks, tenant, endpoint.endpoint_id)
    assert logged.status is MessageStatus.DELIVERED
    assert [(a.attempt, a.status_code, a.outcome) for a in logged.attempts] == [
        (1, 500, AttemptOutcome.HTTP_ERROR),
        (2, 503, AttemptOutcome.HTTP_ERROR),
        (3, 200, AttemptOutcome.DELIVERED),
    ]
    assert logged.attempts[0].response_excerpt == "database down"
    assert hooks.endpoint_store.health(tenant, endpoint.endpoint_id).failing_since is None


def test_the_production_schedule_runs_through_sqs_delays_and_hops(
    cloud: dict[str, str], receiver: Receiver, tenant: str
) -> None:
    hooks = make_harness(cloud, PRODUCTION_SCHEDULE)
    receiver.default = Reply(500)
    endpoint, _ = hooks.endpoints.create(tenant, url=receiver.url)
    start = hooks.clock.now
    hooks.publish("design.failed", design_detail("dsn_4", 2, "failed", occurred_at=start, tenant_id=tenant))
    hooks.drain()

    logged = only_message(hooks, tenant, endpoint.endpoint_id)
    assert (logged.status, logged.failure_reason) == (MessageStatus.FAILED, FailureReason.EXHAUSTED)
    offsets = [int((a.at - start).total_seconds()) for a in logged.attempts]
    cumulative = [sum(PRODUCTION_SCHEDULE[: n + 1]) for n in range(len(PRODUCTION_SCHEDULE))]
    assert offsets == cumulative
    assert len(receiver.requests()) == 8
    # No SQS delay is over 10 minutes (SQS allows 15): longer waits hop through the queue.
    delays = [d for d in hooks.queue.delays if d]
    assert max(delays) == 600
    assert delays[:3] == [5, 300, 600]
    assert hooks.results.count(DispatchResult.DEFERRED) == sum(
        -(-d // 600) - 1 for d in PRODUCTION_SCHEDULE[1:]
    )
    # ~27.6 h of failures is under the 3-day threshold: still enabled.
    assert hooks.endpoints.get(tenant, endpoint.endpoint_id)[0].enabled


def test_an_endpoint_failing_for_three_days_is_disabled_and_the_tenant_told(
    cloud: dict[str, str], receiver: Receiver, tenant: str
) -> None:
    hooks = make_harness(cloud, (0,))
    with receiving(default=Reply(500)) as broken:
        failing, _ = hooks.endpoints.create(tenant, url=broken.url)
        watcher, watcher_secret = hooks.endpoints.create(
            tenant, url=receiver.url, event_types=["endpoint.disabled"]
        )
        hooks.publish("design.queued", design_detail("dsn_5", 1, "queued", tenant_id=tenant))
        hooks.drain()
        first_failure = hooks.endpoint_store.health(tenant, failing.endpoint_id).failing_since
        assert first_failure == hooks.clock.now
        hooks.clock.advance(3 * 86400 - 1)
        hooks.publish("design.queued", design_detail("dsn_6", 1, "queued", tenant_id=tenant))
        hooks.drain()
        assert hooks.endpoints.get(tenant, failing.endpoint_id)[0].enabled
        hooks.clock.advance(1)
        hooks.publish("design.queued", design_detail("dsn_7", 1, "queued", tenant_id=tenant))
        hooks.drain()  # the third failure disables; endpoint.disabled goes out through the bus

    endpoint, health = hooks.endpoints.get(tenant, failing.endpoint_id)
    assert (endpoint.enabled, endpoint.disabled_reason) == (False, DisabledReason.FAILING)
    assert health.failing_since == first_failure
    [notice] = receiver.requests()
    payload = notice.verify(watcher_secret)
    assert payload["type"] == "endpoint.disabled"
    assert payload["data"]["endpoint_id"] == failing.endpoint_id
    assert payload["data"]["reason"] == "failing"
    # Further events are logged as failed (for a replay once it is enabled again), not attempted.
    hooks.publish("design.queued", design_detail("dsn_8", 1, "queued", tenant_id=tenant))
    hooks.drain()
    messages, _ = hooks.message_store.list(tenant, failing.endpoint_id, limit=10)
    assert messages[0].failure_reason is FailureReason.ENDPOINT_DISABLED
    assert messages[0].attempts == ()
    assert only_message(hooks, tenant, watcher.endpoint_id).status is MessageStatus.DELIVERED


def test_410_gone_disables_at_once(hooks: Harness, receiver: Receiver, tenant: str) -> None:
    endpoint, _ = hooks.endpoints.create(tenant, url=receiver.url)
    receiver.then(Reply(410))
    hooks.publish("design.queued", design_detail("dsn_9", 1, "queued", tenant_id=tenant))
    hooks.drain()
    assert len(receiver.requests()) == 1
    logged = only_message(hooks, tenant, endpoint.endpoint_id)
    assert (logged.status, logged.failure_reason) == (MessageStatus.FAILED, FailureReason.GONE)
    disabled = hooks.endpoints.get(tenant, endpoint.endpoint_id)[0]
    assert (disabled.enabled, disabled.disabled_reason) == (False, DisabledReason.GONE)
    with pytest.raises(WebhookEndpointDisabled) as raised:
        hooks.endpoints.send_test(tenant, endpoint.endpoint_id)
    assert raised.value.code == "webhook_endpoint_disabled"


def test_redirects_are_not_followed_and_count_as_failures(
    hooks: Harness, receiver: Receiver, tenant: str
) -> None:
    endpoint, _ = hooks.endpoints.create(tenant, url=receiver.url)
    receiver.default = Reply(302, headers=(("Location", receiver.url + "/elsewhere"),))
    hooks.publish("design.queued", design_detail("dsn_10", 1, "queued", tenant_id=tenant))
    hooks.drain()
    assert [r.path for r in receiver.requests()] == ["/hook"] * 3  # one per attempt, never /elsewhere
    logged = only_message(hooks, tenant, endpoint.endpoint_id)
    assert logged.status is MessageStatus.FAILED
    assert {a.outcome for a in logged.attempts} == {AttemptOutcome.REDIRECT}
    assert "/elsewhere" in (logged.attempts[0].error or "")


def test_a_slow_receiver_times_out(hooks: Harness, receiver: Receiver, tenant: str) -> None:
    endpoint, _ = hooks.endpoints.create(tenant, url=receiver.url)
    receiver.then(Reply(200, delay=3.0))
    hooks.publish("design.queued", design_detail("dsn_11", 1, "queued", tenant_id=tenant))
    hooks.drain()
    logged = only_message(hooks, tenant, endpoint.endpoint_id)
    assert [a.outcome for a in logged.attempts] == [AttemptOutcome.TIMEOUT, AttemptOutcome.DELIVERED]


def test_a_receiver_that_is_down_is_a_connection_error(hooks: Harness, tenant: str) -> None:
    endpoint, _ = hooks.endpoints.create(tenant, url=f"http://127.0.0.1:{free_port()}/hook")
    hooks.publish("design.queued", design_detail("dsn_12", 1, "queued", tenant_id=tenant))
    hooks.drain()
    logged = only_message(hooks, tenant, endpoint.endpoint_id)
    assert logged.status is MessageStatus.FAILED
    assert [a.outcome for a in logged.attempts] == [AttemptOutcome.CONNECTION_ERROR] * 3
    assert logged.attempts[0].status_code is None


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fd00::1]/hook",
        "https://[::ffff:192.168.0.1]/hook",
        "http://93.184.215.14/hook",
        "ftp://93.184.215.14/hook",
        "https://user:pw@93.184.215.14/hook",
    ],
)
def test_private_and_non_https_targets_are_refused_at_creation(hooks: Harness, url: str, tenant: str) -> None:
    with pytest.raises(WebhookUrlRefused) as raised:
        hooks.endpoints.create(tenant, url=url)
    assert raised.value.code == "webhook_url_refused"


def test_loopback_is_refused_at_delivery_outside_local_mode(
    cloud: dict[str, str], receiver: Receiver, tenant: str
) -> None:
    hooks = make_harness(cloud)
    strict = build_harness(hooks.settings, allow_loopback=False)
    endpoint, _ = hooks.endpoints.create(tenant, url=receiver.url)
    hooks.publish("design.queued", design_detail("dsn_13", 1, "queued", tenant_id=tenant))
    strict.drain()
    assert receiver.requests() == []
    logged = only_message(hooks, tenant, endpoint.endpoint_id)
    assert {a.outcome for a in logged.attempts} == {AttemptOutcome.REFUSED}


# --- secrets -----------------------------------------------------------------------------


def test_rotation_signs_with_both_secrets_during_the_grace_period(
    hooks: Harness, receiver: Receiver, tenant: str
) -> None:
    endpoint, old = hooks.endpoints.create(tenant, url=receiver.url)
    _, new = hooks.endpoints.rotate_secret(tenant, endpoint.endpoint_id, grace_seconds=3600)
    hooks.endpoints.send_test(tenant, endpoint.endpoint_id)
    hooks.drain()
    hooks.clock.advance(3600)
    hooks.endpoints.send_test(tenant, endpoint.endpoint_id)
    hooks.drain()

    during, after = receiver.requests()
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert during.signed_by(new)
    assert during.signed_by(old)
    assert during.verify(new)["type"] == "webhook.test"
    assert after.signed_by(new)
    assert not after.signed_by(old)


def test_secrets_are_stored_encrypted_and_bound_to_their_endpoint(
    hooks: Harness, tenant: str, other: str
) -> None:
    endpoint, secret = hooks.endpoints.create(tenant, url="https://93.184.215.14/hook")
    table = boto3.client("dynamodb")
    raw = table.scan(TableName=hooks.settings.webhook_endpoints_table)["Items"]
    assert secret not in json.dumps(raw)
    assert secret.removeprefix("whsec_") not in json.dumps(raw)
    stored = hooks.endpoint_store.find(tenant, endpoint.endpoint_id)
    assert stored is not None
    cipher = hooks.dispatcher._cipher
    ciphertext = stored.secrets[0].ciphertext
    assert cipher.decrypt(ciphertext, secret_context(tenant, endpoint.endpoint_id)) == secret
    with pytest.raises(Exception, match="InvalidCiphertext"):
        cipher.decrypt(ciphertext, secret_context(other, endpoint.endpoint_id))


# --- the design's own webhook_url ----------------------------------------------------------


def test_a_designs_own_url_is_signed_with_the_tenants_default_secret(
    hooks: Harness, receiver: Receiver, tenant: str
) -> None:
    default_secret = hooks.endpoints.issue_default_secret(tenant)
    assert default_secret is not None
    assert hooks.endpoints.issue_default_secret(tenant) is None  # shown once
    hooks.publish(
        "design.succeeded",
        design_detail("dsn_14", 5, "succeeded", webhook_url=receiver.url, tenant_id=tenant),
    )
    hooks.drain()
    [request] = receiver.requests()
    assert request.verify(default_secret)["data"]["design_id"] == "dsn_14"
    assert only_message(hooks, tenant, DEFAULT_CHANNEL).url == receiver.url
    assert hooks.endpoints.list(tenant) == []  # the default channel is not an endpoint


def test_a_410_from_a_designs_own_url_stops_that_message_only(
    hooks: Harness, receiver: Receiver, tenant: str
) -> None:
    hooks.endpoints.issue_default_secret(tenant)
    receiver.then(Reply(410))
    hooks.publish(
        "design.queued", design_detail("dsn_15", 1, "queued", webhook_url=receiver.url, tenant_id=tenant)
    )
    hooks.publish(
        "design.succeeded",
        design_detail("dsn_15", 5, "succeeded", webhook_url=receiver.url, tenant_id=tenant),
    )
    hooks.drain()
    statuses = sorted(m.status for m in hooks.message_store.list(tenant, DEFAULT_CHANNEL, limit=10)[0])
    assert statuses == [MessageStatus.DELIVERED, MessageStatus.FAILED]
    assert hooks.endpoints.get(tenant, DEFAULT_CHANNEL)[0].enabled


def test_a_missing_default_secret_is_retried_not_lost(
    hooks: Harness, receiver: Receiver, tenant: str
) -> None:
    receiver_url = receiver.url
    hooks.publish(
        "design.queued", design_detail("dsn_16", 1, "queued", webhook_url=receiver_url, tenant_id=tenant)
    )
    sqs = boto3.client("sqs")
    [first] = sqs.receive_message(QueueUrl=hooks.settings.webhook_queue_url)["Messages"]
    hooks.dispatcher.handle(webhook_queue_message(first["Body"]))  # fan-out
    sqs.delete_message(QueueUrl=hooks.settings.webhook_queue_url, ReceiptHandle=first["ReceiptHandle"])
    [job] = sqs.receive_message(QueueUrl=hooks.settings.webhook_queue_url)["Messages"]
    sqs.delete_message(QueueUrl=hooks.settings.webhook_queue_url, ReceiptHandle=job["ReceiptHandle"])
    assert hooks.dispatcher.handle(webhook_queue_message(job["Body"])) is DispatchResult.RETRY_SCHEDULED
    secret = hooks.endpoints.issue_default_secret(tenant)  # the API creates it a moment later
    assert secret is not None
    hooks.drain()
    [request] = receiver.requests()
    assert request.signed_by(secret)
    attempts = only_message(hooks, tenant, DEFAULT_CHANNEL).attempts
    assert [a.outcome for a in attempts] == [AttemptOutcome.NO_SECRET, AttemptOutcome.DELIVERED]


# --- replay, deletion, management --------------------------------------------------------


def test_replay_one_message_and_all_since_a_time(hooks: Harness, receiver: Receiver, tenant: str) -> None:
    endpoint, secret = hooks.endpoints.create(tenant, url=receiver.url)
    receiver.default = Reply(500)
    start = hooks.clock.now
    for n in range(3):
        hooks.publish(
            "design.queued", design_detail(f"dsn_r{n}", 1, "queued", occurred_at=start, tenant_id=tenant)
        )
    hooks.drain()
    failed, _ = hooks.message_store.list(tenant, endpoint.endpoint_id, limit=10, status=MessageStatus.FAILED)
    assert len(failed) == 3
    receiver.default = Reply(200)

    replayed = hooks.endpoints.replay(tenant, endpoint.endpoint_id, failed[0].message_id)
    assert replayed.round == 2
    hooks.drain()
    assert receiver.delivered()[0].webhook_id == failed[0].message_id  # same webhook-id on replay

    hooks.endpoints.replay_since(
        tenant, endpoint.endpoint_id, since=start - timedelta(seconds=1), only_failed=True
    )
    hooks.drain()
    delivered = receiver.delivered()
    assert sorted(r.webhook_id for r in delivered) == sorted(m.message_id for m in failed)
    assert all(r.signed_by(secret) for r in delivered)
    logs, _ = hooks.message_store.list(tenant, endpoint.endpoint_id, limit=10)
    assert {m.status for m in logs} == {MessageStatus.DELIVERED}


def test_replay_since_pages_through_many_messages(
    hooks: Harness, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, tenant: str
) -> None:
    from shared.services import webhook_dispatch

    monkeypatch.setattr(webhook_dispatch, "REPLAY_PAGE", 2)
    endpoint, _ = hooks.endpoints.create(tenant, url=receiver.url)
    for n in range(5):
        hooks.publish("design.queued", design_detail(f"dsn_p{n}", 1, "queued", tenant_id=tenant))
    hooks.drain()
    hooks.endpoints.replay_since(
        tenant, endpoint.endpoint_id, since=hooks.clock.now - timedelta(hours=1), only_failed=False
    )
    hooks.drain()
    messages, _ = hooks.message_store.list(tenant, endpoint.endpoint_id, limit=10)
    ids = {m.message_id for m in messages}
    assert len(ids) == 5
    # Each message sent once and replayed once across the three pages. Only this endpoint's
    # messages count: a port reused from an earlier test's receiver may catch a stray retry.
    sent = Counter(r.webhook_id for r in receiver.delivered() if r.webhook_id in ids)
    assert sent == dict.fromkeys(ids, 2)
    assert hooks.results.count(DispatchResult.REPLAYED) == 3


def test_a_deleted_endpoint_gets_nothing_more(hooks: Harness, receiver: Receiver, tenant: str) -> None:
    endpoint, _ = hooks.endpoints.create(tenant, url=receiver.url)
    receiver.then(Reply(500))
    hooks.publish("design.queued", design_detail("dsn_17", 1, "queued", tenant_id=tenant))
    sqs = boto3.client("sqs")
    for _ in range(2):  # fan-out, then the first (failing) attempt
        [message] = sqs.receive_message(QueueUrl=hooks.settings.webhook_queue_url)["Messages"]
        hooks.dispatcher.handle(webhook_queue_message(message["Body"]))
        sqs.delete_message(QueueUrl=hooks.settings.webhook_queue_url, ReceiptHandle=message["ReceiptHandle"])
    hooks.endpoints.delete(tenant, endpoint.endpoint_id)
    hooks.drain()
    assert len(receiver.requests()) == 1
    logged = only_message(hooks, tenant, endpoint.endpoint_id)
    assert logged.failure_reason is FailureReason.ENDPOINT_DELETED
    with pytest.raises(WebhookEndpointNotFound):
        hooks.endpoints.get(tenant, endpoint.endpoint_id)


def test_endpoints_are_scoped_to_their_tenant(hooks: Harness, tenant: str, other: str) -> None:
    endpoint, _ = hooks.endpoints.create(tenant, url="https://93.184.215.14/hook")
    for call in (
        lambda: hooks.endpoints.get(other, endpoint.endpoint_id),
        lambda: hooks.endpoints.delete(other, endpoint.endpoint_id),
        lambda: hooks.endpoints.rotate_secret(other, endpoint.endpoint_id),
        lambda: hooks.endpoints.deliveries(other, endpoint.endpoint_id, limit=10),
        lambda: hooks.endpoints.update(other, endpoint.endpoint_id, description="mine now"),
    ):
        with pytest.raises(WebhookEndpointNotFound):
            call()
    assert [e.endpoint_id for e, _ in hooks.endpoints.list(tenant)] == [endpoint.endpoint_id]
    assert hooks.endpoints.list(other) == []


def test_update_pause_and_reenable(hooks: Harness, receiver: Receiver, tenant: str) -> None:
    endpoint, _ = hooks.endpoints.create(tenant, url="https://93.184.215.14/hook")
    updated = hooks.endpoints.update(
        tenant, endpoint.endpoint_id, url=receiver.url, description="moved", event_types=["design.canceled"]
    )
    assert (updated.url, updated.description, updated.event_types) == (
        receiver.url,
        "moved",
        ("design.canceled",),
    )
    paused = hooks.endpoints.update(tenant, endpoint.endpoint_id, enabled=False)
    assert paused.disabled_reason is DisabledReason.MANUAL
    hooks.endpoint_store.record_failure(tenant, endpoint.endpoint_id, hooks.clock.now)
    back = hooks.endpoints.update(tenant, endpoint.endpoint_id, enabled=True)
    assert back.enabled
    assert hooks.endpoint_store.health(tenant, endpoint.endpoint_id).failing_since is None
    with pytest.raises(UnknownEventType):
        hooks.endpoints.update(tenant, endpoint.endpoint_id, event_types=["design.exploded"])
    with pytest.raises(WebhookUrlRefused):
        hooks.endpoints.update(tenant, endpoint.endpoint_id, url="https://192.168.1.1/")
    with pytest.raises(WebhookEndpointNotFound):
        hooks.endpoints.update(tenant, DEFAULT_CHANNEL, description="no")


def test_the_number_of_endpoints_is_capped(cloud: dict[str, str], tenant: str, other: str) -> None:
    hooks = make_harness(cloud, webhook_max_endpoints=2)
    hooks.endpoints.create(tenant, url="https://93.184.215.14/1")
    hooks.endpoints.create(tenant, url="https://93.184.215.14/2")
    with pytest.raises(WebhookEndpointLimitReached) as raised:
        hooks.endpoints.create(tenant, url="https://93.184.215.14/3")
    assert raised.value.code == "webhook_endpoint_limit_reached"
    hooks.endpoints.create(other, url="https://93.184.215.14/1")  # per tenant


def test_batch_completed_events_are_delivered(hooks: Harness, receiver: Receiver, tenant: str) -> None:
    _, secret = hooks.endpoints.create(tenant, url=receiver.url, event_types=["batch.completed"])
    hooks.publish(
        "batch.completed",
        {
            "tenant_id": tenant,
            "batch_id": "bat_1",
            "succeeded": 3,
            "failed": 1,
            "occurred_at": "2026-11-23T12:00:00Z",
        },
    )
    hooks.drain()
    payload = receiver.requests()[0].verify(secret)
    assert payload["type"] == "batch.completed"
    assert payload["data"] == {
        "batch_id": "bat_1",
        "succeeded": 3,
        "failed": 1,
        "occurred_at": "2026-11-23T12:00:00Z",
    }
