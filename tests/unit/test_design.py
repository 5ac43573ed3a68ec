from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from shared.domain.design import Brief, Design, SourceImage
from shared.domain.errors import IllegalTransition
from shared.domain.events import design_event
from shared.domain.ids import new_id, new_ulid
from shared.domain.status import DesignStatus

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def make_design(**changes: object) -> Design:
    values: dict[str, object] = {
        "design_id": "dsn_1",
        "tenant_id": "tnt_a",
        "source": SourceImage(upload_id="upl_1", key="uploads/tnt_a/upl_1"),
        "brief": Brief(room_type="living_room", style="scandinavian", seed=7),
        "provider": "preview",
        "storage_token": "tok",
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(changes)
    return Design.model_validate(values)


def test_transition_bumps_version_and_times() -> None:
    design = make_design()
    later = T0 + timedelta(seconds=3)
    preparing = design.transition(DesignStatus.PREPARING, now=later, expected_seconds=10)
    assert preparing.version == design.version + 1
    assert preparing.started_at == later
    assert preparing.updated_at == later
    assert preparing.eta == later + timedelta(seconds=10)
    assert preparing.progress == DesignStatus.PREPARING.progress
    assert design.status is DesignStatus.QUEUED, "the original is immutable"


def test_terminal_transition_sets_finished_and_clears_eta() -> None:
    design = make_design(eta=T0 + timedelta(seconds=30))
    failed = design.fail("image_corrupt", "the photo is truncated", now=T0)
    assert failed.status is DesignStatus.FAILED
    assert failed.finished_at == T0
    assert failed.eta is None
    assert failed.error is not None
    assert failed.error.code == "image_corrupt"


def test_illegal_transition_is_refused() -> None:
    with pytest.raises(IllegalTransition):
        make_design().transition(DesignStatus.SUCCEEDED, now=T0)


def test_started_at_is_kept_on_later_steps() -> None:
    preparing = make_design().transition(DesignStatus.PREPARING, now=T0)
    generating = preparing.transition(DesignStatus.GENERATING, now=T0 + timedelta(seconds=5))
    assert generating.started_at == T0


@pytest.mark.parametrize("variants", [0, 5])
def test_brief_bounds_variants(variants: int) -> None:
    with pytest.raises(ValidationError):
        Brief(room_type="bedroom", style="japandi", variants=variants, seed=1)


def test_event_id_is_stable_per_version() -> None:
    design = make_design()
    first = design_event(design, previous=None)
    again = design_event(design, previous=None)
    assert first.event_id == again.event_id == "dsn_1.v1"
    assert first.detail_type == "design.queued"
    moved = design_event(design.transition(DesignStatus.PREPARING, now=T0), previous=DesignStatus.QUEUED)
    assert moved.event_id == "dsn_1.v2"
    assert moved.previous_status is DesignStatus.QUEUED


def test_ulids_sort_by_time_and_carry_a_prefix() -> None:
    earlier, later = new_ulid(1_700_000_000_000), new_ulid(1_700_000_000_001)
    assert earlier < later
    assert len(earlier) == 26
    assert new_id("dsn").startswith("dsn_")
