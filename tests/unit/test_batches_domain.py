"""Batch requests (defaults + items) and batch progress, counts and ETA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.domain.batches import batch_progress
from shared.domain.design import Brief, Design, DesignError, SourceImage
from shared.domain.errors import ValidationFailed
from shared.domain.status import DesignStatus
from shared.services.batches import BatchDesign, BatchRequest
from shared.services.designs import DesignRequest

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_batch_items_offer_every_field_of_a_design_request() -> None:
    # A field added to DesignRequest must be settable per batch item too.
    assert set(BatchDesign.model_fields) == set(DesignRequest.model_fields)


def test_one_photo_in_several_styles() -> None:
    request = BatchRequest.model_validate(
        {
            "defaults": {"upload_id": "upl_1", "room_type": "living_room", "variants": 2},
            "designs": [{"style": "japandi"}, {"style": "coastal", "variants": 1}],
        }
    )
    first, second = request.design_requests()
    assert (first.upload_id, first.style, first.variants) == ("upl_1", "japandi", 2)
    assert (second.upload_id, second.style, second.variants) == ("upl_1", "coastal", 1)


def test_several_photos_one_brief_and_an_item_may_bring_its_own_source() -> None:
    request = BatchRequest.model_validate(
        {
            "defaults": {"upload_id": "upl_default", "room_type": "bedroom", "style": "coastal"},
            "designs": [{}, {"upload_id": "upl_2"}, {"image_url": "https://example.com/room.jpg"}],
        }
    )
    sources = [(r.upload_id, r.image_url) for r in request.design_requests()]
    assert sources == [("upl_default", None), ("upl_2", None), (None, "https://example.com/room.jpg")]


def test_an_incomplete_item_names_its_index() -> None:
    request = BatchRequest.model_validate(
        {"defaults": {"upload_id": "u", "room_type": "bedroom"}, "designs": [{"style": "a"}, {}]}
    )
    with pytest.raises(ValidationFailed) as caught:
        request.design_requests()
    assert caught.value.details["item"] == 1
    problems: Any = caught.value.details["problems"]
    assert problems[0]["location"] == "style"


def design(status: DesignStatus, *, eta: datetime | None = None, finished: datetime | None = None) -> Design:
    return Design(
        design_id=f"dsn_{status.value}_{eta}",
        tenant_id="tnt_a",
        status=status,
        source=SourceImage(upload_id="u"),
        brief=Brief(room_type="bedroom", style="japandi", seed=1),
        provider="preview",
        storage_token="t",
        progress=status.progress,
        eta=eta,
        created_at=T0,
        updated_at=T0,
        finished_at=finished,
        error=DesignError(code="image_corrupt", message="x") if status is DesignStatus.FAILED else None,
    )


def test_progress_counts_and_eta_while_running() -> None:
    designs = [
        design(DesignStatus.SUCCEEDED, finished=T0),
        design(DesignStatus.GENERATING, eta=T0 + timedelta(seconds=40)),
        *[design(DesignStatus.QUEUED) for _ in range(25)],
    ]
    progress = batch_progress(designs, now=T0, parallelism=10, seconds_per_design=4.0)
    assert progress.total == 27
    assert progress.counts[DesignStatus.QUEUED] == 25
    assert progress.terminal == 1
    assert not progress.completed
    assert progress.progress == round((1.0 + 0.25) / 27, 3)
    # 25 queued designs in waves of 10: 3 waves of 4 s end before the running design's 40 s.
    assert progress.eta == T0 + timedelta(seconds=40)
    more = batch_progress(designs, now=T0, parallelism=1, seconds_per_design=4.0)
    assert more.eta == T0 + timedelta(seconds=100)


def test_a_batch_is_complete_when_every_design_is_terminal() -> None:
    designs = [
        design(DesignStatus.SUCCEEDED, finished=T0 + timedelta(seconds=5)),
        design(DesignStatus.FAILED, finished=T0 + timedelta(seconds=9)),
        design(DesignStatus.CANCELED, finished=T0 + timedelta(seconds=2)),
    ]
    progress = batch_progress(designs, now=T0 + timedelta(seconds=60), parallelism=10, seconds_per_design=4.0)
    assert progress.completed
    assert (progress.progress, progress.eta) == (1.0, None)
    assert progress.completed_at == T0 + timedelta(seconds=9)
