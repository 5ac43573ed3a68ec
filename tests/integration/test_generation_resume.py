"""Resuming a design whose worker died after the provider's images were stored (found by tests/fault)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.adapters.s3 import Bucket
from shared.domain.status import DesignStatus
from shared.services.generation import RunResult, WorkKeys
from tests.conftest import room_photo
from tests.integration.test_generation_pipeline import CountingProvider, World


class Died(BaseException):
    """The worker process is gone: not an error the pipeline could handle."""


def die_after_writing(bucket: Bucket, monkeypatch: pytest.MonkeyPatch, fragment: str) -> None:
    original = bucket.write

    def write(key: str, data: bytes, **kwargs: Any) -> None:
        original(key, data, **kwargs)
        if fragment in key:
            raise Died(key)

    monkeypatch.setattr(bucket, "write", write)


@pytest.fixture
def world(aws: dict[str, Any]) -> World:
    from shared.settings import get_settings

    return World(get_settings())


def test_stored_images_are_reused_instead_of_generating_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = CountingProvider()
    design, message = world.queued_design(room_photo(), variants=2)
    with monkeypatch.context() as patch:
        die_after_writing(world.uploads, patch, "/generated/1")
        with pytest.raises(Died):
            world.pipeline(provider, worker_id="w1").run(message)
    assert world.designs.get("tnt_a", design.design_id).status is DesignStatus.GENERATING

    result = world.pipeline(provider, worker_id="w2").run(message, receive_count=2)

    assert result is RunResult.SUCCEEDED
    assert provider.calls == 1
    stored = world.designs.get("tnt_a", design.design_id)
    assert len(stored.outputs) == 2
    assert stored.provider_seconds is not None
    assert stored.provider_seconds > 0


def test_partly_stored_images_are_generated_again(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Died between the images: the missing one cannot be made up, so the provider runs again."""
    provider = CountingProvider()
    design, message = world.queued_design(room_photo(), variants=2)
    with monkeypatch.context() as patch:
        die_after_writing(world.uploads, patch, "/generated/0")
        with pytest.raises(Died):
            world.pipeline(provider, worker_id="w1").run(message)

    assert world.pipeline(provider, worker_id="w2").run(message, receive_count=2) is RunResult.SUCCEEDED
    assert provider.calls == 2
    assert len(world.designs.get("tnt_a", design.design_id).outputs) == 2


def test_a_first_delivery_does_not_look_for_earlier_results(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = CountingProvider()
    design, message = world.queued_design(room_photo())
    looked: list[str] = []
    original = world.uploads.size_of
    monkeypatch.setattr(world.uploads, "size_of", lambda key: looked.append(key) or original(key))

    assert world.pipeline(provider).run(message) is RunResult.SUCCEEDED
    assert WorkKeys("tnt_a", design.design_id).generation not in looked
