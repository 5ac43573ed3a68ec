"""Issue 13 item 4: no orphaned designs. Queued before announced, removed (unit released) when the
queue refuses, and a sweeper that queues stale designs again or fails them with a refund."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from shared import bootstrap
from shared.adapters.dynamodb import DesignRepository
from shared.adapters.dynamodb_tenancy import UsageCounterTable
from shared.adapters.eventbridge import EventPublishFailed
from shared.adapters.sqs import GenerationQueue
from shared.bootstrap import workers
from shared.domain.design import Design
from shared.domain.errors import DesignNotFound
from shared.domain.events import DesignEventDetail
from shared.domain.messages import GenerationMessage
from shared.domain.quotas import GLOBAL_SCOPE, design_window
from shared.domain.status import DesignStatus
from shared.services.designs import DesignRequest, DesignService
from shared.services.sweeper import StaleDesignSweeper
from shared.settings import get_settings
from tests.conftest import room_photo

TENANT = "tnt_default"


class Recorder:
    """Stands between the service and the real queue / bus, recording the order of the calls."""

    def __init__(self, order: list[str], name: str, inner: Any, fail: bool = False) -> None:
        self._order, self._name, self._inner, self._fail = order, name, inner, fail
        self.sent: list[Any] = []

    def _call(self, item: Any) -> None:
        self._order.append(self._name)
        if self._fail:
            raise (
                EventPublishFailed(f"{self._name} refused")
                if self._name == "publish"
                else RuntimeError("SQS: ServiceUnavailable")
            )
        self.sent.append(item)
        (self._inner.enqueue if self._name == "enqueue" else self._inner.publish)(item)

    def enqueue(self, message: GenerationMessage) -> None:
        self._call(message)

    def publish(self, detail: DesignEventDetail) -> None:
        self._call(detail)


def upload(aws: dict[str, Any]) -> str:
    service = bootstrap.design_service()
    slot = service.create_upload(TENANT, content_type="image/jpeg")
    boto3.client("s3").put_object(
        Bucket=aws["ROOMCRAFT_UPLOADS_BUCKET"], Key=slot.upload.key, Body=room_photo()
    )
    return slot.upload.upload_id


def request(upload_id: str) -> DesignRequest:
    return DesignRequest(upload_id=upload_id, room_type="bedroom", style="japandi", seed=1)


def used_today() -> tuple[int, int]:
    counters, period = UsageCounterTable(get_settings()), design_window(datetime.now(UTC)).period
    return counters.read(TENANT, period), counters.read(GLOBAL_SCOPE, period)


def queued_messages(aws: dict[str, Any]) -> list[GenerationMessage]:
    sqs, url = boto3.client("sqs"), aws["ROOMCRAFT_GENERATE_QUEUE_URL"]
    found = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not batch:
            return found
        for message in batch:
            found.append(GenerationMessage.model_validate_json(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def service_with(
    monkeypatch: pytest.MonkeyPatch, *, queue_fails: bool = False, events_fail: bool = False
) -> tuple[DesignService, list[str], Recorder, Recorder]:
    service = bootstrap.design_service()
    order: list[str] = []
    queue = Recorder(order, "enqueue", service._queue, fail=queue_fails)
    events = Recorder(order, "publish", service._events, fail=events_fail)
    monkeypatch.setattr(service, "_queue", queue)
    monkeypatch.setattr(service, "_events", events)
    return service, order, queue, events


def test_a_design_is_queued_before_it_is_announced(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    upload_id = upload(aws)
    service, order, queue, events = service_with(monkeypatch)
    design = service.create(TENANT, request(upload_id))
    assert order == ["enqueue", "publish"]
    assert [m.design_id for m in queue.sent] == [design.design_id]
    assert [e.status for e in events.sent] == [DesignStatus.QUEUED]


def test_a_design_the_queue_refuses_is_removed_unannounced_and_its_unit_released(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    upload_id = upload(aws)
    before = used_today()
    service, order, _, events = service_with(monkeypatch, queue_fails=True)
    with pytest.raises(RuntimeError, match="ServiceUnavailable"):
        service.create(TENANT, request(upload_id))
    assert order == ["enqueue"]  # never announced
    assert events.sent == []
    assert used_today() == before
    designs, _ = service.list(TENANT, limit=50, cursor=None)
    assert designs == []  # nothing left behind that no worker will ever see


def test_a_design_whose_announcement_fails_asks_the_worker_to_send_it(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    upload_id = upload(aws)
    service, order, queue, _ = service_with(monkeypatch, events_fail=True)
    design = service.create(TENANT, request(upload_id))  # accepted all the same
    assert order == ["enqueue", "publish", "enqueue"]
    assert [(m.design_id, m.announce) for m in queue.sent] == [
        (design.design_id, False),
        (design.design_id, True),
    ]


def test_batch_designs_the_queue_refuses_are_removed_and_released(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.services.batches import BatchRequest

    upload_id = upload(aws)
    before = used_today()
    service = bootstrap.design_service()
    real = service._queue
    calls = {"n": 0}

    class SecondRefused:
        def enqueue(self, message: GenerationMessage) -> None:
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("SQS: ServiceUnavailable")
            real.enqueue(message)

    monkeypatch.setattr(service, "_queue", SecondRefused())
    batch = BatchRequest.model_validate(
        {"designs": [{"upload_id": upload_id, "room_type": "bedroom", "style": "japandi"}] * 3}
    )
    with pytest.raises(RuntimeError):
        bootstrap.batch_service().create(TENANT, batch)
    designs, _ = service.list(TENANT, limit=50, cursor=None)
    assert len(designs) == 2  # the refused one is gone, the others go on
    assert used_today() == (before[0] + 2, before[1] + 2)
    queued = {m.design_id for m in queued_messages(aws)}
    assert queued == {d.design_id for d in designs}


# --- the sweeper ------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def sweeper(clock: Clock, published: list[DesignEventDetail], settled: list[Design]) -> StaleDesignSweeper:
    settings = get_settings()

    class Events:
        def publish(self, detail: DesignEventDetail) -> None:
            published.append(detail)

    def settle(design: Design) -> None:
        settled.append(design)
        bootstrap.settlement().settle(design)

    return StaleDesignSweeper(
        settings=settings,
        designs=DesignRepository(settings),
        queue=GenerationQueue(settings.generate_queue_url),
        events=Events(),
        on_terminal=settle,
        clock=clock,
    )


def test_a_design_whose_message_was_lost_is_queued_again_then_failed_with_refund(aws: dict[str, Any]) -> None:
    """The message never reached a worker (lost, or dead-lettered and never redriven)."""
    upload_id = upload(aws)
    before = used_today()
    design = bootstrap.design_service().create(TENANT, request(upload_id))
    assert used_today() == (before[0] + 1, before[1] + 1)
    queued_messages(aws)  # lost: no worker will see it
    deadline = timedelta(seconds=get_settings().design_deadline_seconds)
    clock, published, settled = Clock(), [], []
    sweep = sweeper(clock, published, settled)

    report = sweep.sweep()
    assert report.requeued == report.failed == ()  # not stale yet
    assert report.oldest_open_age_seconds >= 0

    clock.now += deadline + timedelta(seconds=1)
    report = sweep.sweep()
    assert report.requeued == (design.design_id,)
    assert report.oldest_open_age_seconds >= deadline.total_seconds()
    assert [(m.design_id, m.announce) for m in queued_messages(aws)] == [(design.design_id, True)]
    assert sweep.sweep().requeued == ()  # swept once: it gets its time again

    clock.now += deadline
    report = sweep.sweep()
    assert report.failed == (design.design_id,)
    stored = bootstrap.design_service().get(TENANT, design.design_id)
    assert stored.status is DesignStatus.FAILED
    assert stored.error is not None
    assert stored.error.code == "design_stalled"
    assert [e.status for e in published] == [DesignStatus.FAILED]
    assert published[0].model_dump_json() == stored.status_event
    assert [d.design_id for d in settled] == [design.design_id]
    assert used_today() == before  # refunded: no paid work happened
    assert sweep.sweep().oldest_open_age_seconds == 0  # out of the open-designs index
    assert queued_messages(aws) == []  # no prediction to cancel


def test_finished_designs_leave_the_open_index(aws: dict[str, Any]) -> None:
    upload_id = upload(aws)
    design = bootstrap.design_service().create(TENANT, request(upload_id))
    repository = DesignRepository(get_settings())
    assert repository.oldest_open_since() is not None
    for message in queued_messages(aws):
        workers.generation_pipeline().run(message)
    assert bootstrap.design_service().get(TENANT, design.design_id).status is DesignStatus.SUCCEEDED
    assert repository.oldest_open_since() is None
    assert repository.open_since_before(datetime.now(UTC) + timedelta(days=1), limit=10) == []


def test_a_design_the_worker_finishes_after_the_requeue_is_not_failed(aws: dict[str, Any]) -> None:
    upload_id = upload(aws)
    design = bootstrap.design_service().create(TENANT, request(upload_id))
    queued_messages(aws)
    deadline = timedelta(seconds=get_settings().design_deadline_seconds)
    clock, published, settled = Clock(), [], []
    sweep = sweeper(clock, published, settled)
    clock.now += deadline + timedelta(seconds=1)
    assert sweep.sweep().requeued == (design.design_id,)
    for message in queued_messages(aws):  # the requeued message reaches a worker this time
        workers.generation_pipeline().run(message)
    clock.now += deadline
    assert sweep.sweep().failed == ()
    assert bootstrap.design_service().get(TENANT, design.design_id).status is DesignStatus.SUCCEEDED
    assert published == []


def test_the_sweeper_handler_reports_the_oldest_open_design(aws: dict[str, Any]) -> None:
    from functions.sweeper.handler import handler
    from tests.handlers.events import lambda_context

    upload_id = upload(aws)
    bootstrap.design_service().create(TENANT, request(upload_id))
    result = handler({"source": "aws.events", "detail-type": "Scheduled Event"}, lambda_context("sweeper"))
    assert result["requeued"] == []
    assert result["failed"] == []
    assert result["oldest_open_age_seconds"] >= 0
    json.dumps(result)


def test_a_removed_design_is_gone_for_the_worker_too(aws: dict[str, Any]) -> None:
    upload_id = upload(aws)
    service = bootstrap.design_service()
    design = service.draft(TENANT, request(upload_id))
    repository = DesignRepository(get_settings())
    repository.create(design)
    repository.delete_unstarted(design)
    with pytest.raises(DesignNotFound):
        repository.get(TENANT, design.design_id)
