"""The generation pipeline against moto: redelivery, races, cancellation, failures, retries."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.adapters.dynamodb import DesignRepository
from shared.adapters.eventbridge import EventPublishFailed, StatusEventBus
from shared.adapters.s3 import Bucket
from shared.domain.design import Brief, Design, SourceImage
from shared.domain.errors import DesignBusy, ProviderUnavailable
from shared.domain.events import DesignEventDetail
from shared.domain.ids import new_id
from shared.domain.messages import GenerationMessage
from shared.domain.status import DesignStatus
from shared.providers.base import GenerationOutcome, GenerationRequest, InferenceProvider
from shared.providers.preview import PreviewProvider
from shared.services.generation import GenerationPipeline, RunResult
from shared.settings import Settings, get_settings
from tests.conftest import room_photo

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class CountingProvider:
    """The preview provider, counting generations (each one would be a paid GPU call)."""

    name = "preview"
    typical_seconds = 1.0

    def __init__(
        self, before_start: Callable[[], None] | None = None, fail_with: Exception | None = None
    ) -> None:
        self.calls = 0
        self._inner = PreviewProvider()
        self._before_start = before_start
        self._fail_with = fail_with

    def start(self, request: GenerationRequest) -> GenerationOutcome:
        self.calls += 1
        if self._before_start:
            self._before_start()
        if self._fail_with:
            raise self._fail_with
        return self._inner.start(request)


class RecordingEvents:
    def __init__(self, bus: StatusEventBus) -> None:
        self.published: list[DesignEventDetail] = []
        self._bus = bus

    def publish(self, detail: DesignEventDetail) -> None:
        self.published.append(detail)
        self._bus.publish(detail)


class World:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.designs = DesignRepository(settings)
        self.uploads = Bucket(settings.uploads_bucket)
        self.outputs = Bucket(settings.outputs_bucket, public_base_url=settings.cdn_base_url)
        self.events = RecordingEvents(StatusEventBus(settings.event_bus_name))

    def pipeline(
        self,
        provider: InferenceProvider,
        *,
        worker_id: str = "w1",
        clock: Callable[[], datetime] | None = None,
    ) -> GenerationPipeline:
        return GenerationPipeline(
            settings=self.settings,
            designs=self.designs,
            work_bucket=self.uploads,
            outputs=self.outputs,
            events=self.events,
            fetcher=NoFetch(),
            providers=lambda _name: provider,
            clock=clock or (lambda: datetime.now(UTC)),
            worker_id=worker_id,
        )

    def queued_design(self, photo: bytes, *, variants: int = 1) -> tuple[Design, GenerationMessage]:
        design_id = new_id("dsn")
        key = f"uploads/tnt_a/{design_id}"
        self.uploads.write(key, photo, content_type="image/jpeg")
        design = Design(
            design_id=design_id,
            tenant_id="tnt_a",
            source=SourceImage(upload_id="upl_x", key=key),
            brief=Brief(room_type="living_room", style="scandinavian", variants=variants, seed=5),
            provider="preview",
            storage_token="tok",
            created_at=T0,
            updated_at=T0,
        )
        self.designs.create(design)
        return design, GenerationMessage(tenant_id="tnt_a", design_id=design_id)

    def statuses(self, design_id: str) -> list[str]:
        return [e.status.value for e in self.events.published if e.design_id == design_id]


class NoFetch:
    def fetch(self, url: str, *, max_bytes: int, deadline_seconds: float | None = None) -> bytes:
        raise AssertionError("no URL sources in these tests")


@pytest.fixture
def world(aws: dict[str, Any]) -> World:
    return World(get_settings())


def test_a_design_goes_all_the_way_with_one_event_per_transition(world: World) -> None:
    provider = CountingProvider()
    design, message = world.queued_design(room_photo(), variants=2)
    assert world.pipeline(provider).run(message) is RunResult.SUCCEEDED
    stored = world.designs.get("tnt_a", design.design_id)
    assert stored.status is DesignStatus.SUCCEEDED
    assert stored.version == 5
    assert len(stored.outputs) == 2
    assert stored.provider_seconds is not None
    assert world.statuses(design.design_id) == ["preparing", "generating", "finalizing", "succeeded"]
    assert provider.calls == 1


def test_redelivered_message_never_generates_twice(world: World) -> None:
    provider = CountingProvider()
    _, message = world.queued_design(room_photo())
    pipeline = world.pipeline(provider)
    assert pipeline.run(message) is RunResult.SUCCEEDED
    assert pipeline.run(message, receive_count=2) is RunResult.ALREADY_DONE
    assert provider.calls == 1


def test_resumes_after_a_crash_between_steps(world: World) -> None:
    """A worker died after finalizing started; the redelivery finishes without a new generation."""
    provider = CountingProvider()
    design, message = world.queued_design(room_photo())

    class Crash(Exception):
        pass

    crashing = world.pipeline(provider)
    original_finalize = crashing._finalize

    def crash(_: Design) -> Design:
        raise Crash

    crashing._finalize = crash  # type: ignore[method-assign]
    with pytest.raises(Crash):
        crashing.run(message)
    crashing._finalize = original_finalize  # type: ignore[method-assign]
    assert world.designs.get("tnt_a", design.design_id).status is DesignStatus.FINALIZING
    assert world.pipeline(provider, worker_id="w2").run(message, receive_count=2) is RunResult.SUCCEEDED
    assert provider.calls == 1


def test_two_workers_racing_on_one_design(world: World) -> None:
    """While one worker generates, a duplicate delivery finds the lease taken and backs off."""
    design, message = world.queued_design(room_photo())
    second_result: list[object] = []

    def duplicate_delivery() -> None:
        try:
            second_result.append(world.pipeline(CountingProvider(), worker_id="w2").run(message))
        except DesignBusy as busy:
            second_result.append(busy)

    def race() -> None:
        thread = threading.Thread(target=duplicate_delivery)
        thread.start()
        thread.join()

    provider = CountingProvider(before_start=race)
    assert world.pipeline(provider, worker_id="w1").run(message) is RunResult.SUCCEEDED
    assert isinstance(second_result[0], DesignBusy)
    assert second_result[0].retryable
    assert world.statuses(design.design_id).count("succeeded") == 1


def test_an_expired_lease_is_taken_over(world: World) -> None:
    design, message = world.queued_design(room_photo())
    stale = world.designs.get("tnt_a", design.design_id)
    assert world.designs.acquire_lease(
        stale, "dead-worker", now=datetime.now(UTC) - timedelta(hours=1), seconds=60
    )
    assert world.pipeline(CountingProvider()).run(message) is RunResult.SUCCEEDED


def test_cancel_during_generation_stops_the_pipeline(world: World) -> None:
    design, message = world.queued_design(room_photo())

    def cancel_now() -> None:
        current = world.designs.get("tnt_a", design.design_id)
        world.designs.save_if_unchanged(
            current, current.transition(DesignStatus.CANCELED, now=datetime.now(UTC))
        )

    result = world.pipeline(CountingProvider(before_start=cancel_now)).run(message)
    assert result is RunResult.STOPPED
    stored = world.designs.get("tnt_a", design.design_id)
    assert stored.status is DesignStatus.CANCELED
    assert stored.outputs == ()


def test_oversize_photo_fails_with_image_too_large(world: World) -> None:
    small_limit = world.settings.model_copy(update={"max_upload_bytes": 10_000})
    world.settings = small_limit
    design, message = world.queued_design(room_photo(2000, 1500))
    assert world.pipeline(CountingProvider()).run(message) is RunResult.FAILED
    stored = world.designs.get("tnt_a", design.design_id)
    assert stored.error is not None
    assert stored.error.code == "image_too_large"
    assert world.statuses(design.design_id)[-1] == "failed"


def test_provider_outage_is_retried_then_fails_with_a_clear_code(world: World) -> None:
    provider = CountingProvider(fail_with=ProviderUnavailable("GPU provider answered 503"))
    design, message = world.queued_design(room_photo())
    pipeline = world.pipeline(provider)
    for attempt in range(1, world.settings.max_attempts):
        with pytest.raises(ProviderUnavailable):
            pipeline.run(message, receive_count=attempt)
    assert pipeline.run(message, receive_count=world.settings.max_attempts) is RunResult.FAILED
    stored = world.designs.get("tnt_a", design.design_id)
    assert stored.error is not None
    assert stored.error.code == "provider_unavailable"
    assert provider.calls == world.settings.max_attempts


def test_unexpected_errors_are_retried_then_reported_as_internal(world: World) -> None:
    provider = CountingProvider(fail_with=RuntimeError("bug"))
    design, message = world.queued_design(room_photo())
    with pytest.raises(RuntimeError):
        world.pipeline(provider).run(message, receive_count=1)
    assert (
        world.pipeline(provider).run(message, receive_count=world.settings.max_attempts) is RunResult.FAILED
    )
    stored = world.designs.get("tnt_a", design.design_id)
    assert stored.error is not None
    assert stored.error.code == "internal_error"


def test_missing_design_is_dropped(world: World) -> None:
    message = GenerationMessage(tenant_id="tnt_a", design_id="dsn_gone")
    assert world.pipeline(CountingProvider()).run(message) is RunResult.MISSING


def test_output_metadata_marks_the_preview(world: World) -> None:
    design, message = world.queued_design(room_photo())
    world.pipeline(CountingProvider()).run(message)
    stored = world.designs.get("tnt_a", design.design_id)
    full = stored.outputs[0].variant("full")
    assert full is not None
    import boto3

    head = boto3.client("s3").head_object(Bucket=world.settings.outputs_bucket, Key=full.key)
    assert head["Metadata"]["preview"] == "true"
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    assert design.storage_token in full.key


class EventBridgeRefusesOnce(RecordingEvents):
    """PutEvents fails for one status after the status write succeeded (throttling, an outage)."""

    def __init__(self, bus: StatusEventBus, status: str) -> None:
        super().__init__(bus)
        self._refuse = status

    def publish(self, detail: DesignEventDetail) -> None:
        if detail.status.value == self._refuse:
            self._refuse = ""
            raise EventPublishFailed("ThrottlingException: rate exceeded")
        super().publish(detail)


@pytest.mark.parametrize("status", ["preparing", "finalizing", "succeeded"])
def test_a_status_event_lost_after_its_write_is_sent_on_redelivery(world: World, status: str) -> None:
    world.events = EventBridgeRefusesOnce(StatusEventBus(world.settings.event_bus_name), status)
    provider = CountingProvider()
    design, message = world.queued_design(room_photo())
    with pytest.raises(EventPublishFailed):
        world.pipeline(provider).run(message)  # the status is stored, its event is not sent
    assert status not in world.statuses(design.design_id)
    world.pipeline(provider).run(message, receive_count=2)  # SQS delivers the message again
    assert world.statuses(design.design_id).count(status) == 1
    assert world.statuses(design.design_id)[-1] == "succeeded"
    assert provider.calls == 1
    if status == "succeeded":  # the event sent late is the one stored with the status, to the byte
        (sent,) = [e for e in world.events.published if e.status.value == status]
        assert sent.model_dump_json() == world.designs.get("tnt_a", design.design_id).status_event


def test_redeliveries_resend_the_current_status_event_with_the_same_id(world: World) -> None:
    _, message = world.queued_design(room_photo())
    pipeline = world.pipeline(CountingProvider())
    assert pipeline.run(message) is RunResult.SUCCEEDED
    assert pipeline.run(message, receive_count=2) is RunResult.ALREADY_DONE
    succeeded = [e for e in world.events.published if e.status is DesignStatus.SUCCEEDED]
    assert len(succeeded) == 2
    assert succeeded[0] == succeeded[1]  # consumers deduplicate on event_id (webhooks do)
