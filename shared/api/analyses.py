"""``POST /v1/analyses``: is this upload a stageable room? Synchronous, and it spends no quota.

Built by ``analyses_router(tenant_dependency)`` like the webhook routes, so it never imports the app.
Annotations are evaluated eagerly (no ``from __future__ import annotations``) for FastAPI.
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from shared.domain.quality import PhotoAnalysis
from shared.services import wiring
from shared.services.analysis import UploadAnalysis


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


def analyses() -> UploadAnalysis:
    return wiring.upload_analysis()


Analyses = Annotated[UploadAnalysis, Depends(analyses)]


def analyses_router(tenant_dependency: Callable[..., str]) -> APIRouter:
    Tenant = Annotated[str, Depends(tenant_dependency)]
    router = APIRouter(prefix="/v1/analyses", tags=["analyses"])

    @router.post("")
    def create_analysis(body: CreateAnalysis, tenant: Tenant, service: Analyses) -> AnalysisView:
        analysis = service.analyse(tenant, body.upload_id)
        threshold = service.not_a_room_confidence
        return AnalysisView(
            **analysis.model_dump(),
            stageable=not analysis.refuses(threshold),
            not_a_room_confidence=threshold,
        )

    return router
