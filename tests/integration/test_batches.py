"""Batches against moto: creation, race-safe outcome counting, one batch.completed event, refunds."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from shared import bootstrap
from shared.adapters.dynamodb import DesignRepository
from shared.adapters.dynamodb_batches import BatchRepository
from shared.adapters.dynamodb_tenancy import UsageCounterTable
from shared.adapters.eventbridge import StatusEventBus
from shared.adapters.s3 import Bucket
from shared.adapters.safe_http import ImageUrlFetcher
from shared.bootstrap import workers
from shared.domain.batches import BatchEventDetail
from shared.domain.errors import DailyQuotaExceeded, ProviderUnavailable, UnknownStyle
from shared.domain.messages import GenerationMessage
from shared.domain.quotas import GLOBAL_SCOPE, design_window
from shared.domain.status import DesignStatus
from shared.domain.tenants import Limits
from shared.providers.base import GenerationRequest
from shared.services.batches import BatchCompletion, BatchRequest
from shared.services.designs import DesignRequest
from shared.services.generation import GenerationPipeline, RunResult
from shared.settings import get_settings
from tests.conftest import room_photo


class RecordingSink:
    def __init__(self, fail_first: int = 0) -> None:
        self.events: list[BatchEventDetail] = []
        self._fail = fail_first
        self._lock = threading.Lock()

    def publish_event(self, detail_type: str, detail: Any) -> None:
        assert detail_type == "batch.completed"
        with self._lock:
            if self._fail:
                self._fail -= 1
                raise RuntimeError("EventBridge said no")
            self.events.append(detail)


@pytest.fixture
def tenant(aws: dict[str, Any]) -> str:
    bootstrap.tenant_admin().create_tenant("Acme", tenant_id="tnt_acme", limits=Limits(daily_designs=20))
    return "tnt_acme"


def upload(tenant_id: str, data: bytes | None = None) -> str:
    slot = bootstrap.design_service().create_upload(tenant_id, content_type="image/jpeg")
    Bucket(get_settings().uploads_bucket).write(
        slot.upload.key, data or room_photo(), content_type="image/jpeg"
    )
    return slot.upload.upload_id


def used_today(scope: str) -> int:
    return UsageCounterTable(get_settings()).read(scope, design_window(datetime.now(UTC)).period)


def one_photo_three_styles(upload_id: str) -> BatchRequest:
    return BatchRequest.model_validate(
        {
            "defaults": {"upload_id": upload_id, "room_type": "living_room"},
            "designs": [{"style": "japandi"}, {"style": "coastal"}, {"style": "industrial"}],
        }
    )


def test_a_batch_creates_its_designs_and_takes_their_units_together(tenant: str) -> None:
    state = bootstrap.batch_service().create(
        tenant, one_photo_three_styles(upload(tenant)), request_id="req_1"
    )
    assert state.batch.batch_id.startswith("bat_")
    assert [d.brief.style for d in state.designs] == ["japandi", "coastal", "industrial"]
    assert all(d.batch_id == state.batch.batch_id for d in state.designs)
    assert used_today(tenant) == 3
    again = bootstrap.batch_service().get(tenant, state.batch.batch_id)
    assert [d.design_id for d in again.designs] == list(state.batch.design_ids)
    assert again.progress.counts == {DesignStatus.QUEUED: 3}
    assert again.progress.eta is not None


def test_an_invalid_item_creates_nothing(tenant: str) -> None:
    request = BatchRequest.model_validate(
        {
            "defaults": {"upload_id": upload(tenant), "room_type": "bedroom"},
            "designs": [{"style": "japandi"}, {"style": "vaporwave"}],
        }
    )
    with pytest.raises(UnknownStyle) as caught:
        bootstrap.batch_service().create(tenant, request)
    assert caught.value.details["item"] == 1
    assert caught.value.message.startswith("designs[1]: ")
    assert used_today(tenant) == 0
    assert DesignRepository(get_settings()).list(tenant, limit=10, cursor=None)[0] == []


def test_a_batch_larger_than_the_remaining_quota_creates_nothing(tenant: str) -> None:
    upload_id = upload(tenant)
    bootstrap.metering().consume_designs(
        tenant, 18, at=__import__("datetime").datetime.now(__import__("datetime").UTC)
    )
    with pytest.raises(DailyQuotaExceeded):
        bootstrap.batch_service().create(tenant, one_photo_three_styles(upload_id))
    assert used_today(tenant) == 18
    assert DesignRepository(get_settings()).list(tenant, limit=10, cursor=None)[0] == []


def test_outcomes_are_counted_once_and_completion_is_announced_once(tenant: str) -> None:
    state = bootstrap.batch_service().create(tenant, one_photo_three_styles(upload(tenant)))
    sink = RecordingSink()
    completion = BatchCompletion(batches=BatchRepository(get_settings()), events=sink)
    finished = [
        d.model_copy(update={"status": status})
        for d, status in zip(
            state.designs, (DesignStatus.SUCCEEDED, DesignStatus.FAILED, DesignStatus.CANCELED), strict=True
        )
    ]
    # Every worker settles its design, some twice (redeliveries), all at the same moment.
    start = threading.Barrier(9)

    def settle(design: Any) -> None:
        start.wait()
        completion.record(design)

    threads = [threading.Thread(target=settle, args=(d,)) for d in finished * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sink.events) == 1
    event = sink.events[0]
    assert (event.total, event.succeeded, event.failed, event.canceled) == (3, 1, 1, 1)
    assert event.event_id == f"{state.batch.batch_id}.completed.3"
    assert event.design_ids == state.batch.design_ids
    completion.record(finished[0])
    assert len(sink.events) == 1


def test_a_refused_event_is_announced_by_the_next_settle_call(tenant: str) -> None:
    state = bootstrap.batch_service().create(tenant, one_photo_three_styles(upload(tenant)))
    sink = RecordingSink(fail_first=1)
    completion = BatchCompletion(batches=BatchRepository(get_settings()), events=sink)
    done = [d.model_copy(update={"status": DesignStatus.SUCCEEDED}) for d in state.designs]
    completion.record(done[0])
    completion.record(done[1])
    with pytest.raises(RuntimeError):
        completion.record(done[2])
    assert sink.events == []
    completion.record(done[2])  # the redelivered message settles again
    assert len(sink.events) == 1


def test_a_design_that_is_not_in_a_batch_is_ignored(tenant: str) -> None:
    sink = RecordingSink()
    completion = BatchCompletion(batches=BatchRepository(get_settings()), events=sink)
    design = bootstrap.design_service().create(
        tenant, DesignRequest(upload_id=upload(tenant), room_type="bedroom", style="japandi")
    )
    completion.record(design.model_copy(update={"status": DesignStatus.SUCCEEDED}))
    assert sink.events == []


class Unavailable:
    name = "preview"
    typical_seconds = 1.0

    def start(self, request: GenerationRequest) -> Any:
        raise ProviderUnavailable("the GPU provider is down")


def pipeline(provider: Any = None) -> GenerationPipeline:
    """The worker's pipeline as wired, or with ``provider`` standing in for every provider."""
    if provider is None:
        return workers.generation_pipeline()
    settings = get_settings()
    return GenerationPipeline(
        settings=settings,
        designs=DesignRepository(settings),
        work_bucket=Bucket(settings.uploads_bucket),
        outputs=bootstrap.outputs_bucket(),
        events=StatusEventBus(settings.event_bus_name),
        fetcher=ImageUrlFetcher(timeout=1.0, deadline=5.0),
        providers=lambda name: provider,
        on_terminal=bootstrap.settlement().settle,
    )


def test_a_provider_outage_gives_the_unit_back_once(tenant: str) -> None:
    design = bootstrap.design_service().create(
        tenant, DesignRequest(upload_id=upload(tenant), room_type="bedroom", style="japandi")
    )
    assert (used_today(tenant), used_today(GLOBAL_SCOPE)) == (1, 1)
    worker = pipeline(Unavailable())
    message = GenerationMessage(tenant_id=tenant, design_id=design.design_id)
    last = get_settings().max_attempts
    with pytest.raises(ProviderUnavailable):
        worker.run(message, receive_count=1)  # retried first: no refund yet
    assert used_today(tenant) == 1
    assert worker.run(message, receive_count=last) is RunResult.FAILED
    error = bootstrap.design_service().get(tenant, design.design_id).error
    assert error is not None
    assert error.code == "provider_unavailable"
    assert (used_today(tenant), used_today(GLOBAL_SCOPE)) == (0, 0)
    assert worker.run(message, receive_count=last + 1) is RunResult.ALREADY_DONE  # redelivered
    assert used_today(tenant) == 0


def test_a_bad_photo_keeps_its_unit(tenant: str) -> None:
    design = bootstrap.design_service().create(
        tenant,
        DesignRequest(upload_id=upload(tenant, b"not a photo"), room_type="bedroom", style="japandi"),
    )
    result = pipeline().run(GenerationMessage(tenant_id=tenant, design_id=design.design_id))
    assert result is RunResult.FAILED
    error = bootstrap.design_service().get(tenant, design.design_id).error
    assert error is not None
    assert error.code == "image_unsupported_type"
    assert used_today(tenant) == 1


@pytest.fixture
def batch_events(aws: dict[str, Any]) -> str:
    """An SQS queue behind a rule matching ``batch.completed`` on the project's bus."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName="batch-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = aws["ROOMCRAFT_EVENT_BUS_NAME"]
    events.put_rule(
        Name="batches", EventBusName=bus, EventPattern=json.dumps({"detail-type": ["batch.completed"]})
    )
    events.put_targets(Rule="batches", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return url


def test_the_worker_completes_a_batch_and_the_bus_carries_one_event(tenant: str, batch_events: str) -> None:
    state = bootstrap.batch_service().create(tenant, one_photo_three_styles(upload(tenant)))
    worker = pipeline()
    for design in state.designs:
        assert (
            worker.run(GenerationMessage(tenant_id=tenant, design_id=design.design_id)) is RunResult.SUCCEEDED
        )
    assert bootstrap.batch_service().get(tenant, state.batch.batch_id).progress.completed
    messages = boto3.client("sqs").receive_message(QueueUrl=batch_events, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    event = json.loads(messages[0]["Body"])
    assert (event["source"], event["detail-type"]) == ("roomcraft", "batch.completed")
    assert event["detail"]["batch_id"] == state.batch.batch_id
    assert event["detail"]["succeeded"] == 3


def test_an_open_batch_completes_when_its_designs_so_far_are_done_and_again_when_it_grows(
    tenant: str,
) -> None:
    """An inbox drop's batch: designs join one by one, may finish before they have joined."""
    sink = RecordingSink()
    completion = BatchCompletion(batches=BatchRepository(get_settings()), events=sink)
    first = bootstrap.design_service().create(
        tenant,
        DesignRequest(upload_id=upload(tenant), room_type="bedroom", style="japandi"),
        batch_id="bat_DROP",
    )
    second = bootstrap.design_service().create(
        tenant,
        DesignRequest(upload_id=upload(tenant), room_type="bedroom", style="coastal"),
        batch_id="bat_DROP",
    )
    completion.join(tenant, "bat_DROP", first.design_id)
    completion.record(second.model_copy(update={"status": DesignStatus.SUCCEEDED}))  # before it joined
    assert sink.events == []
    completion.join(tenant, "bat_DROP", second.design_id)
    completion.join(tenant, "bat_DROP", second.design_id)  # a retried ingest
    completion.record(first.model_copy(update={"status": DesignStatus.FAILED}))
    assert [(e.event_id, e.total, e.succeeded, e.failed) for e in sink.events] == [
        ("bat_DROP.completed.2", 2, 1, 1)
    ]
    state = bootstrap.batch_service().get(tenant, "bat_DROP")
    assert state.batch.origin == "s3"
    assert sorted(state.batch.design_ids) == sorted([first.design_id, second.design_id])
    # A photo dropped later into the same folder and hour reopens the batch.
    third = bootstrap.design_service().create(
        tenant,
        DesignRequest(upload_id=upload(tenant), room_type="bedroom", style="art_deco"),
        batch_id="bat_DROP",
    )
    completion.join(tenant, "bat_DROP", third.design_id)
    completion.record(third.model_copy(update={"status": DesignStatus.SUCCEEDED}))
    assert [e.event_id for e in sink.events] == ["bat_DROP.completed.2", "bat_DROP.completed.3"]


def test_a_batch_that_grows_while_being_completed_is_not_announced_early(tenant: str) -> None:
    repository = BatchRepository(get_settings())
    sink = RecordingSink()
    completion = BatchCompletion(batches=repository, events=sink)
    design = bootstrap.design_service().create(
        tenant,
        DesignRequest(upload_id=upload(tenant), room_type="bedroom", style="japandi"),
        batch_id="bat_RACE",
    )
    completion.join(tenant, "bat_RACE", design.design_id)
    seen = repository.record_outcome(tenant, "bat_RACE", design.design_id, DesignStatus.SUCCEEDED)
    completion.join(tenant, "bat_RACE", "dsn_LATECOMER")  # joins between the count and the claim
    completion.complete_if_done(tenant, "bat_RACE", seen)
    assert sink.events == []
