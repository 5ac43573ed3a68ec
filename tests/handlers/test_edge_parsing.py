"""Every queue's message is parsed at the handler, and bad input fails clearly without loss.

For each handler: a malformed or unknown record is logged with the stable code ``malformed_message``
and fails alone (its queue's redrive policy dead-letters it), or is acknowledged where a retry
cannot help (SageMaker notifications); concurrent invocations, as the local cloud makes them,
keep their own batch results.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest

from functions.dispatcher.handler import handler as dispatcher
from functions.inference_events.handler import handler as inference_events
from functions.ingest.handler import handler as ingest
from functions.sweeper.handler import handler as sweeper
from functions.worker.handler import handler as worker
from functions.writeback.handler import handler as writeback
from shared.bootstrap import workers
from shared.domain.errors import DesignBusy, MalformedMessage
from shared.domain.messages import GenerationMessage
from shared.resources import QUEUES
from shared.services.generation import RunResult
from shared.services.ingest import IngestOutcome
from shared.services.webhook_dispatch import BusEvent, DispatchResult
from shared.services.writeback import WritebackOutcome
from tests.handlers.events import (
    eventbridge_status_event,
    lambda_context,
    s3_object_created,
    s3_test_event,
    sqs_record,
)

Handler = Callable[[dict[str, Any], Any], Any]


def status_event(design_id: str) -> str:
    detail = {
        "event_id": f"{design_id}.v5",
        "design_id": design_id,
        "tenant_id": "tnt_a",
        "status": "succeeded",
        "previous_status": "finalizing",
        "version": 5,
        "progress": 1.0,
        "origin": "s3",
        "occurred_at": "2026-12-01T00:00:00Z",
    }
    return eventbridge_status_event(detail)


def delivery_job(message_id: str) -> str:
    return json.dumps(
        {
            "kind": "deliver",
            "tenant_id": "tnt_a",
            "endpoint_id": "whe_1",
            "message_id": message_id,
            "round": 1,
            "attempt": 1,
        }
    )


def sagemaker_notification(design_id: str) -> str:
    return json.dumps({"invocationStatus": "Completed", "inferenceId": f"tnt_a:{design_id}"})


def generation_message(design_id: str) -> str:
    return GenerationMessage(tenant_id="tnt_a", design_id=design_id).model_dump_json()


def ingest_notification(name: str) -> str:
    return s3_object_created("inbox-bucket", f"inbox/tnt_a/{name}.jpg", size=1, etag="e")


class Services:
    """Fakes of the use cases behind each handler: they record what they were handed; ``gate``
    makes a call wait (to hold two invocations in a handler at once)."""

    def __init__(self) -> None:
        self.seen: list[Any] = []
        self.gate: Callable[[str], None] = lambda name: None

    def _called(self, name: str, value: Any) -> None:
        self.seen.append(value)
        if name == "bad":
            raise DesignBusy("held by another worker")  # a failure of the service, not of the message
        self.gate(name)

    # generation pipeline (worker, inference events)
    def run(self, message: GenerationMessage, **_: Any) -> RunResult:
        self._called(message.design_id, message)
        return RunResult.SUCCEEDED

    # inbox ingest
    def ingest(self, item: Any) -> IngestOutcome:
        self._called(item.key.rsplit("/", 1)[-1].removesuffix(".jpg"), item)
        return IngestOutcome.CREATED

    # inbox writeback
    def write_back(self, tenant_id: str, design_id: str) -> WritebackOutcome:
        self._called(design_id, (tenant_id, design_id))
        return WritebackOutcome.WRITTEN

    # webhook dispatcher
    def handle(self, message: Any) -> DispatchResult:
        self._called(message.message_id, message)
        return DispatchResult.DELIVERED


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch) -> Services:
    fake = Services()
    for name in ("generation_pipeline", "inbox_ingest", "inbox_writeback", "webhook_dispatcher"):
        monkeypatch.setattr(workers, name, lambda: fake)
    return fake


def malformed_logs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "code", None) == MalformedMessage.code]


def failures(response: dict[str, Any]) -> set[str]:
    return {item["itemIdentifier"] for item in response["batchItemFailures"]}


# --- malformed and unknown records -------------------------------------------------------------
QUEUE_CASES = [
    pytest.param(worker, generation_message, ['{"tenant_id": "tnt_a"}', "[]", "not json"], id="worker"),
    pytest.param(
        ingest,
        ingest_notification,
        ['{"Records": []}', '{"Event": "s3:SomethingElse"}', '{"Records": [{"eventName": "x"}]}', "nope"],
        id="ingest",
    ),
    pytest.param(
        writeback,
        status_event,
        ['{"detail": {"design": "no such shape"}}', '{"detail-type": "design.succeeded"}', "[1]"],
        id="writeback",
    ),
    pytest.param(
        dispatcher,
        delivery_job,
        ['{"kind": "deliver"}', '{"kind": "unheard-of", "tenant_id": "t"}', '{"detail-type": "x"}', ""],
        id="dispatcher",
    ),
]


@pytest.mark.parametrize(("handler", "good_body", "bad_bodies"), QUEUE_CASES)
def test_malformed_records_fail_alone_with_a_logged_code_and_never_reach_the_service(
    handler: Handler,
    good_body: Callable[[str], str],
    bad_bodies: list[str],
    services: Services,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    bad = [sqs_record(body, message_id=f"bad-{n}") for n, body in enumerate(bad_bodies)]
    response = handler({"Records": [*bad, sqs_record(good_body("fine"))]}, lambda_context())

    assert failures(response) == {record["messageId"] for record in bad}
    assert len(services.seen) == 1  # only the well-formed record reached the service, typed
    assert not isinstance(services.seen[0], str | bytes | dict)
    logged = malformed_logs(caplog)
    assert sorted(r.message_id for r in logged) == sorted(record["messageId"] for record in bad)  # type: ignore[attr-defined]
    assert all(r.levelno == logging.ERROR for r in logged)


def test_every_queue_dead_letters_what_keeps_failing() -> None:
    """What fails its model is retried at most ``max_receive_count`` times, then kept in the DLQ."""
    for queue in QUEUES:
        assert 1 <= queue.max_receive_count <= 10, queue.id
        assert queue.dlq_id


def test_the_s3_test_event_is_acknowledged_and_ignored(services: Services) -> None:
    response = ingest({"Records": [sqs_record(s3_test_event("inbox-bucket"))]}, lambda_context())
    assert response == {"batchItemFailures": []}
    assert services.seen == []


def test_a_service_failure_is_not_reported_as_a_malformed_message(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    records = [
        sqs_record(generation_message("bad"), message_id="m-bad"),
        sqs_record(generation_message("ok")),
    ]
    response = worker({"Records": records}, lambda_context())
    assert failures(response) == {"m-bad"}
    assert malformed_logs(caplog) == []


def test_a_bus_event_with_an_unexpected_detail_fails_with_the_code(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    class Dispatcher:
        def handle(self, message: Any) -> DispatchResult:
            if isinstance(message, BusEvent):  # as WebhookDispatcher does for a detail it cannot read
                raise MalformedMessage(f"{message.detail_type} event {message.id} has an unexpected detail")
            return DispatchResult.DELIVERED

    monkeypatch.setattr(workers, "webhook_dispatcher", Dispatcher)
    body = json.dumps(
        {
            "id": "e1",
            "detail-type": "design.queued",
            "source": "roomcraft",
            "time": "2026-12-01T00:00:00Z",
            "detail": {},
        }
    )
    records = [sqs_record(body, message_id="odd"), sqs_record(delivery_job("fine"))]
    response = dispatcher({"Records": records}, lambda_context())
    assert failures(response) == {"odd"}
    [logged] = malformed_logs(caplog)
    assert logged.message_id == "odd"  # type: ignore[attr-defined]


def test_malformed_sagemaker_notifications_are_acknowledged_with_the_code(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """A retry cannot mend them, and the design's own delayed check finds its result anyway."""
    records = [
        sqs_record('{"Type": "Notification", "Message": "not json"}', message_id="garbage-1"),
        sqs_record('{"Type": "SubscriptionConfirmation", "Token": "t"}', message_id="garbage-2"),
        sqs_record(
            json.dumps({"invocationStatus": "Completed", "inferenceId": "by-hand"}), message_id="other"
        ),
        sqs_record(sagemaker_notification("dsn_1"), message_id="ours"),
    ]
    response = inference_events({"Records": records}, lambda_context())
    assert response == {"batchItemFailures": []}
    assert [m.design_id for m in services.seen] == ["dsn_1"]
    assert sorted(r.message_id for r in malformed_logs(caplog)) == ["garbage-1", "garbage-2"]  # type: ignore[attr-defined]


def test_the_sweeper_refuses_an_event_that_is_not_a_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_sweep() -> Any:
        raise AssertionError("swept on an event that is not a schedule's")

    monkeypatch.setattr(workers, "stale_design_sweeper", no_sweep)
    with pytest.raises(MalformedMessage):
        sweeper({"Records": [{"body": "{}"}]}, lambda_context())


# --- one processor per invocation ---------------------------------------------------------------
CONCURRENT_CASES = [
    pytest.param(ingest, ingest_notification, "{}", id="ingest"),
    pytest.param(writeback, status_event, "{}", id="writeback"),
    pytest.param(dispatcher, delivery_job, "{}", id="dispatcher"),
    pytest.param(inference_events, sagemaker_notification, None, id="inference_events"),
]


@pytest.mark.parametrize(("handler", "good_body", "bad_body"), CONCURRENT_CASES)
def test_concurrent_invocations_keep_their_own_batch_results(
    handler: Handler, good_body: Callable[[str], str], bad_body: str | None, services: Services
) -> None:
    """The local cloud calls a handler from several poller threads: a batch's failure must not be
    lost (its message deleted) because another batch started meanwhile."""
    first_waiting = threading.Event()
    both_running = threading.Barrier(2, timeout=30)

    def gate(name: str) -> None:
        if name == "first":
            first_waiting.set()
        if name in {"first", "second"}:
            both_running.wait()

    services.gate = gate
    failing = bad_body if bad_body is not None else good_body("bad")  # inference events: the service fails
    responses: dict[str, Any] = {}

    def invoke(label: str, records: list[dict[str, Any]]) -> None:
        responses[label] = handler({"Records": records}, lambda_context())

    one = threading.Thread(
        target=invoke,
        args=("one", [sqs_record(failing, message_id="m-bad"), sqs_record(good_body("first"))]),
    )
    two = threading.Thread(target=invoke, args=("two", [sqs_record(good_body("second"))]))
    one.start()
    assert first_waiting.wait(timeout=30)  # batch one has failed its first record and holds the second
    two.start()
    one.join(timeout=60)
    two.join(timeout=60)

    assert failures(responses["one"]) == {"m-bad"}
    assert failures(responses["two"]) == set()
