"""Issue 13 items 7 and 12: a terminal design is always announced and settled, and its quota unit
comes back only when no paid GPU work happened."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.adapters.eventbridge import EventPublishFailed, StatusEventBus
from shared.domain.design import Design
from shared.domain.errors import ProviderFailed, ProviderUnavailable
from shared.domain.quotas import refund_due
from shared.domain.status import DesignStatus
from shared.services.generation import GenerationPipeline, RunResult
from shared.settings import get_settings
from tests.conftest import room_photo
from tests.integration.test_generation_pipeline import (
    CountingProvider,
    EventBridgeRefusesOnce,
    NoFetch,
    World,
)


@pytest.fixture
def world(aws: dict[str, Any]) -> World:
    return World(get_settings())


def settling_pipeline(world: World, provider: CountingProvider, settled: list[Design]) -> GenerationPipeline:
    return GenerationPipeline(
        settings=world.settings,
        designs=world.designs,
        work_bucket=world.uploads,
        outputs=world.outputs,
        events=world.events,
        fetcher=NoFetch(),
        providers=lambda _name: provider,
        clock=lambda: datetime.now(UTC),
        worker_id="w1",
        on_terminal=settled.append,
    )


def test_a_terminal_event_refused_on_the_last_attempt_is_sent_and_settled(world: World) -> None:
    world.events = EventBridgeRefusesOnce(StatusEventBus(world.settings.event_bus_name), "succeeded")
    settled: list[Design] = []
    design, message = world.queued_design(room_photo())

    result = settling_pipeline(world, CountingProvider(), settled).run(
        message, receive_count=world.settings.max_attempts
    )

    assert result is RunResult.SUCCEEDED or result is RunResult.FAILED  # the message is done
    stored = world.designs.get("tnt_a", design.design_id)
    assert stored.status is DesignStatus.SUCCEEDED
    assert world.statuses(design.design_id).count("succeeded") == 1  # no delivery follows: sent here
    (sent,) = [e for e in world.events.published if e.status is DesignStatus.SUCCEEDED]
    assert sent.model_dump_json() == stored.status_event
    assert [d.design_id for d in settled]
    assert all(d.design_id == design.design_id for d in settled)


def test_a_failed_event_refused_still_settles_and_is_sent_by_the_next_delivery(world: World) -> None:
    world.events = EventBridgeRefusesOnce(StatusEventBus(world.settings.event_bus_name), "failed")
    settled: list[Design] = []
    provider = CountingProvider(fail_with=ProviderFailed("the model refused the input"))
    design, message = world.queued_design(room_photo())
    pipeline = settling_pipeline(world, provider, settled)

    with pytest.raises(EventPublishFailed):
        pipeline.run(message)
    assert world.designs.get("tnt_a", design.design_id).status is DesignStatus.FAILED
    assert len(settled) == 1  # settled although the publish failed
    assert pipeline.run(message, receive_count=2) is RunResult.ALREADY_DONE
    assert world.statuses(design.design_id).count("failed") == 1


def test_a_failure_after_the_gpu_ran_is_not_refunded(world: World) -> None:
    settled: list[Design] = []
    provider = CountingProvider(fail_with=ProviderFailed("the model ran and failed"))
    _design, message = world.queued_design(room_photo())
    assert settling_pipeline(world, provider, settled).run(message) is RunResult.FAILED
    (failed,) = settled
    assert failed.provider_started_at is not None
    assert refund_due(failed) is False


def test_an_outage_before_the_model_ran_is_refunded(world: World) -> None:
    settled: list[Design] = []
    provider = CountingProvider(fail_with=ProviderUnavailable("GPU provider answered 503"))
    _design, message = world.queued_design(room_photo())
    result = settling_pipeline(world, provider, settled).run(
        message, receive_count=world.settings.max_attempts
    )
    assert result is RunResult.FAILED
    (failed,) = settled
    assert failed.error is not None
    assert failed.error.code == "provider_unavailable"
    assert refund_due(failed) is True


def test_an_internal_error_after_the_provider_was_asked_is_not_refunded(world: World) -> None:
    settled: list[Design] = []
    provider = CountingProvider(fail_with=RuntimeError("lost the response"))
    _design, message = world.queued_design(room_photo())
    result = settling_pipeline(world, provider, settled).run(
        message, receive_count=world.settings.max_attempts
    )
    assert result is RunResult.FAILED
    (failed,) = settled
    assert failed.error is not None
    assert failed.error.code == "internal_error"
    assert refund_due(failed) is False
