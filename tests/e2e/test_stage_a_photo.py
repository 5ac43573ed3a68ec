"""The whole path on the embedded local cloud, over real HTTP: upload → design → outputs → events."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from PIL import Image

from shared.local.client import RoomcraftClient
from shared.local.cloud import LocalCloud
from tests.conftest import room_photo
from tests.photo_server import photo_server

pytestmark = pytest.mark.e2e


def upload_bytes(client: RoomcraftClient, data: bytes, tmp_path: Path, name: str = "room.jpg") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return client.upload(path, content_type="image/jpeg")


def drain(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    bodies: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture(scope="module")
def status_events(cloud: LocalCloud) -> str:
    """A queue of our own subscribed to the bus's design events, as a customer's rule would be
    (the stack's webhook queue is consumed by the dispatcher)."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName="e2e-status-capture")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = cloud.env["ROOMCRAFT_EVENT_BUS_NAME"]
    pattern = {"source": ["roomcraft"], "detail-type": [{"prefix": "design."}]}
    events.put_rule(Name="e2e-status-capture", EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule="e2e-status-capture", EventBusName=bus, Targets=[{"Id": "capture", "Arn": arn}])
    return str(url)


def test_photo_is_staged_to_cdn_urls_with_status_events(
    cloud: LocalCloud, client: RoomcraftClient, tmp_path: Path, status_events: str
) -> None:
    upload_id = upload_bytes(client, room_photo(1600, 1200), tmp_path)
    created = client.create_design(
        upload_id=upload_id,
        room_type="living_room",
        style="scandinavian",
        palette="#f5f0e6,#8a9a5b",
        variants=2,
        seed=7,
    )
    assert created["status"] == "queued"
    design = client.wait(created["id"], timeout=60)

    assert design["status"] == "succeeded", design.get("error")
    assert design["progress"] == 1.0
    assert design["source"] == {"upload_id": upload_id, "image_url": None, "width": 1600, "height": 1200}
    assert [o["index"] for o in design["outputs"]] == [0, 1]
    for output in design["outputs"]:
        assert output["preview"] is True
        assert set(output["variants"]) >= {"full", "thumb"}
        response = httpx.get(output["url"])
        assert response.status_code == 200
        image = Image.open(io.BytesIO(response.content))
        assert image.format == "JPEG"
        assert (image.width, image.height) == (output["width"], output["height"])
        thumb = httpx.get(output["thumbnail_url"])
        assert Image.open(io.BytesIO(thumb.content)).format == "WEBP"
        assert output["url"].startswith(cloud.env["ROOMCRAFT_CDN_BASE_URL"])
    assert design["outputs"][0]["url"] != design["outputs"][1]["url"]

    events = [e for e in drain(status_events) if e["detail"]["design_id"] == created["id"]]
    statuses = [e["detail"]["status"] for e in sorted(events, key=lambda e: e["detail"]["version"])]
    assert statuses == ["queued", "preparing", "generating", "finalizing", "succeeded"]
    succeeded = (
        events[-1]
        if events[-1]["detail"]["status"] == "succeeded"
        else next(e for e in events if e["detail"]["status"] == "succeeded")
    )
    assert succeeded["source"] == "roomcraft"
    assert succeeded["detail-type"] == "design.succeeded"
    assert [o["url"] for o in succeeded["detail"]["outputs"]] == [o["url"] for o in design["outputs"]]


def test_designs_list_newest_first_with_cursor(client: RoomcraftClient, tmp_path: Path) -> None:
    upload_id = upload_bytes(client, room_photo(), tmp_path)
    ids = [
        client.create_design(upload_id=upload_id, room_type="bedroom", style=s)["id"]
        for s in ("japandi", "coastal", "industrial")
    ]
    first = client._call("GET", "/v1/designs", params={"limit": 2})
    assert [d["id"] for d in first["data"]] == ids[::-1][:2]
    second = client._call("GET", "/v1/designs", params={"limit": 2, "cursor": first["next_cursor"]})
    assert second["data"][0]["id"] == ids[0]


def test_cancel_a_queued_design(cloud: LocalCloud, client: RoomcraftClient, tmp_path: Path) -> None:
    upload_id = upload_bytes(client, room_photo(), tmp_path)
    created = client.create_design(upload_id=upload_id, room_type="kitchen", style="industrial")
    response = httpx.post(f"{cloud.api_url}/v1/designs/{created['id']}/cancel", headers=cloud.auth_headers)
    if response.status_code == 409:  # the worker got there first: then it is too late
        assert response.json()["error"]["code"] == "design_not_cancelable"
        return
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    final = client.wait(created["id"], timeout=30)
    assert final["status"] == "canceled"
    assert final["outputs"] == []


def _bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"this is not an image at all", "image_unsupported_type"),
        (room_photo()[:2000], "image_corrupt"),
        (_bomb_png(), "image_too_many_pixels"),
    ],
    ids=["not-an-image", "truncated-jpeg", "decompression-bomb"],
)
def test_bad_photos_fail_with_a_clear_code(
    client: RoomcraftClient, tmp_path: Path, data: bytes, code: str
) -> None:
    upload_id = upload_bytes(client, data, tmp_path)
    created = client.create_design(upload_id=upload_id, room_type="bedroom", style="japandi")
    design = client.wait(created["id"], timeout=30)
    assert design["status"] == "failed"
    assert design["error"]["code"] == code
    assert design["outputs"] == []


def test_empty_upload_is_refused(client: RoomcraftClient, tmp_path: Path) -> None:
    upload_id = upload_bytes(client, b"", tmp_path)
    created = client.create_design(upload_id=upload_id, room_type="bedroom", style="japandi")
    design = client.wait(created["id"], timeout=30)
    assert (design["status"], design["error"]["code"]) == ("failed", "image_empty")


def test_design_from_an_image_url(client: RoomcraftClient) -> None:
    # Another site on loopback serves the photo (local mode allows loopback, not the cloud's own ports).
    with photo_server({"/room.png": (room_photo(fmt="PNG"), "image/png")}) as site:
        created = client.create_design(
            image_url=f"{site}/room.png", room_type="dining_room", style="art_deco"
        )
        design = client.wait(created["id"], timeout=30)
    assert design["status"] == "succeeded", design.get("error")
    assert design["source"]["image_url"].endswith("/room.png")


def test_image_url_that_is_missing_fails_the_design(client: RoomcraftClient) -> None:
    with photo_server({}) as site:
        created = client.create_design(image_url=f"{site}/nothing.png", room_type="bedroom", style="japandi")
        design = client.wait(created["id"], timeout=30)
    assert (design["status"], design["error"]["code"]) == ("failed", "source_fetch_failed")


def test_malformed_generate_message_reaches_the_dlq_and_others_go_on(
    cloud: LocalCloud, client: RoomcraftClient, tmp_path: Path
) -> None:
    sqs = boto3.client("sqs")
    queue_url = cloud.env["ROOMCRAFT_GENERATE_QUEUE_URL"]
    sqs.send_message(QueueUrl=queue_url, MessageBody='{"design": "no such shape"}')
    upload_id = upload_bytes(client, room_photo(), tmp_path)
    created = client.create_design(upload_id=upload_id, room_type="bathroom", style="coastal")
    assert client.wait(created["id"], timeout=30)["status"] == "succeeded"
    dlq_url = queue_url + "-dlq"
    found: list[dict[str, Any]] = []
    import time

    deadline = time.monotonic() + 30
    while not found and time.monotonic() < deadline:
        found = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages", [])
    assert found, "the malformed message should be dead-lettered after maxReceiveCount deliveries"
    assert found[0]["Body"] == '{"design": "no such shape"}'
