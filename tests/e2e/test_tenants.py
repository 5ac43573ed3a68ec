"""Tenants on the embedded local cloud over HTTP: the admin CLI, isolation, quotas, a batch to the end."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from shared.cli import main
from shared.local.client import ApiError, RoomcraftClient
from shared.local.cloud import LocalCloud
from tests.conftest import room_photo

pytestmark = pytest.mark.e2e


def admin(cloud: LocalCloud, capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main(["admin", "--endpoint-url", cloud.moto.url, *argv]) == 0
    return json.loads(capsys.readouterr().out)


def photo(tmp_path: Path) -> Path:
    path = tmp_path / "room.jpg"
    path.write_bytes(room_photo())
    return path


def test_a_tenant_made_with_the_admin_cli_works_alone_until_its_key_is_revoked(
    cloud: LocalCloud, client: RoomcraftClient, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    admin(cloud, capsys, "tenant", "create", "Acme Homes", "--id", "tnt_acme", "--daily-designs", "3")
    key = admin(cloud, capsys, "key", "create", "tnt_acme", "--name", "e2e")
    acme = RoomcraftClient(cloud.api_url, api_key=key["api_key"])
    try:
        upload_id = acme.upload(photo(tmp_path))
        mine = acme.create_design(upload_id=upload_id, room_type="bedroom", style="japandi")
        listed = acme._call("GET", "/v1/designs")["data"]
        assert [d["id"] for d in listed] == [mine["id"]]  # nothing of the default tenant
        with pytest.raises(ApiError) as caught:
            client.get_design(mine["id"])
        assert (caught.value.status, caught.value.code) == (404, "design_not_found")
        assert admin(cloud, capsys, "key", "list", "tnt_acme")[0]["last_used_at"] is not None

        admin(cloud, capsys, "key", "revoke", key["key_id"])
        with pytest.raises(ApiError) as caught:
            acme.get_design(mine["id"])
        assert (caught.value.status, caught.value.code) == (401, "api_key_revoked")
    finally:
        acme.close()


def test_parallel_requests_over_http_start_exactly_the_quota(
    cloud: LocalCloud, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    admin(cloud, capsys, "tenant", "create", "Burst", "--id", "tnt_burst", "--daily-designs", "3")
    key = admin(cloud, capsys, "key", "create", "tnt_burst")["api_key"]
    headers = {"Authorization": f"Bearer {key}"}
    burst = RoomcraftClient(cloud.api_url, api_key=key)
    upload_id = burst.upload(photo(tmp_path))
    burst.close()
    body = {"upload_id": upload_id, "room_type": "kitchen", "style": "industrial"}

    def post(_: int) -> httpx.Response:
        return httpx.post(f"{cloud.api_url}/v1/designs", json=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(post, range(8)))
    assert sorted(a.status_code for a in answers) == [202] * 3 + [429] * 5
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.json()["error"]["code"] == "daily_quota_exceeded"
    assert int(refused.headers["Retry-After"]) > 0


@pytest.fixture
def batch_events(cloud: LocalCloud) -> str:
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName="e2e-batch-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = cloud.env["ROOMCRAFT_EVENT_BUS_NAME"]
    events.put_rule(
        Name="e2e-batches", EventBusName=bus, EventPattern=json.dumps({"detail-type": ["batch.completed"]})
    )
    events.put_targets(Rule="e2e-batches", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return str(url)


def test_a_batch_runs_to_the_end_and_is_announced_once(
    client: RoomcraftClient, batch_events: str, tmp_path: Path
) -> None:
    upload_id = client.upload(photo(tmp_path))
    created = client._call(
        "POST",
        "/v1/batches",
        json={
            "defaults": {"upload_id": upload_id, "room_type": "living_room"},
            "designs": [{"style": "japandi"}, {"style": "coastal"}, {"style": "art_deco"}],
        },
        headers={"Idempotency-Key": "e2e-batch"},
    )
    deadline = time.monotonic() + 90
    batch = created
    while batch["status"] != "completed" and time.monotonic() < deadline:
        time.sleep(0.5)
        batch = client._call("GET", f"/v1/batches/{created['id']}")
    assert batch["status"] == "completed", batch["counts"]
    assert batch["counts"]["succeeded"] == 3
    assert (batch["progress"], batch["eta"]) == (1.0, None)
    assert all(d["outputs"] for d in batch["designs"])

    sqs = boto3.client("sqs")
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while not found and time.monotonic() < deadline:
        found = sqs.receive_message(QueueUrl=batch_events, WaitTimeSeconds=1).get("Messages", [])
    assert len(found) == 1
    detail = json.loads(found[0]["Body"])["detail"]
    assert (detail["batch_id"], detail["succeeded"], detail["total"]) == (created["id"], 3, 3)
    assert sqs.receive_message(QueueUrl=batch_events, WaitTimeSeconds=1).get("Messages", []) == []
