"""Status events: one per design transition, the payload of EventBridge events and webhooks."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from shared.domain.design import Design, DesignError
from shared.domain.status import DesignStatus


class OutputSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    url: str
    thumbnail_url: str | None
    width: int
    height: int
    structure_score: float | None = None
    structure_ok: bool | None = None
    attempts: int | None = None
    """Generations of this output (the first included); see docs/quality.md."""


class DesignEventDetail(BaseModel):
    """The ``detail`` of every ``design.*`` EventBridge event; documented in docs/events.md."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    """``{design_id}.v{version}``: stable across redeliveries, so receivers can deduplicate."""
    design_id: str
    tenant_id: str
    status: DesignStatus
    previous_status: DesignStatus | None
    version: int
    progress: float
    origin: str
    occurred_at: datetime
    batch_id: str | None = None
    outputs: tuple[OutputSummary, ...] = ()
    error: DesignError | None = None
    webhook_url: str | None = None
    """The design's own webhook target, if it was created with one (see docs/webhooks.md)."""
    structure_ok: bool | None = None
    """On ``design.succeeded``: false when an output is kept below the structure threshold."""
    regenerations: int = 0

    @property
    def detail_type(self) -> str:
        return f"design.{self.status.value}"


def design_event(
    design: Design, previous: DesignStatus | None, outputs: tuple[OutputSummary, ...] = ()
) -> DesignEventDetail:
    return DesignEventDetail(
        event_id=f"{design.design_id}.v{design.version}",
        design_id=design.design_id,
        tenant_id=design.tenant_id,
        status=design.status,
        previous_status=previous,
        version=design.version,
        progress=design.progress,
        origin=design.origin.value,
        occurred_at=design.updated_at,
        batch_id=design.batch_id,
        outputs=outputs,
        error=design.error,
        webhook_url=design.webhook_url,
        structure_ok=design.structure_ok,
        regenerations=design.regenerations,
    )


def with_status_event(
    design: Design, previous: DesignStatus | None, outputs: tuple[OutputSummary, ...] = ()
) -> tuple[Design, DesignEventDetail]:
    """``design`` carrying the event that announces its status, to be stored with it, and that event."""
    event = design_event(design, previous=previous, outputs=outputs)
    return design.model_copy(update={"status_event": event.model_dump_json()}), event


def stored_status_event(design: Design) -> DesignEventDetail | None:
    """The event stored with the design's current status (None for designs stored before it was kept)."""
    if design.status_event is None:
        return None
    return DesignEventDetail.model_validate_json(design.status_event)
