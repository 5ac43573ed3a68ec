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
from tests.webhook_receiver import Receiver, receiving

pytestmark = pytest.mark.e2e


@dataclass
class FaultCloud:
    cloud: LocalCloud
    recorder: EventRecorder
    provider: InstantProvider
    upload_id: str
    receiver: Receiver
    """Subscribed to every design event of the tenant (a webhook endpoint registered at start)."""

    def scenario(self, name: str) -> harness.Scenario:
        return harness.Scenario(
            name,
            self.cloud.api_url,
            self.cloud.env,
            self.recorder,
            self.provider,
            self.receiver,
            headers=self.cloud.auth_headers,
        )


@pytest.fixture(scope="module")
def fault_cloud() -> Iterator[FaultCloud]:
    recorder, provider = EventRecorder(), InstantProvider()
    undo = [recorder.install(), install_provider(provider)]
    with (
        pytest.MonkeyPatch.context() as patch,
        harness.pipeline_hooks(),
        harness.per_container_pipelines(),
        receiving() as receiver,
    ):
        patch.setattr(cloud_module, "QueuePoller", harness.FaultyPoller)
        try:
            with LocalCloud(
                stage="fault",
                worker_threads=2,
                settings={
                    "ROOMCRAFT_LEASE_SECONDS": str(harness.LEASE_SECONDS),
                    # Seconds instead of the production hours, so retries happen within a test.
                    "ROOMCRAFT_WEBHOOK_RETRY_SCHEDULE_SECONDS": "[0, 1, 1, 2, 2, 3, 3, 3]",
                    "ROOMCRAFT_WEBHOOK_TIMEOUT_SECONDS": "2",
                    # The slow-source scenario: a source fetch ends within 2 s, whatever it sends.
                    "ROOMCRAFT_SOURCE_FETCH_DEADLINE_SECONDS": "2",
                },
            ) as cloud:
                api = RoomcraftClient(cloud.api_url, api_key=cloud.api_key)
                api._call(
                    "POST", "/v1/webhook-endpoints", json={"url": receiver.url, "description": "faults"}
                )
                with tempfile.TemporaryDirectory() as tmp:
                    path = Path(tmp) / "room.jpg"
                    path.write_bytes(room_photo(640, 480))
                    upload_id = api.upload(path, content_type="image/jpeg")
                api.close()
                yield FaultCloud(cloud, recorder, provider, upload_id, receiver)
        finally:
            for step in reversed(undo):
                step()


@pytest.fixture
def faults(fault_cloud: FaultCloud) -> Iterator[harness.Faults]:
    """Fresh fault settings and counters for one scenario."""
    harness.reset_faults()
    fault_cloud.recorder.reset()
    fault_cloud.provider.calls.clear()
    fault_cloud.receiver.script.clear()
    yield harness.current()
    harness.reset_faults()
    fault_cloud.receiver.script.clear()
