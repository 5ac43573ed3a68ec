"""Request and response bodies of the public HTTP API (they make up the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, StrictInt

from shared.domain.design import MAX_SEED, MAX_VARIANTS, Design
from shared.domain.quality import OutputQuality, PhotoAnalysis
from shared.domain.status import DesignStatus
from shared.services.designs import DesignRequest, UploadSlot


class ErrorDetail(BaseModel):
    code: str = Field(examples=["unknown_style"])
    message: str
    request_id: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorResponse(BaseModel):
    error: ErrorDetail


class CreateUpload(BaseModel):
    content_type: str = Field(examples=["image/jpeg"])


class UploadResponse(BaseModel):
    upload_id: str
    url: str
    """POST the file here as multipart/form-data: every field below, then ``file`` last."""
    fields: dict[str, str]
    content_type: str
    max_bytes: int
    expires_at: datetime

    @classmethod
    def of(cls, slot: UploadSlot) -> UploadResponse:
        return cls(
            upload_id=slot.upload.upload_id,
            url=slot.url,
            fields=slot.fields,
            content_type=slot.upload.content_type,
            max_bytes=slot.upload.max_bytes,
            expires_at=slot.upload.expires_at,
        )


class CreateDesign(DesignRequest):
    """Give exactly one of ``upload_id`` and ``image_url``."""

    model_config = {
        "json_schema_extra": {
            # Exactly one source, as the API checks (422 validation_failed otherwise).
            "oneOf": [
                {"required": ["upload_id"], "properties": {"upload_id": {"type": "string"}}},
                {"required": ["image_url"], "properties": {"image_url": {"type": "string"}}},
            ],
            "examples": [
                {
                    "upload_id": "upl_01JD3F8Y3W2Q9Z5T6V7X8Y9Z0A",
                    "room_type": "living_room",
                    "style": "scandinavian",
                    "palette": ["#f5f0e6", "#8a9a5b"],
                    "variants": 2,
                    "seed": 7,
                }
            ],
        }
    }
    variants: StrictInt = Field(default=1, ge=1, le=MAX_VARIANTS)
    seed: StrictInt | None = Field(default=None, ge=0, le=MAX_SEED)


class VariantView(BaseModel):
    url: str
    width: int
    height: int
    content_type: str


class OutputView(BaseModel):
    index: int
    url: str
    thumbnail_url: str | None
    width: int
    height: int
    variants: dict[str, VariantView]
    blurhash: str
    dominant_color: str
    preview: bool
    """True when made by the offline preview provider, not by a real model."""
    quality: OutputQuality | None = None
    """Structure score, attempts and ``structure_ok`` (docs/quality.md); null for older designs."""


class BriefView(BaseModel):
    room_type: str
    style: str
    palette: list[str]
    prompt: str | None
    variants: int
    seed: int


class SourceView(BaseModel):
    upload_id: str | None
    image_url: str | None
    width: int | None
    height: int | None


class DesignErrorView(BaseModel):
    code: str
    message: str


class DesignView(BaseModel):
    id: str
    status: DesignStatus
    progress: float
    eta: datetime | None
    origin: str
    provider: str
    brief: BriefView
    source: SourceView
    outputs: list[OutputView]
    error: DesignErrorView | None
    batch_id: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    provider_seconds: float | None
    estimated_cost_usd: float | None = None
    """Provider cost of the design, regenerations included."""
    analysis: PhotoAnalysis | None = None
    """The photo analysis made before generation (docs/quality.md)."""
    structure_ok: bool | None = None
    """False when an output is kept under the structure threshold; null before outputs exist."""
    regenerations: int = 0
    webhook_url: str | None = None
    webhook_secret: str | None = None
    """The tenant's default webhook secret, shown once: on the first design created with a
    ``webhook_url``. Rotate it with ``POST /v1/webhook-endpoints/default/rotate-secret``. Null in an
    idempotent replay (``Idempotent-Redacted: secret``): secrets are never kept for replay."""

    @classmethod
    def of(cls, design: Design, url_for: Any) -> DesignView:
        outputs = []
        for output in design.outputs:
            full = output.variant("full") or output.variants[0]
            thumb = output.variant("thumb")
            outputs.append(
                OutputView(
                    index=output.index,
                    url=url_for(full.key),
                    thumbnail_url=url_for(thumb.key) if thumb else None,
                    width=full.width,
                    height=full.height,
                    variants={
                        v.name: VariantView(
                            url=url_for(v.key), width=v.width, height=v.height, content_type=v.content_type
                        )
                        for v in output.variants
                    },
                    blurhash=output.blurhash,
                    dominant_color=output.dominant_color,
                    preview=output.metadata.get("preview") == "true",
                    quality=output.quality,
                )
            )
        return cls(
            id=design.design_id,
            status=design.status,
            progress=round(design.progress, 3),
            eta=design.eta,
            origin=design.origin.value,
            provider=design.provider,
            brief=BriefView(**design.brief.model_dump() | {"palette": list(design.brief.palette)}),
            source=SourceView(
                upload_id=design.source.upload_id,
                image_url=design.source.url,
                width=design.source.width,
                height=design.source.height,
            ),
            outputs=outputs,
            error=DesignErrorView(**design.error.model_dump()) if design.error else None,
            batch_id=design.batch_id,
            created_at=design.created_at,
            updated_at=design.updated_at,
            started_at=design.started_at,
            finished_at=design.finished_at,
            provider_seconds=design.provider_seconds,
            estimated_cost_usd=design.estimated_cost_usd,
            analysis=design.analysis,
            structure_ok=design.structure_ok,
            regenerations=design.regenerations,
            webhook_url=design.webhook_url,
        )


class DesignList(BaseModel):
    data: list[DesignView]
    next_cursor: str | None
    """Pass as ``cursor`` to get the next page; null on the last page."""


class StyleView(BaseModel):
    id: str
    name: str
    description: str
    palette: list[str]


class RoomTypeView(BaseModel):
    id: str
    name: str


class Catalogue(BaseModel):
    styles: list[StyleView]
    room_types: list[RoomTypeView]


class Health(BaseModel):
    status: str
    version: str
    stage: str
    provider: str
    time: datetime
