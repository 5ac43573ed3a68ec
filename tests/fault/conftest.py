"""One embedded local cloud for every fault scenario, with the fault harness installed."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import shared.local.cloud as cloud_module
from shared.local.client import RoomcraftClient
from shared.local.cloud import LocalCloud
from shared.local.instruments import EventRecorder, InstantProvider, install_provider
from tests.conftest import room_photo
from tests.fault import harness

pytestmark = pytest.mark.e2e


@dataclass
class FaultCloud:
    cloud: LocalCloud
    recorder: EventRecorder
    provider: InstantProvider
    upload_id: str

    def scenario(self, name: str) -> harness.Scenario:
        return harness.Scenario(name, self.cloud.api_url, self.cloud.env, self.recorder, self.provider)


@pytest.fixture(scope="module")
def fault_cloud() -> Iterator[FaultCloud]:
    recorder, provider = EventRecorder(), InstantProvider()
    undo = [recorder.install(), install_provider(provider)]
    with (
        pytest.MonkeyPatch.context() as patch,
        harness.pipeline_hooks(),
        harness.per_container_pipelines(),
    ):
        patch.setattr(cloud_module, "QueuePoller", harness.FaultyPoller)
        try:
            with LocalCloud(
                stage="fault",
                worker_threads=2,
                settings={"ROOMCRAFT_LEASE_SECONDS": str(harness.LEASE_SECONDS)},
            ) as cloud:
                api = RoomcraftClient(cloud.api_url)
                with tempfile.TemporaryDirectory() as tmp:
                    path = Path(tmp) / "room.jpg"
                    path.write_bytes(room_photo(640, 480))
                    upload_id = api.upload(path, content_type="image/jpeg")
                api.close()
                yield FaultCloud(cloud, recorder, provider, upload_id)
        finally:
            for step in reversed(undo):
                step()


@pytest.fixture
def faults(fault_cloud: FaultCloud) -> Iterator[harness.Faults]:
    """Fresh fault settings and counters for one scenario."""
    harness.reset_faults()
    fault_cloud.recorder.reset()
    fault_cloud.provider.calls.clear()
    yield harness.current()
    harness.reset_faults()
