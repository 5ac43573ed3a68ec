"""The local cloud runs the stale-design sweeper on its schedule, as EventBridge does in AWS
(issue 13 item 4): a design whose generation message was lost still finishes."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared import bootstrap
from shared.domain.messages import GenerationMessage
from shared.local.client import RoomcraftClient
from shared.local.cloud import LocalCloud
from shared.resources import SWEEP_STALE_DESIGNS
from shared.services.designs import DesignRequest
from tests.conftest import room_photo

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(
        stage="sweep",
        settings={"ROOMCRAFT_DESIGN_DEADLINE_SECONDS": "2", "ROOMCRAFT_LOCAL_SCHEDULE_SECONDS": "0.5"},
    ) as running:
        yield running


def test_a_design_whose_message_was_lost_is_queued_again_and_finishes(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert SWEEP_STALE_DESIGNS.id in cloud.schedules
    api = RoomcraftClient(cloud.api_url, api_key=cloud.api_key)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "room.jpg"
        path.write_bytes(room_photo(640, 480))
        upload_id = api.upload(path, content_type="image/jpeg")
    service = bootstrap.design_service()

    class LostOnTheWay:
        """SQS said OK, and the message never arrived (or it was dead-lettered and forgotten)."""

        def enqueue(self, message: GenerationMessage) -> None:
            pass

    with monkeypatch.context() as patch:
        patch.setattr(service, "_queue", LostOnTheWay())
        design = service.create(
            "tnt_default", DesignRequest(upload_id=upload_id, room_type="bedroom", style="japandi", seed=3)
        )
    deadline = time.monotonic() + 120  # bounds a failure only
    status = ""
    while time.monotonic() < deadline:
        status = api._call("GET", f"/v1/designs/{design.design_id}")["status"]
        if status in {"succeeded", "failed", "canceled"}:
            break
        time.sleep(0.5)
    api.close()
    assert status == "succeeded"
    assert cloud.schedules[SWEEP_STALE_DESIGNS.id].runs > 0
