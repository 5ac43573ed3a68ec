"""Pipeline overhead: designs through the embedded local cloud with an instant provider.

Everything real but the model: the API over HTTP (uvicorn), DynamoDB, S3, SQS and EventBridge in
the emulator, the worker handler called by the queue poller with real SQS events. The provider
answers at once, so (finished - created) - provider time is what Roomcraft itself adds: queueing,
preparing the photo, storing, rendering the delivered variants, status writes and events.

Two phases:
- ``steady``: a closed loop keeping as many designs in flight as there are worker threads, the
  latency a user sees when the system is not backed up;
- ``burst``: all designs submitted at once, the throughput when it is.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.emulator import photo_like_jpeg
from shared.local.instruments import (
    CallCounter,
    EventRecorder,
    HandlerTimer,
    InstantProvider,
    install_provider,
)

PHOTO_SIZE = (4032, 3024)
"""A 12 MP phone photo: what users upload."""
WORKER_THREADS = 2


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * q
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _parse(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class Phase:
    def __init__(self, api_url: str, api_key: str, upload_id: str, recorder: EventRecorder) -> None:
        self.api_url = api_url
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.upload_id = upload_id
        self.recorder = recorder
        self.api_seconds: dict[str, list[float]] = {"upload": [], "create": [], "get": []}
        self.designs: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def one(self, index: int, http: httpx.Client) -> None:
        started = time.perf_counter()
        slot = http.post(f"{self.api_url}/v1/uploads", json={"content_type": "image/jpeg"})
        slot_in = time.perf_counter() - started
        slot.raise_for_status()  # an upload slot per design, as clients do (the photo is shared)
        started = time.perf_counter()
        response = http.post(
            f"{self.api_url}/v1/designs",
            json={
                "upload_id": self.upload_id,
                "room_type": "living_room",
                "style": "scandinavian",
                "seed": index,
            },
        )
        created_in = time.perf_counter() - started
        response.raise_for_status()
        design_id = response.json()["id"]
        if not self.recorder.wait_terminal(design_id, timeout=300):
            raise RuntimeError(f"design {design_id} did not finish in 300 s")
        started = time.perf_counter()
        final = http.get(f"{self.api_url}/v1/designs/{design_id}")
        got_in = time.perf_counter() - started
        final.raise_for_status()
        with self._lock:
            self.api_seconds["upload"].append(slot_in)
            self.api_seconds["create"].append(created_in)
            self.api_seconds["get"].append(got_in)
            self.designs.append(final.json())

    def run(self, count: int, concurrency: int) -> float:
        started = time.perf_counter()

        def client_loop(indexes: list[int]) -> None:
            threading.current_thread().name = "bench-client"
            with httpx.Client(timeout=60, headers=self.headers) as http:
                for index in indexes:
                    self.one(index, http)

        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="bench-client") as pool:
            futures = [
                pool.submit(client_loop, list(range(n, count, concurrency))) for n in range(concurrency)
            ]
            for future in futures:
                future.result()
        return time.perf_counter() - started

    def summary(self, wall_seconds: float) -> dict[str, Any]:
        succeeded = [d for d in self.designs if d["status"] == "succeeded"]
        overheads, stages = [], {"queue_wait": [], "prepare": [], "provider": [], "finalize": []}
        for design in succeeded:
            created, finished = _parse(design["created_at"]), _parse(design["finished_at"])
            overheads.append(finished - created - (design["provider_seconds"] or 0.0))
            times = {e.status: e.occurred_at for e in self.recorder.for_design(design["id"])}
            if {"queued", "preparing", "generating", "finalizing", "succeeded"} <= times.keys():
                stages["queue_wait"].append(times["preparing"] - times["queued"])
                stages["prepare"].append(times["generating"] - times["preparing"])
                stages["provider"].append(times["finalizing"] - times["generating"])
                stages["finalize"].append(times["succeeded"] - times["finalizing"])
        first = min(_parse(d["created_at"]) for d in succeeded)
        last = max(_parse(d["finished_at"]) for d in succeeded)
        return {
            "designs": len(self.designs),
            "succeeded": len(succeeded),
            "wall_seconds": round(wall_seconds, 2),
            "throughput_per_minute": round(len(succeeded) / (last - first) * 60, 1),
            "overhead_ms": {
                "p50": _ms(percentile(overheads, 0.50)),
                "p95": _ms(percentile(overheads, 0.95)),
                "p99": _ms(percentile(overheads, 0.99)),
                "mean": _ms(statistics.fmean(overheads)),
                "max": _ms(max(overheads)),
            },
            "stage_p50_ms": {name: _ms(percentile(v, 0.5)) for name, v in stages.items() if v},
            "stage_p95_ms": {name: _ms(percentile(v, 0.95)) for name, v in stages.items() if v},
            "api_client_ms": {
                route: {"p50": _ms(percentile(v, 0.5)), "p95": _ms(percentile(v, 0.95))}
                for route, v in self.api_seconds.items()
            },
        }


def run(designs: int = 200, burst: int = 100) -> dict[str, Any]:
    from shared.local.client import RoomcraftClient
    from shared.local.cloud import LocalCloud

    counter, recorder, timer, provider = CallCounter(), EventRecorder(), HandlerTimer(), InstantProvider()
    undo = [counter.install(), recorder.install(), timer.install(), install_provider(provider)]
    photo = photo_like_jpeg(*PHOTO_SIZE, seed=12)
    phases: dict[str, Any] = {}
    try:
        with LocalCloud(stage="benchpipe", worker_threads=WORKER_THREADS) as cloud:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "room.jpg"
                path.write_bytes(photo)
                api = RoomcraftClient(cloud.api_url, api_key=cloud.api_key)
                upload_id = api.upload(path, content_type="image/jpeg")
                api.close()
            for name, count, concurrency in (("steady", designs, WORKER_THREADS), ("burst", burst, 32)):
                if count <= 0:
                    continue
                counter.reset()
                recorder.reset()
                timer.reset()
                phase = Phase(cloud.api_url, cloud.api_key, upload_id, recorder)
                wall = phase.run(count, concurrency)
                summary = phase.summary(wall)
                worker = [i for i in timer.invocations if i.function == "worker"]
                summary["worker_invocations"] = len(worker)
                summary["worker_records"] = sum(i.records for i in worker)
                summary["worker_seconds_per_design"] = round(
                    sum(i.seconds for i in worker) / max(1, summary["succeeded"]), 4
                )
                summary["aws_calls"] = counter.by_role()
                summary["aws_items"] = {
                    f"{role}/{service}:{operation}": n
                    for (role, service, operation), n in counter.items.items()
                }
                summary["generated_twice"] = sum(1 for n in provider.calls.values() if n > 1)
                phases[name] = summary
            storage = storage_per_design(cloud.env, len(photo))
    finally:
        for step in reversed(undo):
            step()
    return {
        "benchmark": "pipeline",
        "method": __doc__.strip().splitlines()[0],
        "photo": f"{PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} JPEG, {len(photo)} bytes, one upload for every design",
        "worker_threads": WORKER_THREADS,
        "provider": "instant (returns the prepared photo; provider_seconds = 0)",
        "phases": phases,
        "storage_bytes_per_design": storage,
    }


def storage_per_design(env: dict[str, str], upload_bytes: int) -> dict[str, float]:
    """Bytes each design leaves in S3 and DynamoDB, averaged over every design the run made."""
    from shared.adapters.aws import client
    from shared.adapters.dynamodb import DesignItem

    s3 = client("s3")

    def bucket_bytes(bucket: str, prefix: str) -> tuple[int, int]:
        total, count = 0, 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                total += int(item["Size"])
                count += 1
        return total, count

    items = list(DesignItem.scan())
    designs = max(1, sum(1 for item in items if item.status == "succeeded"))
    outputs, _ = bucket_bytes(env["ROOMCRAFT_OUTPUTS_BUCKET"], "designs/")
    work, _ = bucket_bytes(env["ROOMCRAFT_UPLOADS_BUCKET"], "work/")
    views = []
    for item in items:
        document = json.loads(item.document)
        for output in document.get("outputs", []):
            views.append(sum(v["bytes"] for v in output["variants"] if v["name"] in {"full", "thumb"}))
    return {
        "designs_counted": designs,
        "outputs": round(outputs / designs),
        "work": round(work / designs),
        "upload": upload_bytes,
        "one_view": round(statistics.fmean(views)) if views else 0,
        "design_item_bytes": round(statistics.fmean(len(item.document) + 200 for item in items)),
    }
