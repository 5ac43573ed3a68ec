"""Use cases behind the API (and the S3 inbox): create, read, list and cancel designs."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from shared.domain.clock import utcnow
from shared.domain.design import MAX_SEED, MAX_VARIANTS, Brief, Design, InboxObject, Origin, SourceImage
from shared.domain.errors import (
    ConcurrentUpdate,
    DesignNotCancelable,
    UnsupportedProvider,
    UploadIncomplete,
    ValidationFailed,
    WebhookUrlRefused,
)
from shared.domain.events import stored_status_event, with_status_event
from shared.domain.ids import new_id, new_secret_token
from shared.domain.inbox import belongs_to
from shared.domain.messages import GenerationMessage
from shared.domain.ports import (
    DesignQuota,
    DesignStore,
    EventSink,
    JobQueue,
    ObjectStore,
    PredictionCanceller,
    UploadStore,
)
from shared.domain.quality import AUTO_ROOM_TYPE
from shared.domain.status import DesignStatus
from shared.domain.styles import get_room_type, get_style, parse_palette
from shared.domain.upload import ACCEPTED_CONTENT_TYPES, Upload, upload_key
from shared.providers.registry import typical_seconds
from shared.settings import Settings


class DesignRequest(BaseModel):
    """A request for a design, from the API or from an inbox drop."""

    model_config = ConfigDict(extra="forbid")

    upload_id: str | None = Field(default=None, min_length=1, max_length=128)
    image_url: str | None = Field(default=None, min_length=1, max_length=2048)
    room_type: str
    style: str
    palette: list[str] | str | None = None
    prompt: str | None = Field(default=None, max_length=2000)
    # Strict: JSON's "2" or true is not a number of variants (docs/errors.md).
    variants: StrictInt = Field(default=1, ge=1, le=MAX_VARIANTS)
    seed: StrictInt | None = Field(default=None, ge=0, le=MAX_SEED)
    provider: str | None = None
    webhook_url: str | None = Field(default=None, min_length=1, max_length=2048)
    """Also send this design's events here, signed with the tenant's default secret."""


class UploadSlot(BaseModel):
    upload: Upload
    url: str
    fields: dict[str, str]


UrlCheck = Callable[[str], None]

logger = Logger(service="roomcraft", child=True)


class DesignService:
    def __init__(
        self,
        *,
        settings: Settings,
        designs: DesignStore,
        uploads: UploadStore,
        upload_bucket: ObjectStore,
        queue: JobQueue,
        events: EventSink,
        check_image_url: UrlCheck,
        clock: Callable[[], datetime] = utcnow,
        check_webhook_url: UrlCheck | None = None,
        predictions: PredictionCanceller | None = None,
        quota: DesignQuota | None = None,
        on_terminal: Callable[[Design], None] | None = None,
    ) -> None:
        self._predictions = predictions
        self._settings = settings
        self._designs = designs
        self._uploads = uploads
        self._bucket = upload_bucket
        self._queue = queue
        self._events = events
        self._check_image_url = check_image_url
        self._clock = clock
        self._check_webhook_url = check_webhook_url
        self._quota = quota
        self._on_terminal = on_terminal

    # --- uploads ---------------------------------------------------------------------
    def create_upload(self, tenant_id: str, *, content_type: str) -> UploadSlot:
        if content_type not in ACCEPTED_CONTENT_TYPES:
            raise ValidationFailed(
                f"content_type must be one of {sorted(ACCEPTED_CONTENT_TYPES)}",
                details={"content_type": content_type},
            )
        now = self._clock()
        upload_id = new_id("upl")
        upload = Upload(
            upload_id=upload_id,
            tenant_id=tenant_id,
            key=upload_key(tenant_id, upload_id),
            content_type=content_type,
            max_bytes=self._settings.max_upload_bytes,
            created_at=now,
            expires_at=now + timedelta(seconds=self._settings.upload_url_ttl_seconds),
        )
        url, fields = self._bucket.presigned_post(
            upload.key,
            content_type=content_type,
            max_bytes=upload.max_bytes,
            expires_seconds=self._settings.upload_url_ttl_seconds,
        )
        self._uploads.create(upload)
        return UploadSlot(upload=upload, url=url, fields=fields)

    # --- designs ---------------------------------------------------------------------
    def create(
        self,
        tenant_id: str,
        request: DesignRequest,
        *,
        request_id: str | None = None,
        origin: Origin = Origin.API,
        batch_id: str | None = None,
        design_id: str | None = None,
        inbox: InboxObject | None = None,
    ) -> Design:
        """Validate, take the tenant's quota unit, store, enqueue and announce a new design.

        ``inbox`` (internal, not in the API): the photo is an object in the tenant's S3 inbox.
        ``design_id``: chosen by the caller (the inbox ingest claims it first, so a retry
        cannot make a second design); ``ConcurrentUpdate`` when it exists already (and the
        quota unit is given back).
        """
        design = self.draft(
            tenant_id,
            request,
            request_id=request_id,
            origin=origin,
            batch_id=batch_id,
            design_id=design_id,
            inbox=inbox,
        )
        if self._quota is not None:
            self._quota.consume_designs(tenant_id, 1, at=design.created_at)
        try:
            self.submit(design)
        except Exception:
            if self._quota is not None:
                self._quota.release_designs(tenant_id, 1, at=design.created_at)
            raise
        return design

    def draft(
        self,
        tenant_id: str,
        request: DesignRequest,
        *,
        request_id: str | None = None,
        origin: Origin = Origin.API,
        batch_id: str | None = None,
        design_id: str | None = None,
        inbox: InboxObject | None = None,
        now: datetime | None = None,
    ) -> Design:
        """Validate a request and build its design, storing nothing (``create`` = draft + quota + submit)."""
        brief = self._brief(request)
        provider = self._provider(request.provider)
        source = self._inbox_source(tenant_id, request, inbox) if inbox else self._source(tenant_id, request)
        if request.webhook_url is not None:
            if self._check_webhook_url is None:
                raise WebhookUrlRefused("webhook_url is not accepted on this path")
            self._check_webhook_url(request.webhook_url)
        now = now or self._clock()
        return Design(
            design_id=design_id or new_id("dsn"),
            tenant_id=tenant_id,
            origin=origin,
            source=source,
            brief=brief,
            provider=provider,
            storage_token=new_secret_token(),
            created_at=now,
            updated_at=now,
            eta=now + timedelta(seconds=self._settings.queue_estimate_seconds + typical_seconds(provider)),
            request_id=request_id,
            batch_id=batch_id,
            webhook_url=request.webhook_url,
        )

    def submit(self, design: Design) -> None:
        """Store a drafted design, queue it for the worker, then announce it.

        Queued before it is announced, so ``design.queued`` never goes out for a design no worker
        will see. If the queue refuses, the design is removed again and the error raised (the
        caller gives the quota unit back); should the removal fail too, the sweeper queues it
        after its deadline. If EventBridge refuses the event, the design is still accepted (a 500
        would make clients retry into a second design): a second message asks the worker to send
        the stored event; should that fail too, the design's next events still go out.
        """
        design, event = with_status_event(design, None)
        self._designs.create(design)
        message = GenerationMessage(tenant_id=design.tenant_id, design_id=design.design_id)
        try:
            self._queue.enqueue(message)
        except Exception:
            logger.exception("design not queued; removing it", extra={"design_id": design.design_id})
            try:
                self._designs.delete_unstarted(design)
            except Exception:
                logger.exception("could not remove the unqueued design; the sweeper will queue it")
            raise
        try:
            self._events.publish(event)
        except Exception:
            logger.exception(
                "design.queued not sent; the worker sends it", extra={"event_id": event.event_id}
            )
            try:
                self._queue.enqueue(message.model_copy(update={"announce": True}))
            except Exception:
                logger.exception("could not ask the worker to send design.queued")

    def get(self, tenant_id: str, design_id: str) -> Design:
        return self._designs.get(tenant_id, design_id)

    def list(
        self, tenant_id: str, *, limit: int, cursor: str | None, status: DesignStatus | None = None
    ) -> tuple[list[Design], str | None]:
        return self._designs.list(tenant_id, limit=limit, cursor=cursor, status=status)

    def cancel(self, tenant_id: str, design_id: str) -> Design:
        """Cancel unless it is too late; cancelling a canceled design is a no-op."""
        for _ in range(5):
            design = self._designs.get(tenant_id, design_id)
            if design.status is DesignStatus.CANCELED:
                # A repeated cancel: an earlier call may have died after the write. Its event goes
                # again (same event_id, consumers deduplicate) and the settlement completes.
                event = stored_status_event(design)
                if event is not None:
                    self._events.publish(event)
                self._settle(design)
                return design
            if design.status.is_terminal or design.status is DesignStatus.FINALIZING:
                raise DesignNotCancelable(
                    f"design {design_id} is {design.status.value} and can no longer be canceled"
                )
            canceled, event = with_status_event(
                design.transition(DesignStatus.CANCELED, now=self._clock()), design.status
            )
            try:
                self._designs.save_if_unchanged(design, canceled)
            except ConcurrentUpdate:
                continue  # the worker moved it on meanwhile: look again
            self._events.publish(event)
            self._cancel_predictions(canceled)
            self._settle(canceled)
            return canceled
        raise ConcurrentUpdate(f"design {design_id} keeps changing; try again")

    def _settle(self, design: Design) -> None:
        """Tell the terminal hook (quota refunds, batch counting) that ``design`` has finished."""
        if self._on_terminal is not None:
            self._on_terminal(design)

    def _cancel_predictions(self, design: Design) -> None:
        """Stop paying for the GPU: the design is canceled whatever the provider answers."""
        if self._predictions is None or design.predictions is None:
            return
        if design.predictions.outstanding:
            try:
                self._predictions.cancel(design)
            except Exception:  # the port is best effort; a failure must not undo the cancel
                logger.exception("could not ask for the design's predictions to be canceled")

    # --- validation ------------------------------------------------------------------
    def _brief(self, request: DesignRequest) -> Brief:
        # "auto": the photo analysis picks the room type before generation (docs/quality.md).
        auto = request.room_type.strip().lower() == AUTO_ROOM_TYPE
        room_type = AUTO_ROOM_TYPE if auto else get_room_type(request.room_type).id
        style = get_style(request.style)
        return Brief(
            room_type=room_type,
            style=style.id,
            palette=parse_palette(request.palette),
            prompt=(request.prompt or "").strip() or None,
            variants=request.variants,
            seed=request.seed if request.seed is not None else secrets.randbelow(MAX_SEED),
        )

    def _provider(self, requested: str | None) -> str:
        provider = requested or self._settings.provider
        if provider not in self._settings.providers_allowed:
            enabled = sorted(self._settings.providers_allowed)
            raise UnsupportedProvider(f"provider {provider!r} is not enabled here; use one of {enabled}")
        return provider

    def _source(self, tenant_id: str, request: DesignRequest) -> SourceImage:
        if (request.upload_id is None) == (request.image_url is None):
            raise ValidationFailed("give exactly one of upload_id or image_url")
        if request.image_url is not None:
            self._check_image_url(request.image_url)
            return SourceImage(url=request.image_url)
        assert request.upload_id is not None
        upload = self._uploads.get(tenant_id, request.upload_id)
        if self._bucket.size_of(upload.key) is None:
            raise UploadIncomplete(f"nothing has been uploaded to {upload.upload_id} yet")
        return SourceImage(upload_id=upload.upload_id, key=upload.key)

    def _inbox_source(self, tenant_id: str, request: DesignRequest, inbox: InboxObject) -> SourceImage:
        if request.upload_id is not None or request.image_url is not None:
            raise ValidationFailed("a design from the S3 inbox takes no upload_id or image_url")
        if not belongs_to(tenant_id, inbox.key):
            raise ValidationFailed(
                f"{inbox.key} is not in the inbox of tenant {tenant_id}", details={"key": inbox.key}
            )
        return SourceImage(inbox=inbox)
