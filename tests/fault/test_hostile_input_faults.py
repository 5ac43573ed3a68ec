"""Hostile or careless input (issue 13 items 1 and 2): a source that drips its bytes, and inbox keys
the outbox cannot repeat. Nothing is lost, and other tenants' designs go on."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import httpx
import pytest

from shared.cli import main
from tests.conftest import room_photo
from tests.fault import harness
from tests.fault.conftest import FaultCloud
from tests.fault.test_delivery_faults import check
from tests.fault.test_edge_faults import outbox
from tests.slow_source import slow_source


def admin(fault_cloud: FaultCloud, capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main(["admin", "--endpoint-url", fault_cloud.cloud.moto.url, *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_slow_source(
    fault_cloud: FaultCloud, faults: harness.Faults, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tenant's image server sends one byte every 0.25 s (each well inside the per-read timeout);
    another tenant stages ordinary photos at the same time."""
    admin(fault_cloud, capsys, "tenant", "create", "Slow Source", "--id", "tnt_slowsource")
    key = admin(fault_cloud, capsys, "key", "create", "tnt_slowsource", "--name", "faults")
    scenario = fault_cloud.scenario("slow_source")
    with (
        slow_source() as source,
        httpx.Client(
            base_url=fault_cloud.cloud.api_url,
            timeout=30,
            headers={"Authorization": f"Bearer {key['api_key']}"},
        ) as slow_tenant,
    ):
        slow_ids = []
        for seed in range(2):
            answer = slow_tenant.post(
                "/v1/designs",
                json={"image_url": source.url, "room_type": "bedroom", "style": "japandi", "seed": seed},
            )
            assert answer.status_code == 202, answer.text
            slow_ids.append(answer.json()["id"])
        scenario.create(6, fault_cloud.upload_id)  # the other tenant's ordinary designs
        scenario.settle()
        report = scenario.report(note="2 designs of one tenant fetch from a source dripping 1 byte / 0.25 s")
        slow = {d: slow_tenant.get(f"/v1/designs/{d}").json() for d in slow_ids}
    report.details["slow_designs"] = {
        d: (s["status"], (s.get("error") or {}).get("code")) for d, s in slow.items()
    }

    check(report)
    assert report.succeeded == report.created, report.message()  # the other tenant was not starved
    assert set(report.details["slow_designs"].values()) == {("failed", "source_fetch_timeout")}, (
        report.message()
    )
    assert report.dead_letters == 0, report.message()


HOSTILE_KEYS = (
    "faults//double-slash.jpg",
    "/leading-slash.jpg",
    "faults/../escape.jpg",
    "faults/./here.jpg",
    "faults/" + "n" * 990 + ".jpg",
)


def test_hostile_inbox_key(fault_cloud: FaultCloud, faults: harness.Faults) -> None:
    """Keys that looped the ingest for ever (``//``) or would make outbox keys past S3's limit,
    dropped in the same notification stream as ordinary photos."""
    env = fault_cloud.cloud.env
    s3 = boto3.client("s3", endpoint_url=fault_cloud.cloud.moto.url)
    bucket = env["ROOMCRAFT_INBOX_BUCKET"]
    options = {"room-type": "bedroom", "style": "coastal"}
    good = {f"inbox/tnt_default/hostile/room-{n}.jpg": room_photo(480 + 8 * n, 360) for n in range(3)}
    hostile = {f"inbox/tnt_default/{path}": room_photo(400, 300) for path in HOSTILE_KEYS}
    for key, body in {**hostile, **good}.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body, Metadata=options)

    scenario = fault_cloud.scenario("hostile_inbox_key")
    manifests = {f"outbox/tnt_default/{key.split('/', 2)[2]}/manifest.json" for key in good}
    refused_prefix = "quarantine/tnt_default/refused-keys/"
    deadline = time.monotonic() + 180  # bounds a failure only

    def refused() -> list[str]:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=refused_prefix).get("Contents", [])
        return sorted(item["Key"] for item in listed if item["Key"].endswith(".error.json"))

    while time.monotonic() < deadline and not (
        manifests <= outbox(s3, bucket) and len(refused()) >= len(hostile)
    ):
        time.sleep(0.5)
    scenario.design_ids = sorted({e.design_id for e in fault_cloud.recorder.events if e.origin == "s3"})
    scenario.settle()
    report = scenario.report(note=f"{len(hostile)} hostile keys among {len(good)} ordinary drops")
    reports = [json.loads(s3.get_object(Bucket=bucket, Key=k)["Body"].read()) for k in refused()]
    report.details["refused"] = sorted(r["source"]["key"] for r in reports)
    report.details["manifests_missing"] = sorted(manifests - outbox(s3, bucket))
    left = s3.list_objects_v2(Bucket=bucket, Prefix="inbox/tnt_default/").get("Contents", [])
    report.details["hostile_left_in_inbox"] = sorted(set(hostile) & {item["Key"] for item in left})

    check(report)
    assert report.created == len(good), report.message()
    assert report.succeeded == len(good), report.message()
    assert report.details["manifests_missing"] == [], report.message()
    assert report.details["refused"] == sorted(hostile), report.message()
    assert {r["code"] for r in reports} == {"inbox_key_refused"}, report.message()
    assert report.details["hostile_left_in_inbox"] == [], report.message()
    assert report.dead_letters == 0, report.message()
