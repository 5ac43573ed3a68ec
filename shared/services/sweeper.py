"""The stale-design sweeper, run on a schedule: no design stays non-terminal for ever.

A design whose generation message was lost (the API died between storing and queueing it, the
message dead-lettered, a worker crashed on the last delivery) would stay ``queued`` or half-done
with nobody to finish it. Every run looks at the designs still open ``design_deadline_seconds``
after their creation (a sparse index holds only open designs):

1. not swept before: queue it again (``announce``: the worker also sends its stored status event);
   the pipeline resumes from the stored status, and a lease keeps a live worker's run single;
2. swept once and still open as long again after that: fail it with ``design_stalled``, send
   ``design.failed`` and settle it (the quota unit comes back when no paid work happened, the
   batch counts it); a message asks the worker to cancel predictions still running.

It also reports the age of the oldest open design, which the stack alarms on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from aws_lambda_powertools import Logger

from shared.domain.clock import utcnow
from shared.domain.design import Design
from shared.domain.errors import ConcurrentUpdate, DesignStalled
from shared.domain.events import with_status_event
from shared.domain.messages import GenerationMessage
from shared.domain.ports import EventSink, JobQueue
from shared.settings import Settings

logger = Logger(service="roomcraft", child=True)


class OpenDesignView(Protocol):
    @property
    def design(self) -> Design: ...
    @property
    def sweeps(self) -> int: ...
    @property
    def swept_at(self) -> datetime | None: ...


class OpenDesigns(Protocol):
    """The designs table as the sweeper needs it (``DesignRepository`` implements it)."""

    def open_since_before(self, cutoff: datetime, *, limit: int) -> Sequence[OpenDesignView]: ...
    def oldest_open_since(self) -> datetime | None: ...
    def mark_swept(self, design: Design, *, at: datetime, sweeps: int) -> bool: ...
    def get(self, tenant_id: str, design_id: str) -> Design: ...
    def save_if_unchanged(self, previous: Design, updated: Design) -> None: ...


@dataclass(frozen=True)
class SweepReport:
    requeued: tuple[str, ...]
    failed: tuple[str, ...]
    oldest_open_age_seconds: float
    """0 when no design is open."""


class StaleDesignSweeper:
    def __init__(
        self,
        *,
        settings: Settings,
        designs: OpenDesigns,
        queue: JobQueue,
        events: EventSink,
        on_terminal: Callable[[Design], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._settings = settings
        self._designs = designs
        self._queue = queue
        self._events = events
        self._on_terminal = on_terminal
        self._clock = clock

    def sweep(self) -> SweepReport:
        now = self._clock()
        deadline = timedelta(seconds=self._settings.design_deadline_seconds)
        requeued: list[str] = []
        failed: list[str] = []
        stale = self._designs.open_since_before(now - deadline, limit=self._settings.sweep_limit)
        for found in stale:
            design = found.design
            if found.sweeps == 0:
                if self._requeue(design, now):
                    requeued.append(design.design_id)
            elif (found.swept_at is None or found.swept_at <= now - deadline) and self._fail(design):
                failed.append(design.design_id)
        oldest = self._designs.oldest_open_since()
        age = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
        logger.info(
            "stale designs swept",
            extra={"requeued": len(requeued), "failed": len(failed), "oldest_open_age_seconds": age},
        )
        return SweepReport(requeued=tuple(requeued), failed=tuple(failed), oldest_open_age_seconds=age)

    def _requeue(self, design: Design, now: datetime) -> bool:
        if not self._designs.mark_swept(design, at=now, sweeps=1):
            return False  # finished meanwhile
        self._queue.enqueue(
            GenerationMessage(tenant_id=design.tenant_id, design_id=design.design_id, announce=True)
        )
        logger.warning("stale design queued again", extra={"design_id": design.design_id})
        return True

    def _fail(self, design: Design) -> bool:
        current = self._designs.get(design.tenant_id, design.design_id)
        if current.status.is_terminal:
            return False
        error = DesignStalled(
            f"the design did not finish within {2 * self._settings.design_deadline_seconds} s, even after "
            "it was queued again; the quota unit was given back unless the provider had run"
        )
        stalled, event = with_status_event(
            current.fail(error.code, error.message, now=self._clock()), current.status
        )
        try:
            self._designs.save_if_unchanged(current, stalled)
        except ConcurrentUpdate:
            return False  # a worker moved it on meanwhile: the next run looks again
        logger.error("stale design failed", extra={"design_id": design.design_id, "code": error.code})
        if self._on_terminal is not None:
            self._on_terminal(stalled)
        try:
            self._events.publish(event)
        except Exception:
            logger.exception(
                "design.failed not sent; the worker sends it", extra={"design_id": design.design_id}
            )
            self._queue.enqueue(
                GenerationMessage(tenant_id=design.tenant_id, design_id=design.design_id, announce=True)
            )
            return True
        if stalled.predictions is not None and stalled.predictions.outstanding:
            # The worker holds the provider's credentials: it finds the design failed and cancels.
            self._queue.enqueue(GenerationMessage(tenant_id=design.tenant_id, design_id=design.design_id))
        return True
