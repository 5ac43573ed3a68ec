"""Batches: create up to 50 designs at once, follow them as one, announce when all have finished."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from shared.domain.batches import (
    MAX_BATCH_DESIGNS,
    Batch,
    BatchEventDetail,
    BatchProgress,
    BatchTally,
    batch_progress,
)
from shared.domain.clock import utcnow
from shared.domain.design import MAX_SEED, MAX_VARIANTS, Design
from shared.domain.errors import BatchTooLarge, RoomcraftError, ValidationFailed
from shared.domain.ids import new_id
from shared.domain.ports import BatchEventSink, BatchStore, DesignQuota, DesignReader
from shared.domain.status import DesignStatus
from shared.providers.registry import typical_seconds
from shared.resources import FUNCTIONS, GENERATE_QUEUE
from shared.services.designs import DesignRequest, DesignService
from shared.settings import Settings

logger = Logger(service="roomcraft", child=True)

_SOURCE_FIELDS = frozenset({"upload_id", "image_url"})
_PARALLEL_CALLS = 8
"""Designs of a batch are validated and stored this many at a time (each is a few AWS calls)."""


class BatchDesign(BaseModel):
    """One design of a batch: any field of a design request; what it leaves out comes from ``defaults``."""

    model_config = ConfigDict(extra="forbid")

    upload_id: str | None = Field(default=None, min_length=1, max_length=128)
    image_url: str | None = Field(default=None, min_length=1, max_length=2048)
    room_type: str | None = None
    style: str | None = None
    palette: list[str] | str | None = None
    prompt: str | None = Field(default=None, max_length=2000)
    variants: StrictInt | None = Field(default=None, ge=1, le=MAX_VARIANTS)
    seed: StrictInt | None = Field(default=None, ge=0, le=MAX_SEED)
    provider: str | None = None
    webhook_url: str | None = Field(default=None, min_length=1, max_length=2048)


class BatchRequest(BaseModel):
    """``designs`` (1 to 50), each completed by ``defaults``.

    One photo in several styles: the photo in ``defaults``, a style per design. Several photos: the
    brief in ``defaults``, a photo per design.
    """

    model_config = ConfigDict(extra="forbid")

    defaults: BatchDesign = Field(default_factory=BatchDesign)
    designs: list[BatchDesign] = Field(min_length=1)

    def design_requests(self) -> list[DesignRequest]:
        """Each item merged over the defaults; an item naming its own photo replaces the default photo."""
        defaults = self.defaults.model_dump(exclude_unset=True)
        requests = []
        for index, item in enumerate(self.designs):
            own = item.model_dump(exclude_unset=True)
            base = {
                k: v for k, v in defaults.items() if not (_SOURCE_FIELDS & own.keys() and k in _SOURCE_FIELDS)
            }
            try:
                requests.append(DesignRequest.model_validate(base | own))
            except ValidationError as error:
                problems = [
                    {"location": ".".join(str(p) for p in problem["loc"]), "message": problem["msg"]}
                    for problem in error.errors()
                ]
                raise ValidationFailed(
                    f"designs[{index}] is not a valid design request",
                    details={"item": index, "problems": problems},
                ) from error
        return requests


@dataclass(frozen=True)
class BatchState:
    batch: Batch
    designs: Sequence[Design]
    progress: BatchProgress


def _worker_parallelism() -> int:
    worker = next(f for f in FUNCTIONS if f.id == GENERATE_QUEUE.consumer)
    return worker.max_concurrency or 10


class BatchCompletion:
    """Counts finished designs on their batch and announces ``batch.completed`` once.

    ``record`` is called with every design that reaches a terminal status (the settlement hook);
    ``join`` adds the designs of an inbox drop to their open batch as they are created. Both are
    safe to call again for the same design: the sets ignore repeats, completion is claimed
    conditionally.
    """

    def __init__(
        self, *, batches: BatchStore, events: BatchEventSink, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._batches = batches
        self._events = events
        self._clock = clock

    def record(self, design: Design) -> None:
        if design.batch_id is None or not design.status.is_terminal:
            return
        tally = self._batches.record_outcome(
            design.tenant_id, design.batch_id, design.design_id, design.status
        )
        self.complete_if_done(design.tenant_id, design.batch_id, tally)

    def join(self, tenant_id: str, batch_id: str, design_id: str) -> None:
        """Add a design to an open batch (an inbox drop), creating the batch with its first design.

        Called after the design is created; it may have finished already, so completion is
        checked here too. Idempotent: a retried ingest joins once.
        """
        now = self._clock()
        opened = Batch(batch_id=batch_id, tenant_id=tenant_id, design_ids=(), created_at=now, origin="s3")
        tally = self._batches.join(opened, design_id)
        if tally is not None:
            self.complete_if_done(tenant_id, batch_id, tally)

    def complete_if_done(self, tenant_id: str, batch_id: str, tally: BatchTally) -> None:
        if not tally.all_terminal or tally.completion_claimed:
            return
        now = self._clock()
        if not self._batches.claim_completion(tenant_id, batch_id, total=tally.total, at=now):
            return  # another caller got there first and announces it, or the batch grew meanwhile
        batch = self._batches.get(tenant_id, batch_id)
        detail = BatchEventDetail(
            event_id=f"{batch_id}.completed.{tally.total}",
            batch_id=batch_id,
            tenant_id=tenant_id,
            total=tally.total,
            succeeded=tally.succeeded,
            failed=tally.failed,
            canceled=tally.canceled,
            design_ids=batch.design_ids,
            occurred_at=now,
        )
        try:
            self._events.publish_event(detail.detail_type, detail)
        except Exception:
            self._batches.release_completion(tenant_id, batch_id)  # the next settle call tries again
            raise
        logger.info("batch completed", extra={"batch_id": batch_id, "total": tally.total})


class BatchService:
    def __init__(
        self,
        *,
        settings: Settings,
        designs: DesignService,
        reader: DesignReader,
        batches: BatchStore,
        completion: BatchCompletion,
        quota: DesignQuota | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._settings = settings
        self._designs = designs
        self._reader = reader
        self._batches = batches
        self._completion = completion
        self._quota = quota
        self._clock = clock

    def create(self, tenant_id: str, request: BatchRequest, *, request_id: str | None = None) -> BatchState:
        """Validate every design, take their quota units at once, then store and queue them."""
        if len(request.designs) > MAX_BATCH_DESIGNS:
            raise BatchTooLarge(
                f"a batch holds at most {MAX_BATCH_DESIGNS} designs; this one has {len(request.designs)}",
                details={"limit": MAX_BATCH_DESIGNS, "given": len(request.designs)},
            )
        now = self._clock()
        batch_id = new_id("bat")
        design_requests = request.design_requests()

        def draft(indexed: tuple[int, DesignRequest]) -> Design:
            index, design_request = indexed
            try:
                return self._designs.draft(
                    tenant_id, design_request, request_id=request_id, batch_id=batch_id, now=now
                )
            except RoomcraftError as error:
                error.message = f"designs[{index}]: {error.message}"
                error.details = {**error.details, "item": index}
                raise

        with ThreadPoolExecutor(max_workers=_PARALLEL_CALLS) as pool:
            drafts = list(pool.map(draft, enumerate(design_requests)))
        batch = Batch(
            batch_id=batch_id,
            tenant_id=tenant_id,
            design_ids=tuple(d.design_id for d in drafts),
            created_at=now,
            request_id=request_id,
        )
        if self._quota is not None:
            self._quota.consume_designs(tenant_id, len(drafts), at=now)
        try:
            self._batches.create(batch)
        except Exception:
            self._give_back(tenant_id, len(drafts), now)
            raise
        self._submit_all(batch, drafts, now)
        return BatchState(batch=batch, designs=drafts, progress=self._progress(drafts, now))

    def _submit_all(self, batch: Batch, drafts: Sequence[Design], now: datetime) -> None:
        def submit(design: Design) -> BaseException | None:
            try:
                self._designs.submit(design)
            except Exception as error:
                return error
            return None

        with ThreadPoolExecutor(max_workers=_PARALLEL_CALLS) as pool:
            errors = list(pool.map(submit, drafts))
        failed = [error for error in errors if error is not None]
        if not failed:
            return
        kept = [d.design_id for d, error in zip(drafts, errors, strict=True) if error is None]
        logger.error("some designs of a batch could not be stored", extra={"batch_id": batch.batch_id})
        self._give_back(batch.tenant_id, len(failed), now)
        tally = self._batches.keep_only(batch.tenant_id, batch.batch_id, kept)
        self._completion.complete_if_done(batch.tenant_id, batch.batch_id, tally)
        raise failed[0]

    def _give_back(self, tenant_id: str, units: int, at: datetime) -> None:
        if self._quota is not None and units:
            self._quota.release_designs(tenant_id, units, at=at)

    def get(self, tenant_id: str, batch_id: str) -> BatchState:
        batch = self._batches.get(tenant_id, batch_id)
        designs = self._reader.get_many(tenant_id, batch.design_ids)
        return BatchState(batch=batch, designs=designs, progress=self._progress(designs, self._clock()))

    def _progress(self, designs: Sequence[Design], now: datetime) -> BatchProgress:
        queued_providers = {d.provider for d in designs if d.status is DesignStatus.QUEUED}
        per_design = self._settings.queue_estimate_seconds + max(
            (typical_seconds(p) for p in queued_providers), default=0.0
        )
        return batch_progress(
            designs, now=now, parallelism=_worker_parallelism(), seconds_per_design=per_design
        )
