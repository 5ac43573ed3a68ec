"""The polling fallback's cadence: delayed checks that back off, with jitter, up to the deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.domain.design import Predictions
from shared.services.generation import GenerationPipeline
from shared.settings import Settings

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def pipeline_at(elapsed: float, **settings: Any) -> GenerationPipeline:
    none: Any = None
    return GenerationPipeline(
        settings=Settings(**settings),
        designs=none,
        work_bucket=none,
        outputs=none,
        events=none,
        fetcher=none,
        providers=none,
        clock=lambda: T0 + timedelta(seconds=elapsed),
    )


PREDICTIONS = Predictions(ids=("p1",), started_at=T0)


@pytest.mark.parametrize(
    ("elapsed", "low", "high"),
    [(0, 9, 11), (10, 9, 11), (60, 27, 33), (200, 90, 110), (600, 108, 132), (880, 21, 21)],
)
def test_checks_back_off_from_min_to_max_and_land_just_after_the_deadline(
    elapsed: float, low: int, high: int
) -> None:
    delays = {pipeline_at(elapsed).check_delay(PREDICTIONS) for _ in range(50)}
    assert all(low <= delay <= high for delay in delays), delays


def test_a_check_is_never_delayed_beyond_what_sqs_allows() -> None:
    pipeline = pipeline_at(
        0,
        prediction_check_min_seconds=5000,
        prediction_check_max_seconds=5000,
        prediction_timeout_seconds=10**5,
    )
    assert pipeline.check_delay(PREDICTIONS) == 900


def test_past_the_deadline_the_next_check_comes_at_once() -> None:
    assert pipeline_at(5000).check_delay(PREDICTIONS) == 1
