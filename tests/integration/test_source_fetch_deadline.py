"""Issue 13 item 1: a source that drips bytes is cut off by one overall deadline, bounded by the
invocation's remaining time, and the design fails with ``source_fetch_timeout``."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from functions.worker.handler import handler
from shared import bootstrap
from shared.adapters.safe_http import ImageUrlFetcher
from shared.domain.errors import SourceFetchTimeout
from shared.domain.messages import GenerationMessage
from shared.services.designs import DesignRequest
from shared.services.generation import INVOCATION_RESERVE_SECONDS
from tests.handlers.events import lambda_context, sqs_record
from tests.slow_source import slow_source

DEADLINE = 1.5
GENEROUS = 20.0
"""Bounds a failure only (the drip alone lasts 45 s); never a speed check."""


def test_a_dripping_source_is_cut_off_at_the_overall_deadline() -> None:
    fetcher = ImageUrlFetcher(timeout=10.0, deadline=DEADLINE, allow_loopback=True)
    with slow_source() as source:
        started = time.monotonic()
        with pytest.raises(SourceFetchTimeout) as refused:
            fetcher.fetch(source.url, max_bytes=10_000_000)
        elapsed = time.monotonic() - started
        assert source.disconnected.wait(GENEROUS)
    assert refused.value.code == "source_fetch_timeout"
    assert f"{DEADLINE:g} s" in refused.value.message
    assert elapsed < DEADLINE + GENEROUS  # per-read timeouts alone would wait out the whole drip


def test_the_callers_deadline_shortens_the_fetchers_own() -> None:
    fetcher = ImageUrlFetcher(timeout=10.0, deadline=60.0, allow_loopback=True)
    with slow_source() as source, pytest.raises(SourceFetchTimeout) as refused:
        fetcher.fetch(source.url, max_bytes=10_000_000, deadline_seconds=DEADLINE)
    assert refused.value.details == {"seconds": DEADLINE}


@pytest.fixture
def loopback_urls(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROOMCRAFT_ALLOW_LOOPBACK_URLS", "true")
    monkeypatch.setenv("ROOMCRAFT_SOURCE_FETCH_DEADLINE_SECONDS", "60")
    bootstrap.reset()


def test_the_worker_bounds_the_fetch_by_the_invocations_time_left(loopback_urls: None) -> None:
    """Setting 60 s, but the invocation has only ``reserve + 2`` s left: the fetch gets at most 2 s
    and the design fails in this invocation instead of the invocation timing out."""
    with slow_source() as source:
        design = bootstrap.design_service().create(
            "tnt_default",
            DesignRequest(image_url=source.url, room_type="bedroom", style="japandi", seed=1),
        )
        body = GenerationMessage(tenant_id="tnt_default", design_id=design.design_id).model_dump_json()
        context = lambda_context("roomcraft-worker", timeout=int(INVOCATION_RESERVE_SECONDS) + 2)
        response = handler({"Records": [sqs_record(body)]}, context)

    assert response["batchItemFailures"] == []  # done: no redelivery, no DLQ
    failed = bootstrap.design_service().get("tnt_default", design.design_id)
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error.code == "source_fetch_timeout"
    given = re.fullmatch(r"the image URL did not send the image within ([\d.]+) s", failed.error.message)
    assert given is not None, failed.error.message
    assert 0 < float(given[1]) <= 2.0
