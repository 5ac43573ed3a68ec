"""The Design aggregate: one staging request for one room photo, and how it changes."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.quality import OutputQuality, PhotoAnalysis
from shared.domain.status import DesignStatus, check_transition

MAX_VARIANTS = 4
MAX_SEED = 2**31 - 1


class Origin(StrEnum):
    API = "api"
    S3 = "s3"


class Brief(BaseModel):
    """What the user asked for. Validated against the catalogue before a design exists."""

    model_config = ConfigDict(frozen=True)

    room_type: str
    style: str
    palette: tuple[str, ...] = ()
    prompt: str | None = None
    variants: Annotated[int, Field(ge=1, le=MAX_VARIANTS)] = 1
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)]


class InboxObject(BaseModel):
    """The original photo of a design dropped in the S3 inbox: its key there and its ETag."""

    model_config = ConfigDict(frozen=True)

    key: str
    """``inbox/{tenant}/{path}`` in the inbox bucket."""
    etag: str


class SourceImage(BaseModel):
    """Where the room photo comes from, and where its bytes are once we hold them."""

    model_config = ConfigDict(frozen=True)

    upload_id: str | None = None
    url: str | None = None
    key: str | None = None
    """Object key of the original bytes in the uploads bucket."""
    width: int | None = None
    height: int | None = None
    prepared_key: str | None = None
    """Object key of the prepared model input (sRGB JPEG at the model's size)."""
    prepared_width: int | None = None
    prepared_height: int | None = None
    inbox: InboxObject | None = None
    """Set for designs made from an S3 inbox drop: the original is read from the inbox bucket."""


class StoredVariant(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    key: str
    content_type: str
    width: int
    height: int
    bytes: int


class OutputImage(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    variants: tuple[StoredVariant, ...]
    blurhash: str
    dominant_color: str
    metadata: dict[str, str] = Field(default_factory=dict)
    quality: OutputQuality | None = None
    """How this output kept the room's architecture (docs/quality.md); None for older designs."""

    def variant(self, name: str) -> StoredVariant | None:
        return next((v for v in self.variants if v.name == name), None)


class DesignError(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    message: str


class Predictions(BaseModel):
    """The provider-side jobs making this design's images: one, or one per variant.

    ``ids`` is in variant order: with one id it makes every variant; with one id per variant,
    id ``j`` makes variant ``j``. ``done`` lists the ids whose images are stored; ``check`` is the
    token of the one polling message currently allowed to check them (older ones are dropped).
    """

    model_config = ConfigDict(frozen=True)

    ids: tuple[str, ...]
    started_at: datetime
    done: tuple[str, ...] = ()
    check: str | None = None

    @property
    def outstanding(self) -> tuple[str, ...]:
        return tuple(i for i in self.ids if i not in self.done)


class Design(BaseModel):
    model_config = ConfigDict(frozen=True)

    design_id: str
    tenant_id: str
    status: DesignStatus = DesignStatus.QUEUED
    version: int = 1
    """Incremented by every write; writes are conditional on the version read."""
    origin: Origin = Origin.API
    source: SourceImage
    brief: Brief
    provider: str
    storage_token: str
    """Unguessable segment of every output key of this design."""
    progress: float = 0.0
    eta: datetime | None = None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    outputs: tuple[OutputImage, ...] = ()
    error: DesignError | None = None
    prediction_id: str | None = None
    provider_seconds: float | None = None
    estimated_cost_usd: float | None = None
    request_id: str | None = None
    batch_id: str | None = None
    webhook_url: str | None = None
    predictions: Predictions | None = None
    """Set when the provider completes later (callback or polling); ``prediction_id`` is its first id."""
    provider_started_at: datetime | None = None
    """Stored with the move to ``generating``, the write just before the provider is first asked to
    run: from then on the GPU may have been paid for, so a failure of ours is not refunded."""
    status_event: str | None = None
    """The event that announces the current status (JSON), written in the same item write as the
    status: a one-entry outbox. A delivery that may have died between that write and the publish
    sends it again, with the same ``event_id`` (docs/events.md)."""
    analysis: PhotoAnalysis | None = None
    """What the photo analysis said before generation (docs/quality.md)."""
    regenerations: int = 0
    """Variants generated again because their structure score was under the threshold."""

    @property
    def structure_ok(self) -> bool | None:
        """False when any output is flagged; None before the outputs exist (or for older designs)."""
        verdicts = [output.quality.structure_ok for output in self.outputs if output.quality is not None]
        return all(verdicts) if verdicts else None

    def transition(
        self,
        target: DesignStatus,
        *,
        now: datetime,
        expected_seconds: float | None = None,
        **changes: object,
    ) -> Design:
        """The next version of this design in status ``target``; illegal moves raise."""
        check_transition(self.status, target)
        update: dict[str, object] = {
            "status": target,
            "version": self.version + 1,
            "updated_at": now,
            "progress": max(self.progress, target.progress),
            **changes,
        }
        if target is DesignStatus.PREPARING and self.started_at is None:
            update["started_at"] = now
        if target.is_terminal:
            update["finished_at"] = now
            update["eta"] = None
        elif expected_seconds is not None:
            update["eta"] = now + timedelta(seconds=expected_seconds)
        return self.model_copy(update=update)

    def fail(self, code: str, message: str, *, now: datetime) -> Design:
        return self.transition(DesignStatus.FAILED, now=now, error=DesignError(code=code, message=message))
