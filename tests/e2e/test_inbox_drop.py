"""Drop a folder of photos into the S3 inbox of the embedded local cloud, like a partner would.

Real S3 → SQS notifications (moto server), the real ingest, worker and writeback handlers
behind queue pollers, duplicated and out-of-order notifications, bad files mixed in. Every good
photo must yield exactly one design and one result set; every bad one exactly one error report.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import httpx
import pytest

from shared.local.client import RoomcraftClient
from shared.local.cloud import LocalCloud
from tests.conftest import room_photo
from tests.handlers.events import s3_object_created, s3_test_event

pytestmark = pytest.mark.e2e

TENANT = "tnt_default"
MAX_UPLOAD_BYTES = 200_000

# 50 good photos in four folders, options from every source.
AGENCY_DEFAULTS = {"room_type": "living_room", "style": "scandinavian", "batch": "spring-listings"}
GOOD: dict[str, dict[str, str]] = {
    **{f"agency/house-a/room-{n:02}.jpg": {} for n in range(15)},
    **{f"agency/house-b/bed {n:02}.jpg": {"room-type": "bedroom"} for n in range(15)},
    **{f"solo/kitchen-{n:02}.png": {"room-type": "kitchen", "style": "industrial"} for n in range(10)},
    **{
        f"solo/nested/deeper/bath-{n:02}.jpg": {"room-type": "bathroom", "style": "coastal"}
        for n in range(10)
    },
}
SIDECARS = {"agency/house-a/room-00.json": {"style": "japandi", "variants": 2}}

TRUNCATED = room_photo(400, 300)[:1500]
# path: (bytes, metadata, expected code); the last two pass the ingest checks and fail in the worker.
BAD: dict[str, tuple[bytes, dict[str, str], str]] = {
    "solo/notes.txt": (
        b"call the agent about the keys",
        {"room-type": "bedroom", "style": "coastal"},
        "image_unsupported_type",
    ),
    "solo/empty.jpg": (b"", {"room-type": "bedroom", "style": "coastal"}, "image_empty"),
    "solo/huge.jpg": (
        b"\xff\xd8\xff\xe0" + b"\x00" * (MAX_UPLOAD_BYTES + 1),
        {"room-type": "bedroom", "style": "coastal"},
        "image_too_large",
    ),
    "agency/house-a/colour.jpg": (room_photo(400, 300), {"colour": "blue"}, "unknown_option"),
    "agency/house-b/vapor.jpg": (room_photo(400, 300), {"style": "vaporwave"}, "unknown_style"),
    "solo/cut.jpg": (TRUNCATED, {"room-type": "bedroom", "style": "coastal"}, "image_corrupt"),
    "solo/tiny.jpg": (room_photo(120, 90), {"room-type": "bedroom", "style": "coastal"}, "image_too_small"),
}
FAILING_IN_WORKER = {"solo/cut.jpg", "solo/tiny.jpg"}


def inbox_key(path: str) -> str:
    return f"inbox/{TENANT}/{path}"


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(stage="inbox", settings={"ROOMCRAFT_MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES)}) as running:
        yield running


def list_keys(s3: Any, bucket: str, prefix: str) -> set[str]:
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return keys


def drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


@pytest.fixture(scope="module")
def status_events(cloud: LocalCloud) -> str:
    """Our own queue subscribed to the design events (the stack's webhook queue is the dispatcher's)."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName="e2e-inbox-status-capture")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = cloud.env["ROOMCRAFT_EVENT_BUS_NAME"]
    pattern = {"source": ["roomcraft"], "detail-type": [{"prefix": "design."}]}
    events.put_rule(Name="e2e-inbox-status-capture", EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(
        Rule="e2e-inbox-status-capture", EventBusName=bus, Targets=[{"Id": "capture", "Arn": arn}]
    )
    return str(url)


def test_a_dropped_folder_yields_one_result_set_per_photo_and_one_report_per_bad_file(
    cloud: LocalCloud, status_events: str
) -> None:
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    bucket = cloud.env["ROOMCRAFT_INBOX_BUCKET"]
    ingest_queue = cloud.env["ROOMCRAFT_INGEST_QUEUE_URL"]

    # Options files first (as `roomcraft inbox drop` does), then photos, 8 at a time like `aws s3 cp`.
    s3.put_object(Bucket=bucket, Key=inbox_key("agency/roomcraft.json"), Body=json.dumps(AGENCY_DEFAULTS))
    for path, sidecar in SIDECARS.items():
        s3.put_object(Bucket=bucket, Key=inbox_key(path), Body=json.dumps(sidecar))
    s3.put_object(Bucket=bucket, Key=inbox_key("solo/.DS_Store"), Body=b"\x00\x00\x00\x01Bud1")
    uploads = [
        (path, room_photo(400, 300, fmt="PNG" if path.endswith(".png") else "JPEG"), meta)
        for path, meta in GOOD.items()
    ]
    uploads += [(path, body, meta) for path, (body, meta, _) in BAD.items()]

    def put(item: tuple[str, bytes, dict[str, str]]) -> tuple[str, int, str]:
        path, body, metadata = item
        etag = s3.put_object(Bucket=bucket, Key=inbox_key(path), Body=body, Metadata=metadata)["ETag"]
        return path, len(body), etag.strip('"')

    with ThreadPoolExecutor(max_workers=8) as pool:
        written = list(pool.map(put, uploads))

    # Duplicates: every fifth object's notification once more right away (it overtakes the
    # original, which waits out the queue's settle delay) and once more with the delay.
    for path, size, etag in written[::5]:
        body = s3_object_created(bucket, inbox_key(path), size=size, etag=etag)
        sqs.send_message(QueueUrl=ingest_queue, MessageBody=body, DelaySeconds=0)
        sqs.send_message(QueueUrl=ingest_queue, MessageBody=body)
    sqs.send_message(QueueUrl=ingest_queue, MessageBody=s3_test_event(bucket), DelaySeconds=0)

    expected = {f"outbox/{TENANT}/{p}/manifest.json" for p in [*GOOD, *FAILING_IN_WORKER]}
    expected |= {f"outbox/{TENANT}/{p}.error.json" for p in BAD}
    deadline = time.monotonic() + 480  # only bounds a failure; a busy 2-core box needs ~2 min
    while not expected <= (outbox := list_keys(s3, bucket, f"outbox/{TENANT}/")):
        assert time.monotonic() < deadline, f"still missing: {sorted(expected - outbox)[:5]}"
        time.sleep(1)

    def read(key: str) -> dict[str, Any]:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    # Every good photo: one succeeded manifest, its images copied beside it, behind the CDN too.
    manifests = {path: read(f"outbox/{TENANT}/{path}/manifest.json") for path in GOOD}
    assert {m["status"] for m in manifests.values()} == {"succeeded"}
    assert len({m["design_id"] for m in manifests.values()}) == len(GOOD)
    for path, manifest in manifests.items():
        assert manifest["source"]["key"] == inbox_key(path)
        assert manifest["origin"] == "s3"
        assert len(manifest["outputs"]) == manifest["brief"]["variants"]
        for output in manifest["outputs"]:
            assert {file["key"] for file in output["files"].values()} <= outbox
            assert set(output["files"]) >= {"full", "thumb"}
    sample = manifests["agency/house-a/room-01.jpg"]["outputs"][0]["files"]["full"]
    assert httpx.get(sample["url"]).status_code == 200
    assert s3.get_object(Bucket=bucket, Key=sample["key"])["ContentType"] == "image/jpeg"

    # Options: metadata over sidecar over the nearest roomcraft.json (two folders up for house-a).
    briefs = {path: m["brief"] for path, m in manifests.items()}
    assert (
        briefs["agency/house-a/room-00.jpg"]["style"],
        briefs["agency/house-a/room-00.jpg"]["variants"],
    ) == ("japandi", 2)
    assert briefs["agency/house-a/room-01.jpg"]["room_type"] == "living_room"
    assert (
        briefs["agency/house-b/bed 03.jpg"]["room_type"],
        briefs["agency/house-b/bed 03.jpg"]["style"],
    ) == ("bedroom", "scandinavian")
    assert briefs["solo/nested/deeper/bath-00.jpg"]["room_type"] == "bathroom"

    # Batches: one per folder (the label keeps the agency's folders apart, not merged).
    batches = {
        folder: {m["batch_id"] for p, m in manifests.items() if p.rsplit("/", 1)[0] == folder}
        for folder in ("agency/house-a", "agency/house-b", "solo", "solo/nested/deeper")
    }
    assert all(len(ids) == 1 and None not in ids for ids in batches.values())
    assert len(set().union(*batches.values())) == 4

    # Every bad file: one error report with its code, and its original in quarantine.
    for path, (_, _, code) in BAD.items():
        report = read(f"outbox/{TENANT}/{path}.error.json")
        assert report["code"] == code, (path, report)
        assert report["stage"] == ("design" if path in FAILING_IN_WORKER else "ingest")
        assert report["quarantine_key"] == f"quarantine/{TENANT}/{path}"
    assert list_keys(s3, bucket, f"quarantine/{TENANT}/") == {f"quarantine/{TENANT}/{p}" for p in BAD}
    assert not any(".DS_Store" in key for key in outbox)
    assert not any(key.endswith(".json.error.json") for key in outbox)  # options files are not photos

    # Exactly one design per photo that got one, all origin s3, the same ids as the manifests.
    api = RoomcraftClient(cloud.api_url, api_key=cloud.api_key)
    designs, cursor = [], None
    while True:
        page = api._call(
            "GET", "/v1/designs", params={"limit": 100, **({"cursor": cursor} if cursor else {})}
        )
        designs += page["data"]
        if not (cursor := page["next_cursor"]):
            break
    api.close()
    assert len(designs) == len(GOOD) + len(FAILING_IN_WORKER)
    assert {d["origin"] for d in designs} == {"s3"}
    failed = {read(f"outbox/{TENANT}/{p}.error.json")["design_id"] for p in FAILING_IN_WORKER}
    assert {d["id"] for d in designs} == {m["design_id"] for m in manifests.values()} | failed

    # Status events fired as for API designs, marked s3, each design announced once.
    events = [e["detail"] for e in drain(sqs, status_events)]
    queued = Counter(e["design_id"] for e in events if e["status"] == "queued")
    assert set(queued.values()) == {1}
    assert set(queued) == {d["id"] for d in designs}
    assert {e["origin"] for e in events} == {"s3"}
    assert all(e["batch_id"] for e in events)

    # Nothing dead-lettered: duplicates and the test event were absorbed, not failed.
    dlq = sqs.receive_message(QueueUrl=ingest_queue + "-dlq", WaitTimeSeconds=0).get("Messages", [])
    assert dlq == []
