"""Webhooks on the embedded local cloud, over real HTTP: the worker's status events go through
EventBridge, the webhook queue and the dispatcher to a real receiver that fails at first."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.local.client import RoomcraftClient
from shared.local.cloud import LocalCloud
from tests.conftest import room_photo
from tests.webhook_receiver import Receiver, Reply, receiving

pytestmark = pytest.mark.e2e

DESIGNS = 5
OWN_URL_DESIGNS = 2
EVENTS_PER_DESIGN = ("design.queued", "design.started", "design.succeeded")


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    # The production schedule is configuration; here it is seconds so the test can watch it all.
    settings = {
        "ROOMCRAFT_WEBHOOK_RETRY_SCHEDULE_SECONDS": "[0, 1, 1, 2, 2, 3, 3, 3]",
        "ROOMCRAFT_WEBHOOK_TIMEOUT_SECONDS": "2",
    }
    with LocalCloud(stage="e2ehooks", settings=settings) as running:
        yield running


@pytest.fixture
def client(cloud: LocalCloud) -> Iterator[RoomcraftClient]:
    api = RoomcraftClient(cloud.api_url, api_key=cloud.api_key)
    yield api
    api.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


def wait_for_unique(receiver: Receiver, count: int, timeout: float = 90.0) -> dict[str, Any]:
    """Delivered requests by webhook-id, once ``count`` distinct ids have been answered 2xx."""
    deadline = time.monotonic() + timeout
    while True:
        delivered = {r.webhook_id: r for r in receiver.delivered()}
        if len(delivered) >= count or time.monotonic() > deadline:
            return delivered
        time.sleep(0.2)


def wait_for_log(
    client: RoomcraftClient,
    endpoint_id: str,
    done: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 30.0,
) -> dict[str, Any]:
    """The endpoint's delivery log, once ``done`` holds for it (or the timeout passed)."""
    deadline = time.monotonic() + timeout
    while True:
        log = client._call("GET", f"/v1/webhook-endpoints/{endpoint_id}/deliveries", params={"limit": 100})
        if done(log["data"]) or time.monotonic() > deadline:
            return log
        time.sleep(0.2)


def test_nothing_is_lost_when_the_receiver_fails_at_first(
    cloud: LocalCloud, client: RoomcraftClient, receiver: Receiver, tmp_path: Path
) -> None:
    # The first deliveries fail in every way a receiver can: errors, a slow answer, a redirect.
    receiver.then(
        *[Reply(500)] * 8,
        Reply(200, delay=3.0),
        Reply(302, headers=(("Location", "https://example.invalid/"),)),
        Reply(503),
    )
    created = client._call("POST", "/v1/webhook-endpoints", json={"url": receiver.url, "description": "e2e"})
    endpoint_id, endpoint_secret = created["id"], created["secret"]

    photo = tmp_path / "room.jpg"
    photo.write_bytes(room_photo())
    upload_id = client.upload(photo, content_type="image/jpeg")
    designs: list[dict[str, Any]] = []
    default_secret = None
    for n in range(DESIGNS):
        own = {"webhook_url": receiver.url + "/own"} if n < OWN_URL_DESIGNS else {}
        design = client.create_design(upload_id=upload_id, room_type="bedroom", style="japandi", **own)
        default_secret = default_secret or design["webhook_secret"]
        designs.append(design)
    assert default_secret is not None
    assert [d["webhook_secret"] is not None for d in designs].count(True) == 1  # shown once

    for design in designs:
        assert client.wait(design["id"], timeout=120)["status"] == "succeeded"

    expected = len(EVENTS_PER_DESIGN) * (DESIGNS + OWN_URL_DESIGNS)
    delivered = wait_for_unique(receiver, expected)
    assert len(delivered) == expected, f"{len(delivered)} of {expected} delivered"

    seen: Counter[tuple[str, str, str]] = Counter()
    for request in delivered.values():
        own_url = request.path.endswith("/own")
        payload = request.verify(default_secret if own_url else endpoint_secret)
        seen[("own" if own_url else "endpoint", payload["data"]["design_id"], payload["type"])] += 1
    wanted = {
        (channel, d["id"], kind)
        for i, d in enumerate(designs)
        for channel in (["endpoint", "own"] if i < OWN_URL_DESIGNS else ["endpoint"])
        for kind in EVENTS_PER_DESIGN
    }
    assert set(seen) == wanted
    assert set(seen.values()) == {1}

    # Failures were retried with the same webhook-id, and the delivery log shows it.
    retried = [r.webhook_id for r in receiver.requests() if r.answered >= 300]
    assert retried
    assert set(retried) <= set(delivered)
    # The receiver counts a 200 it sent after the sender's timeout (the slow reply) as delivered;
    # the sender logged a timeout and its retry lands a few seconds later: wait for the log.
    log = wait_for_log(client, endpoint_id, lambda data: {d["status"] for d in data} == {"delivered"})
    assert {d["status"] for d in log["data"]} == {"delivered"}
    assert max(len(d["attempts"]) for d in log["data"]) > 1
    outcomes = {a["outcome"] for d in log["data"] for a in d["attempts"]}
    assert {"http_error", "delivered"} <= outcomes

    # A test event on request, to the endpoint alone.
    test = client._call("POST", f"/v1/webhook-endpoints/{endpoint_id}/test")
    arrived = wait_for_unique(receiver, expected + 1)
    assert arrived[test["id"]].verify(endpoint_secret)["type"] == "webhook.test"
