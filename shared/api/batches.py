"""``/v1/batches``: up to 50 designs in one request, followed as one."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from shared.api.deps import Batches, CurrentTenant, OutputUrls, UrlFor
from shared.api.schemas import DesignView
from shared.domain.status import DesignStatus
from shared.services.batches import BatchRequest, BatchState

router = APIRouter(prefix="/v1/batches", tags=["batches"])


def _items_need(rule: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema: where ``defaults`` (or its absence) does not satisfy ``rule``, every item must."""
    return {
        "if": {"properties": {"defaults": {"not": rule}}},
        "then": {"properties": {"designs": {"items": rule}}},
    }


_HAS_A_SOURCE = {"anyOf": [{"required": ["upload_id"]}, {"required": ["image_url"]}]}


class CreateBatch(BatchRequest):
    model_config = {
        "json_schema_extra": {
            # What the API checks on each item merged over the defaults (422 with details.item):
            # a room type, a style and a photo, each from the item or from the defaults.
            "allOf": [
                _items_need({"required": ["room_type"]}),
                _items_need({"required": ["style"]}),
                _items_need(_HAS_A_SOURCE),
            ],
            "examples": [
                {
                    "defaults": {"upload_id": "upl_01JD3F8Y3W2Q9Z5T6V7X8Y9Z0A", "room_type": "living_room"},
                    "designs": [{"style": "scandinavian"}, {"style": "japandi"}, {"style": "industrial"}],
                },
                {
                    "defaults": {"room_type": "bedroom", "style": "coastal", "variants": 2},
                    "designs": [
                        {"upload_id": "upl_01JD3F8Y3W2Q9Z5T6V7X8Y9Z0A"},
                        {"upload_id": "upl_01JD3F8Y3W2Q9Z5T6V7X8Y9Z0B"},
                    ],
                },
            ],
        }
    }


class BatchView(BaseModel):
    id: str
    status: Literal["running", "completed"]
    """``completed`` once every design is terminal (succeeded, failed or canceled)."""
    total: int
    counts: dict[DesignStatus, int]
    """Designs per status; every status is listed."""
    finished: int
    progress: float
    """Mean progress of the designs, 0 to 1."""
    eta: datetime | None
    created_at: datetime
    completed_at: datetime | None
    designs: list[DesignView]

    @classmethod
    def of(cls, state: BatchState, url_for: UrlFor) -> BatchView:
        progress = state.progress
        return cls(
            id=state.batch.batch_id,
            status="completed" if progress.completed else "running",
            total=progress.total,
            counts={status: progress.counts.get(status, 0) for status in DesignStatus},
            finished=progress.terminal,
            progress=progress.progress,
            eta=progress.eta,
            created_at=state.batch.created_at,
            completed_at=progress.completed_at,
            designs=[DesignView.of(design, url_for) for design in state.designs],
        )


@router.post("", status_code=202)
def create_batch(
    body: CreateBatch,
    request: Request,
    response: Response,
    tenant: CurrentTenant,
    service: Batches,
    url_for: OutputUrls,
) -> BatchView:
    """Start 1 to 50 designs at once. All are validated first and their quota units taken together:
    either every design starts, or none does (422 names the item at fault, 429 the limit)."""
    request_id = str(getattr(request.state, "request_id", "")) or None
    state = service.create(tenant, body, request_id=request_id)
    response.headers["Location"] = f"/v1/batches/{state.batch.batch_id}"
    return BatchView.of(state, url_for)


@router.get("/{batch_id}")
def get_batch(batch_id: str, tenant: CurrentTenant, service: Batches, url_for: OutputUrls) -> BatchView:
    """Every design's status, with the batch's counts per status, progress and ETA."""
    return BatchView.of(service.get(tenant, batch_id), url_for)
