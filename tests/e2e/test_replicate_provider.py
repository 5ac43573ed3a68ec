"""Replicate on the embedded local cloud, over real HTTP: the CLI (polling path, as on a laptop
with a real token) and the signed webhook back to the API (as in the cloud)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.cli import EXIT_OK, main
from shared.local.client import RoomcraftClient
from shared.local.cloud import LocalCloud, free_port
from tests.conftest import room_photo
from tests.fakes.replicate_server import FakeReplicate

pytestmark = pytest.mark.e2e


@pytest.fixture
def replicate(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeReplicate]:
    with FakeReplicate(mode="complete", webhook_retry_delay=0.5, webhook_attempts=20) as fake:
        for name, value in {
            "REPLICATE_API_TOKEN": fake.token,
            "ROOMCRAFT_REPLICATE_BASE_URL": fake.url,
            "ROOMCRAFT_REPLICATE_OUTPUT_HOSTS": '["127.0.0.1"]',
            "ROOMCRAFT_REPLICATE_WAIT_SECONDS": "0",  # never inline: exercise the later completion
            "ROOMCRAFT_STRUCTURE_RETRIES": "0",  # the fake's placeholder images are not the photo's room
        }.items():
            monkeypatch.setenv(name, value)
        yield fake


def test_roomcraft_stage_with_the_replicate_provider(
    replicate: FakeReplicate,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ROOMCRAFT_PREDICTION_CHECK_MIN_SECONDS", "1")
    photo = tmp_path / "room.jpg"
    photo.write_bytes(room_photo())
    code = main(
        ["stage", str(photo), "--provider", "replicate", "--out", str(tmp_path / "out"), "--timeout", "90"]
    )
    printed = capsys.readouterr().out
    assert code == EXIT_OK, printed
    assert "(replicate provider)" in printed
    assert "PREVIEW" not in printed
    (design_dir,) = (tmp_path / "out").iterdir()
    design = json.loads((design_dir / "design.json").read_text())
    assert design["provider"] == "replicate"
    assert design["provider_seconds"] == pytest.approx(4.2)
    assert len(replicate.creates) == 1
    assert replicate.deliveries == []  # no public API URL locally: the delayed check completed it


def test_the_signed_webhook_completes_the_design(replicate: FakeReplicate, tmp_path: Path) -> None:
    port = free_port()
    settings = {
        "ROOMCRAFT_PROVIDER": "replicate",
        "ROOMCRAFT_API_BASE_URL": f"http://127.0.0.1:{port}",
        "ROOMCRAFT_PREDICTION_CHECK_MIN_SECONDS": "300",  # far away: only the webhook can finish it
        "ROOMCRAFT_PREDICTION_CHECK_MAX_SECONDS": "300",
        "REPLICATE_WEBHOOK_SECRET": replicate.webhook_secret,
    }
    with LocalCloud(api_port=port, stage="e2e-replicate", settings=settings) as cloud:
        client = RoomcraftClient(cloud.api_url, api_key=cloud.api_key)
        photo = tmp_path / "room.jpg"
        photo.write_bytes(room_photo())
        upload_id = client.upload(photo)
        created = client.create_design(
            upload_id=upload_id, room_type="living_room", style="scandinavian", variants=2
        )
        design = client.wait(created["id"], timeout=60)
        client.close()
    assert design["status"] == "succeeded", design
    assert len(design["outputs"]) == 2
    assert len(replicate.creates) == 2  # one prediction per variant for the default model
    assert any(delivery.status == 200 for delivery in replicate.deliveries)
