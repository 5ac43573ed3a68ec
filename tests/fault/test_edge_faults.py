"""Faults at the edges: the customer's webhook receiver down at first, S3 notifications duplicated."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3

from tests.conftest import room_photo
from tests.fault import harness
from tests.fault.conftest import FaultCloud
from tests.fault.test_delivery_faults import check
from tests.handlers.events import s3_object_created
from tests.webhook_receiver import Reply


def test_webhook_receiver_down_for_the_first_attempts(
    fault_cloud: FaultCloud, faults: harness.Faults
) -> None:
    designs = 6
    # The first 2 attempts of every event fail, in the ways a receiver that is down fails:
    # server errors, throttling, and an answer slower than the sender's timeout.
    failures = [Reply(503), Reply(500), Reply(429, headers=(("Retry-After", "1"),)), Reply(200, delay=3.0)]
    fault_cloud.receiver.then(*(failures * (designs * 3 * 2 // len(failures))))
    scenario = fault_cloud.scenario("webhook_receiver_down_first")
    scenario.create(designs, fault_cloud.upload_id)
    scenario.settle()
    report = scenario.report(
        note=f"the first {designs * 3 * 2} webhook requests fail (503, 500, 429, timeout)"
    )

    check(report)
    assert report.details["webhooks"]["attempts"] > report.details["webhooks"]["delivered_ids"], (
        report.message()
    )


def test_s3_notifications_duplicated(fault_cloud: FaultCloud, faults: harness.Faults) -> None:
    faults.deliveries = 3  # every notification, job and event message three times
    env = fault_cloud.cloud.env
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    bucket, queue = env["ROOMCRAFT_INBOX_BUCKET"], env["ROOMCRAFT_INGEST_QUEUE_URL"]
    photos = {f"inbox/tnt_default/faults/room-{n}.jpg": room_photo(480 + 8 * n, 360) for n in range(6)}

    def drop(item: tuple[str, bytes]) -> tuple[str, int, str]:
        key, body = item
        etag = s3.put_object(
            Bucket=bucket, Key=key, Body=body, Metadata={"room-type": "bedroom", "style": "coastal"}
        )["ETag"]
        return key, len(body), etag.strip('"')

    with ThreadPoolExecutor(max_workers=4) as pool:
        dropped = list(pool.map(drop, photos.items()))
    # And S3 itself sends some notifications twice more (at-least-once delivery).
    for key, size, etag in dropped[::2]:
        body = s3_object_created(bucket, key, size=size, etag=etag)
        sqs.send_message(QueueUrl=queue, MessageBody=body, DelaySeconds=0)
        sqs.send_message(QueueUrl=queue, MessageBody=body)

    scenario = fault_cloud.scenario("s3_notifications_duplicated")
    manifests = {f"outbox/tnt_default/{key.split('/', 2)[2]}/manifest.json" for key in photos}
    deadline = time.monotonic() + 180  # bounds a failure only
    while time.monotonic() < deadline and not manifests <= outbox(s3, bucket):
        time.sleep(0.5)
    scenario.design_ids = sorted({e.design_id for e in fault_cloud.recorder.events if e.origin == "s3"})
    scenario.settle()
    report = scenario.report(note="3 deliveries of every message, plus 2 extra S3 notifications for half")
    report.details["photos"] = len(photos)
    report.details["manifests_missing"] = sorted(manifests - outbox(s3, bucket))

    check(report)
    assert report.created == len(photos), report.message()
    assert report.succeeded == len(photos), report.message()
    assert report.details["manifests_missing"] == [], report.message()


def outbox(s3: Any, bucket: str) -> set[str]:
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="outbox/"):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return keys
