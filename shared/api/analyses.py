"""``POST /v1/analyses``: is this upload a stageable room? Synchronous, and it spends no quota."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from shared.api.deps import Analyses, CurrentTenant
from shared.domain.quality import PhotoAnalysis


class CreateAnalysis(BaseModel):
    model_config = {
        "extra": "forbid",
        "json_schema_extra": {"examples": [{"upload_id": "upl_01JD3F8Y3W2Q9Z5T6V7X8Y9Z0A"}]},
    }

    upload_id: str = Field(min_length=1, max_length=64)


class AnalysisView(PhotoAnalysis):
    stageable: bool
    """False when a design from this photo would fail with ``not_a_room``."""
    not_a_room_confidence: float
    """The confidence above which "not a room" refuses the photo on this deployment."""


router = APIRouter(prefix="/v1/analyses", tags=["analyses"])


@router.post("")
def create_analysis(body: CreateAnalysis, tenant: CurrentTenant, service: Analyses) -> AnalysisView:
    analysis = service.analyse(tenant, body.upload_id)
    threshold = service.not_a_room_confidence
    return AnalysisView(
        **analysis.model_dump(),
        stageable=not analysis.refuses(threshold),
        not_a_room_confidence=threshold,
    )
