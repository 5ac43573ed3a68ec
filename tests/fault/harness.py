"""Fault injection on the embedded local cloud: faulty queue delivery, killed workers, racing workers.

The local cloud runs the real handlers against the emulator; these pieces break it on purpose:

- ``FaultyPoller`` replaces the local cloud's queue poller. It can deliver every message three
  times (one copy concurrently, as when a visibility timeout expires mid-run, one after the first
  finished, as when a delete was lost), hand a message to a second "container" at the same time
  (two workers racing), and it turns a killed worker into a failed batch, as Lambda does.
- ``kill_points``: a worker process dies (no ``finally``, no lease release) right after a chosen
  durable write, between two steps of the pipeline; the message comes back after its visibility
  timeout, which is longer than the lease, as on AWS (720 s against 150 s).
- ``per_container_pipelines``: every poller thread gets its own pipeline and so its own worker id,
  as separate Lambda containers have (the local cloud otherwise shares one per process).
- ``Scenario``: creates designs through the HTTP API, waits until they are all terminal and the
  queue is empty, and counts what the issue asks: created, terminal, lost, generated twice, and
  duplicate webhook ids.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from shared.local.cloud import LambdaContext, QueuePoller, sqs_event
from shared.local.instruments import EventRecorder
from shared.resources import GENERATE_QUEUE, QUEUES, QueueSpec

LEASE_SECONDS = 2
REDELIVERY_SECONDS = LEASE_SECONDS + 1
"""How long a failed or abandoned message stays invisible: longer than the lease, as on AWS."""
TERMINAL = {"succeeded", "failed", "canceled"}


class WorkerKilled(BaseException):
    """The worker process died here: nothing after this point runs, not even ``finally`` blocks."""


_dead = threading.local()


@dataclass
class Faults:
    """What the poller and the pipeline hooks do; a scenario sets it, the fixture resets it."""

    deliveries: int = 1
    """Deliver each message of ``duplicated_queues`` this many times (1 = normally)."""
    duplicated_queues: frozenset[str] = frozenset(q.id for q in QUEUES)
    race: bool = False
    """Hand each new generate message to a second container at the same moment."""
    kill_plan: tuple[str, ...] = ()
    """Kill points handed out in turn, one per design, when its worker first reaches a kill point."""
    kills: dict[str, str] = field(default_factory=dict)
    """design_id -> the kill point where its first worker dies."""

    received: Counter[str] = field(default_factory=Counter)
    killed: dict[str, str] = field(default_factory=dict)
    raced: set[str] = field(default_factory=set)
    side_threads: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


FAULTS = Faults()


def reset_faults() -> None:
    global FAULTS
    FAULTS = Faults()


def current() -> Faults:
    return FAULTS


class _FaultySqs:
    """The poller's SQS client, with deletes that can be 'lost' and stale receipts tolerated."""

    def __init__(self, inner: Any, queue: QueueSpec) -> None:
        self._inner = inner
        self._queue = queue
        self.keep: dict[str, bool] = {}
        """receipt handle -> make visible again (True) or just leave it in flight (False)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def delete_message(self, **kwargs: Any) -> Any:
        visible_again = self.keep.pop(kwargs["ReceiptHandle"], None)
        if visible_again is None:
            return self._inner.delete_message(**kwargs)
        if visible_again:  # the delete was lost and the visibility timeout ran out
            self.change_message_visibility(
                QueueUrl=kwargs["QueueUrl"], ReceiptHandle=kwargs["ReceiptHandle"], VisibilityTimeout=0
            )
        return {}

    def change_message_visibility(self, **kwargs: Any) -> Any:
        try:
            return self._inner.change_message_visibility(**kwargs)
        except Exception:  # a newer copy holds the message now (or it is gone): as on SQS, no effect
            return {}


def _surviving_kills(handler: Callable[..., Any]) -> Callable[..., Any]:
    def invoke(event: dict[str, Any], context: Any) -> Any:
        try:
            return handler(event, context)
        except WorkerKilled as killed:
            # Lambda reports the crashed invocation; the whole batch becomes visible again later.
            raise RuntimeError(f"worker killed: {killed}") from None

    return invoke


class FaultyPoller(QueuePoller):
    def __init__(self, spec: QueueSpec, queue_url: str, handler: Any, *, retry_delay: int = 1) -> None:
        super().__init__(spec, queue_url, _surviving_kills(handler), retry_delay=REDELIVERY_SECONDS)
        self._faulty = _FaultySqs(self._sqs, spec)
        self._sqs = self._faulty
        self._raw_handler = handler

    def _deliver(self, messages: list[dict[str, Any]], memory_mb: int, timeout: int) -> None:
        faults = current()
        for message in messages:
            with faults.lock:
                faults.received[message["MessageId"]] += 1
                copy = faults.received[message["MessageId"]]
                first_race = (
                    faults.race
                    and self.spec.id == GENERATE_QUEUE.id
                    and message["MessageId"] not in faults.raced
                )
                if first_race:
                    faults.raced.add(message["MessageId"])
            if self.spec.id in faults.duplicated_queues and copy < faults.deliveries:
                # Copy 1 becomes visible at once (a concurrent copy can be received while it
                # runs); later copies lose their delete and come back after they finish.
                if copy == 1:
                    self._faulty.change_message_visibility(
                        QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
                self._faulty.keep[message["ReceiptHandle"]] = copy > 1
            if first_race:
                self._start_second_container(message, memory_mb, timeout)
        super()._deliver(messages, memory_mb, timeout)

    def _start_second_container(self, message: dict[str, Any], memory_mb: int, timeout: int) -> None:
        event = sqs_event([message], self._arn, os.environ.get("AWS_REGION", "us-east-1"))
        context = LambdaContext(
            function_name="roomcraft-worker-b", memory_limit_in_mb=memory_mb, timeout_seconds=timeout
        )
        handler = _surviving_kills(self._raw_handler)

        def run() -> None:
            # A failed duplicate would simply be retried by SQS; the original delivery carries on.
            with contextlib.suppress(Exception):
                handler(event, context)

        thread = threading.Thread(target=run, name=f"poller-{self.spec.id}-racer", daemon=True)
        current().side_threads.append(thread)
        thread.start()


# --- pipeline hooks ---------------------------------------------------------------------------
KILL_POINTS = (
    "after:preparing",
    "after:prepared-object",
    "after:generating",
    "after:generated-object",
    "after:finalizing",
    "after:output-object",
    "after:succeeded",
)


def _maybe_kill(design_id: str, point: str) -> None:
    faults = current()
    with faults.lock:
        if faults.kill_plan and design_id not in faults.kills:
            faults.kills[design_id] = faults.kill_plan[len(faults.kills) % len(faults.kill_plan)]
        if faults.kills.get(design_id) != point or design_id in faults.killed:
            return
        faults.killed[design_id] = point
    _dead.value = True
    raise WorkerKilled(f"{design_id} at {point}")


def _design_of_key(key: str) -> str | None:
    # work/<tenant>/<design>/... and designs/<tenant>/<design>/...
    parts = key.split("/")
    return parts[2] if len(parts) > 3 and parts[0] in {"work", "designs"} else None


@contextmanager
def pipeline_hooks() -> Iterator[None]:
    """Kill points after every durable write of the pipeline; lease release skipped by dead workers."""
    import shared.services.generation as generation
    from shared.adapters.dynamodb import DesignRepository
    from shared.adapters.s3 import Bucket

    original_move = generation.GenerationPipeline._move
    original_write = Bucket.write
    original_release = DesignRepository.release_lease

    def move(self: Any, design: Any, target: Any, **kwargs: Any) -> Any:
        updated = original_move(self, design, target, **kwargs)
        _maybe_kill(design.design_id, f"after:{target.value}")
        return updated

    def write(self: Any, key: str, data: bytes, **kwargs: Any) -> None:
        original_write(self, key, data, **kwargs)
        design_id = _design_of_key(key)
        if design_id is None:
            return
        if key.endswith("/input.jpg"):
            _maybe_kill(design_id, "after:prepared-object")
        elif "/generated/" in key:
            _maybe_kill(design_id, "after:generated-object")
        elif key.startswith("designs/"):
            _maybe_kill(design_id, "after:output-object")

    def release(self: Any, design: Any, owner: str) -> None:
        if getattr(_dead, "value", False):
            _dead.value = False  # the dead process never got here; its lease simply runs out
            return
        original_release(self, design, owner)

    generation.GenerationPipeline._move = move  # type: ignore[method-assign]
    Bucket.write = write  # type: ignore[method-assign]
    DesignRepository.release_lease = release  # type: ignore[method-assign]
    try:
        yield
    finally:
        generation.GenerationPipeline._move = original_move  # type: ignore[method-assign]
        Bucket.write = original_write  # type: ignore[method-assign]
        DesignRepository.release_lease = original_release  # type: ignore[method-assign]


@contextmanager
def per_container_pipelines() -> Iterator[None]:
    """One pipeline (one worker id) per poller thread, as each Lambda container has its own."""
    from shared.bootstrap import workers

    original = workers.generation_pipeline
    local = threading.local()

    def generation_pipeline() -> Any:
        if getattr(local, "pipeline", None) is None:
            local.pipeline = original.__wrapped__()  # type: ignore[attr-defined]
        return local.pipeline

    generation_pipeline.cache_clear = original.cache_clear  # type: ignore[attr-defined]
    workers.generation_pipeline = generation_pipeline  # type: ignore[assignment]
    try:
        yield
    finally:
        workers.generation_pipeline = original


# --- scenario ---------------------------------------------------------------------------------
@dataclass
class FaultReport:
    scenario: str
    created: int
    terminal: int
    lost: int
    generated_twice: int
    duplicate_webhook_ids: int | str
    succeeded: int
    failed: int
    duplicate_events: int
    deliveries: int
    dead_letters: int
    seconds: float
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def message(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def record(report: FaultReport) -> None:
    """Add the report to ``$ROOMCRAFT_FAULT_REPORT`` (``make bench`` collects them into faults.json)."""
    target = os.environ.get("ROOMCRAFT_FAULT_REPORT")
    if not target:
        return
    path = Path(target)
    existing = json.loads(path.read_text()) if path.exists() else {}
    existing[report.scenario] = asdict(report)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(existing, indent=2) + "\n")


def queue_depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


class Scenario:
    def __init__(
        self,
        name: str,
        api_url: str,
        env: dict[str, str],
        recorder: EventRecorder,
        provider: Any,
        receiver: Any = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.receiver = receiver
        self.api_url = api_url
        self.env = env
        self.recorder = recorder
        self.provider = provider
        self.design_ids: list[str] = []
        self._http = httpx.Client(base_url=api_url, timeout=30, headers=headers or {})
        self._started = time.monotonic()
        from shared.adapters.aws import client

        self._dlq_url = env[GENERATE_QUEUE.env_var] + "-dlq"
        self._dead_before = queue_depth(client("sqs"), self._dlq_url)

    def create(self, count: int, upload_id: str) -> list[str]:
        for index in range(count):
            response = self._http.post(
                "/v1/designs",
                json={"upload_id": upload_id, "room_type": "bedroom", "style": "japandi", "seed": index},
            )
            assert response.status_code == 202, response.text
            self.design_ids.append(response.json()["id"])
        return self.design_ids

    def settle(self, timeout: float = 180.0) -> None:
        """Wait until every design is terminal and no queue has anything left, visible or in flight.

        The timeout only bounds a failure (the report then shows what is missing); nothing is timed.
        """
        from shared.adapters.aws import client

        deadline = time.monotonic() + timeout
        for design_id in self.design_ids:
            self.recorder.wait_terminal(design_id, timeout=max(0.1, deadline - time.monotonic()))
        sqs = client("sqs")
        urls = [self.env[q.env_var] for q in QUEUES if q.env_var in self.env]
        quiet = 0
        while time.monotonic() < deadline and quiet < 2:
            quiet = quiet + 1 if all(queue_depth(sqs, url) == 0 for url in urls) else 0
            time.sleep(0.5)
        for thread in current().side_threads:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))

    def report(self, *, note: str = "") -> FaultReport:
        from shared.adapters.aws import client

        statuses = {}
        for design_id in self.design_ids:
            response = self._http.get(f"/v1/designs/{design_id}")
            statuses[design_id] = response.json()["status"]
        self._http.close()
        terminal = [d for d, s in statuses.items() if s in TERMINAL]
        calls = self.provider.calls
        events = [e for e in self.recorder.events if e.design_id in statuses]
        event_ids = Counter(e.event_id for e in events)
        sqs = client("sqs")
        webhook_duplicates: int | str = "n/a (no webhook receiver in this scenario)"
        details: dict[str, Any] = {"not_terminal": {d: s for d, s in statuses.items() if s not in TERMINAL}}
        # Events are at least once (a redelivery sends the stored status event again, with its id):
        # a repeat is counted, not forbidden; a status announced under two ids, or a final status
        # never announced, would be a fault.
        ids_per_status: dict[tuple[str, str], set[str]] = {}
        for event in events:
            ids_per_status.setdefault((event.design_id, str(event.status)), set()).add(event.event_id)
        details["events"] = {
            "conflicting": sum(len(ids) - 1 for ids in ids_per_status.values()),
            "missing": sorted(
                f"{d} {s}" for d, s in statuses.items() if s in TERMINAL and (d, s) not in ids_per_status
            ),
        }
        if self.receiver is not None:
            delivered: Counter[str] = Counter()
            kinds: set[tuple[str, str]] = set()
            attempts = 0
            for request in self.receiver.requests():
                payload = json.loads(request.body)
                if payload.get("data", {}).get("design_id") not in statuses:
                    continue
                attempts += 1
                if 200 <= request.answered < 300:
                    delivered[request.webhook_id] += 1
                    kinds.add((payload["data"]["design_id"], payload["type"]))
            webhook_duplicates = sum(n - 1 for n in delivered.values() if n > 1)
            wanted = {(d, "design.queued") for d in statuses} | {
                (d, f"design.{s}") for d, s in statuses.items() if s in TERMINAL
            }
            details["webhooks"] = {
                "attempts": attempts,
                "delivered_ids": len(delivered),
                "missing": sorted(f"{d} {kind}" for d, kind in wanted - kinds),
            }
        return FaultReport(
            scenario=self.name,
            created=len(self.design_ids),
            terminal=len(terminal),
            lost=len(self.design_ids) - len(terminal),
            generated_twice=sum(1 for d in self.design_ids if calls.get(d, 0) > 1),
            duplicate_webhook_ids=webhook_duplicates,
            succeeded=sum(1 for s in statuses.values() if s == "succeeded"),
            failed=sum(1 for s in statuses.values() if s == "failed"),
            duplicate_events=sum(n - 1 for n in event_ids.values() if n > 1),
            deliveries=sum(current().received.values()),
            dead_letters=queue_depth(sqs, self._dlq_url) - self._dead_before,
            seconds=round(time.monotonic() - self._started, 1),
            note=note,
            details=details,
        )
