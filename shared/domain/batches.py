"""Batches: up to 50 designs asked for together (one photo in several styles, or several photos).

A batch holds the ids of its designs; its progress is computed from them. It completes when every
design is terminal, and that moment is announced once with a ``batch.completed`` event.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from shared.domain.design import Design
from shared.domain.status import DesignStatus

MAX_BATCH_DESIGNS = 50


class Batch(BaseModel):
    model_config = ConfigDict(frozen=True)

    batch_id: str
    tenant_id: str
    design_ids: tuple[str, ...]
    created_at: datetime
    request_id: str | None = None
    origin: str = "api"
    """``api`` (all designs given at once) or ``s3``: an inbox drop, open, its designs joining one by one."""

    @property
    def total(self) -> int:
        return len(self.design_ids)


class BatchProgress(BaseModel):
    """A batch's state, aggregated from its designs."""

    model_config = ConfigDict(frozen=True)

    total: int
    counts: dict[DesignStatus, int]
    terminal: int
    progress: float
    eta: datetime | None
    completed_at: datetime | None

    @property
    def completed(self) -> bool:
        return self.terminal == self.total


def batch_progress(
    designs: Sequence[Design], *, now: datetime, parallelism: int, seconds_per_design: float
) -> BatchProgress:
    """Counts per status, mean progress, and an ETA.

    The ETA is the later of: the latest ETA of a design already being worked on, and the time the
    queued designs need in waves of ``parallelism`` (the worker's concurrency), each wave taking
    ``seconds_per_design``.
    """
    counts = Counter(d.status for d in designs)
    terminal = sum(n for status, n in counts.items() if status.is_terminal)
    total = len(designs)
    progress = sum(d.progress for d in designs) / total if total else 1.0
    if total and terminal == total:
        finished = [d.finished_at for d in designs if d.finished_at is not None]
        return BatchProgress(
            total=total,
            counts=dict(counts),
            terminal=terminal,
            progress=1.0,
            eta=None,
            completed_at=max(finished) if finished else None,
        )
    running_etas = [
        d.eta for d in designs if not d.status.is_terminal and d.status is not DesignStatus.QUEUED and d.eta
    ]
    queued = counts.get(DesignStatus.QUEUED, 0)
    waves = math.ceil(queued / max(parallelism, 1))
    candidates = [*running_etas]
    if queued:
        candidates.append(now + timedelta(seconds=waves * seconds_per_design))
    return BatchProgress(
        total=total,
        counts=dict(counts),
        terminal=terminal,
        progress=round(progress, 3),
        eta=max(candidates) if candidates else None,
        completed_at=None,
    )


class BatchEventDetail(BaseModel):
    """The ``detail`` of the ``batch.completed`` EventBridge event; documented in docs/tenants.md."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    """``{batch_id}.completed.{total}``: stable, so receivers can deduplicate. An inbox batch that
    gets more photos after completing completes again, with a new total and so a new id."""
    batch_id: str
    tenant_id: str
    total: int
    succeeded: int
    failed: int
    canceled: int
    design_ids: tuple[str, ...]
    occurred_at: datetime

    @property
    def detail_type(self) -> str:
        return "batch.completed"


class BatchTally(BaseModel):
    """The batch item's counters after an update: outcomes recorded so far, out of ``total``."""

    model_config = ConfigDict(frozen=True)

    total: int
    succeeded: int = 0
    failed: int = 0
    canceled: int = 0
    completion_claimed: bool = False

    @property
    def terminal(self) -> int:
        return self.succeeded + self.failed + self.canceled

    @property
    def all_terminal(self) -> bool:
        """Every design finished (never true before the first design joined an open batch)."""
        return self.total > 0 and self.terminal >= self.total
