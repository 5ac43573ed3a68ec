"""In-process instruments for benchmarks (``bench/``) and fault tests (``tests/fault``) on the local cloud.

Laptop-only, like the rest of ``shared.local``: never shipped to Lambda.

- ``CallCounter``: every AWS API call made by botocore (boto3 and PynamoDB alike), by the thread
  that made it, so API, worker and benchmark-client calls can be told apart.
- ``EventRecorder``: every design status event the code publishes, with the time it was published.
- ``HandlerTimer``: the duration of every Lambda handler invocation the local cloud makes.
- ``InstantProvider``: an inference provider that returns at once (the prepared photo, as is).

Each ``install`` patches a class or module attribute and returns a callable that undoes it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.providers.base import Completed, GeneratedImage, GenerationRequest


def role_of_thread(name: str) -> str:
    """``poller-generate-0`` -> ``worker`` etc.; uvicorn/AnyIO threads -> ``api``; others -> ``client``."""
    if name.startswith("poller-"):
        from shared.resources import QUEUES

        queue_id = name.split("-")[1]
        return next((q.consumer for q in QUEUES if q.id == queue_id), queue_id)
    if name.startswith(("AnyIO", "api", "ThreadPoolExecutor")) or "asyncio" in name:
        return "api"
    return "client"


class CallCounter:
    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str, str]] = Counter()
        self.items: Counter[tuple[str, str, str]] = Counter()
        """PutEvents entries / SendMessageBatch entries, when one call carries many."""
        self._lock = threading.Lock()

    def install(self) -> Callable[[], None]:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        counter = self

        def counting(client: Any, operation: str, params: dict[str, Any]) -> Any:
            service = client.meta.service_model.service_name
            role = role_of_thread(threading.current_thread().name)
            entries = params.get("Entries")
            with counter._lock:
                counter.calls[(role, service, operation)] += 1
                counter.items[(role, service, operation)] += len(entries) if isinstance(entries, list) else 1
            return original(client, operation, params)

        BaseClient._make_api_call = counting

        def undo() -> None:
            BaseClient._make_api_call = original

        return undo

    def by_role(self) -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = defaultdict(dict)
        for (role, service, operation), count in sorted(self.calls.items()):
            result[role][f"{service}:{operation}"] = count
        return dict(result)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.items.clear()


@dataclass
class RecordedEvent:
    design_id: str
    status: str
    version: int
    event_id: str
    origin: str
    occurred_at: float
    published_at: float


@dataclass
class EventRecorder:
    events: list[RecordedEvent] = field(default_factory=list)
    _waiters: dict[str, threading.Event] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    terminal: frozenset[str] = frozenset({"succeeded", "failed", "canceled"})

    def install(self) -> Callable[[], None]:
        from shared.adapters.eventbridge import StatusEventBus

        original = StatusEventBus.publish
        recorder = self

        def recording(bus: Any, detail: Any) -> None:
            original(bus, detail)
            recorder.record(detail)

        StatusEventBus.publish = recording  # type: ignore[method-assign,assignment]

        def undo() -> None:
            StatusEventBus.publish = original  # type: ignore[method-assign]

        return undo

    def record(self, detail: Any) -> None:
        event = RecordedEvent(
            design_id=detail.design_id,
            status=str(detail.status.value),
            version=detail.version,
            event_id=detail.event_id,
            origin=str(detail.origin),
            occurred_at=detail.occurred_at.timestamp(),
            published_at=time.time(),
        )
        with self._lock:
            self.events.append(event)
            waiter = self._waiters.setdefault(event.design_id, threading.Event())
        if event.status in self.terminal:
            waiter.set()

    def wait_terminal(self, design_id: str, timeout: float) -> bool:
        with self._lock:
            waiter = self._waiters.setdefault(design_id, threading.Event())
        return waiter.wait(timeout)

    def for_design(self, design_id: str) -> list[RecordedEvent]:
        with self._lock:
            return [e for e in self.events if e.design_id == design_id]

    def reset(self) -> None:
        with self._lock:
            self.events.clear()
            self._waiters.clear()


@dataclass
class Invocation:
    function: str
    seconds: float
    records: int
    failed: int


class HandlerTimer:
    """Wraps the handlers the local cloud loads (``shared.local.cloud.load_handler``)."""

    def __init__(self) -> None:
        self.invocations: list[Invocation] = []
        self._lock = threading.Lock()

    def install(self) -> Callable[[], None]:
        import shared.local.cloud as cloud

        original = cloud.load_handler
        timer = self

        def timed_loader(function_id: str) -> Any:
            handler = original(function_id)
            if handler is None:
                return None

            def timed(event: dict[str, Any], context: Any) -> Any:
                started = time.perf_counter()
                failed = len(event.get("Records", []))
                try:
                    response = handler(event, context)
                    failed = len((response or {}).get("batchItemFailures", []))
                    return response
                finally:
                    with timer._lock:
                        timer.invocations.append(
                            Invocation(
                                function_id,
                                time.perf_counter() - started,
                                len(event.get("Records", [])),
                                failed,
                            )
                        )

            return timed

        cloud.load_handler = timed_loader

        def undo() -> None:
            cloud.load_handler = original

        return undo

    def reset(self) -> None:
        with self._lock:
            self.invocations.clear()


class InstantProvider:
    """Completes at once with the prepared photo as every variant: no model, no network, no wait."""

    name = "preview"
    typical_seconds = 0.0

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def start(self, request: GenerationRequest) -> Completed:
        with self._lock:
            self.calls[request.design_id] += 1
        image = GeneratedImage(request.image, "image/jpeg", {"provider": "bench-instant"})
        return Completed(images=(image,) * request.variants, provider_seconds=0.0)


def install_provider(provider: Any, name: str = "preview") -> Callable[[], None]:
    """Make ``provider_for(name, ...)`` return ``provider`` (the worker looks providers up there)."""
    import shared.providers.registry as registry

    original = registry.provider_for

    def provider_for(requested: str, *args: Any, **kwargs: Any) -> Any:
        if requested == name:
            return provider
        return original(requested, *args, **kwargs)

    registry.provider_for = provider_for  # type: ignore[assignment]

    def undo() -> None:
        registry.provider_for = original

    return undo
