"""Use case behind the ingest Lambda: a photo dropped in the S3 inbox becomes a design.

Exactly one design per inbox object version, however often and in whatever order its
notification arrives: the first delivery claims an ingest record (a conditional put keyed by
bucket/key and version id or ETag) and picks the design id in it; a later or concurrent delivery
finds the record and either stops (done) or finishes the same work with the same design id
(the design's own conditional create lets only one of them make it). The design is made by the
same ``DesignService.create`` as the API's, with ``origin=s3``.

A photo written by an identity its tenant has not registered (``shared.domain.inbox_writers``,
when ``inbox_writer_check`` is ``enforce``: the cloud) is refused like one with bad options.
A photo refused here (options, size, type, writer) gets ``outbox/{tenant}/{path}.error.json`` and its
original moves to ``quarantine/{tenant}/{path}``; no design is made for it. A drop whose key cannot
be repeated in the outbox (``//``, ``.``/``..``, too long) goes to
``quarantine/{tenant}/refused-keys/{digest}`` with its report beside it (``{digest}.error.json``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from shared.domain.clock import utcnow
from shared.domain.design import InboxObject, Origin
from shared.domain.errors import (
    ConcurrentUpdate,
    ImageEmpty,
    ImageError,
    ImageTooLarge,
    InboxKeyRefused,
    InboxPathInvalid,
    InvalidOptions,
    RoomcraftError,
    TenantDisabled,
    TenantNotFound,
    TooManyRequests,
    ValidationFailed,
)
from shared.domain.ids import new_id
from shared.domain.inbox import (
    DEFAULTS_FILE,
    ERROR_REPORT_SUFFIX,
    OPTIONS_FILE_MAX_BYTES,
    DropKind,
    DroppedObject,
    InboxErrorReport,
    InboxPath,
    IngestRecord,
    IngestStatus,
    PhotoOptions,
    ResolvedOptions,
    batch_id_for,
    options_from_document,
    options_from_metadata,
    resolve_options,
)
from shared.domain.inbox_writers import check_writer
from shared.domain.ports import BatchMembership, InboxStore, IngestStore, ObjectInfo, TenantStore
from shared.imaging.prepare import SIGNATURE_BYTES, check_image_signature
from shared.services.designs import DesignRequest, DesignService
from shared.settings import Settings

logger = Logger(service="roomcraft", child=True)

REPORT_CACHE_CONTROL = "no-cache"


class IngestOutcome(StrEnum):
    CREATED = "created"
    DUPLICATE = "duplicate"
    """Another delivery of the same notification got there first."""
    REJECTED = "rejected"
    IGNORED = "ignored"
    """Not a photo: options files, folder markers, hidden files, keys outside a tenant's inbox."""
    STALE = "stale"
    """The object was overwritten since; the newer write has a notification of its own."""
    MISSING = "missing"
    """Deleted (or already quarantined by another delivery) before this one got to it."""


class InboxIngest:
    def __init__(
        self,
        *,
        settings: Settings,
        inbox: InboxStore,
        records: IngestStore,
        designs: DesignService,
        clock: Callable[[], datetime] = utcnow,
        batches: BatchMembership | None = None,
        tenants: TenantStore | None = None,
    ) -> None:
        self._settings = settings
        self._inbox = inbox
        self._records = records
        self._designs = designs
        self._clock = clock
        self._batches = batches
        """Where each design joins its drop's batch (``GET /v1/batches/{id}``, ``batch.completed``)."""
        self._tenants = tenants
        """Whose registered inbox writers are checked, when ``inbox_writer_check`` is ``enforce``."""
        if settings.inbox_writer_check == "enforce" and tenants is None:
            raise ValueError("inbox_writer_check=enforce needs the tenants store")

    def ingest(self, dropped: DroppedObject) -> IngestOutcome:
        if dropped.bucket != self._inbox.name:
            logger.error("notification from a bucket that is not the inbox", extra={"bucket": dropped.bucket})
            return IngestOutcome.IGNORED
        try:
            path = InboxPath.parse(dropped.key)
        except InboxPathInvalid as error:  # no tenant to report to: say it in the logs only
            logger.warning(error.message, extra={"code": error.code})
            return IngestOutcome.IGNORED
        problem = path.key_problem
        if problem is not None:
            return self._refuse_key(path, InboxKeyRefused(problem, details={"key": path.key}))
        if path.kind is not DropKind.PHOTO:
            return IngestOutcome.IGNORED
        head = self._inbox.head(path.key)
        if head is None:
            return IngestOutcome.MISSING
        if dropped.etag and dropped.etag != head.etag:
            return IngestOutcome.STALE

        source = InboxObject(key=path.key, etag=head.etag)
        options: ResolvedOptions | None = None
        refusal: RoomcraftError | None = None
        try:
            self._check_writer(path, dropped)
            options = self._options(path, head)
        except (ValidationFailed, TenantNotFound) as error:
            refusal = error
        now = self._clock()
        fresh = IngestRecord(
            ingest_key=dropped.ingest_key(head.etag),
            tenant_id=path.tenant_id,
            bucket=dropped.bucket,
            key=path.key,
            etag=head.etag,
            design_id=new_id("dsn"),
            batch_id=batch_id_for(
                path, dropped_at=dropped.event_time, label=options.batch if options else None
            ),
            created_at=now,
            updated_at=now,
        )
        record, _ = self._records.claim(fresh)
        if record.status is IngestStatus.REJECTED:
            # A rejected original is moved out of the inbox, so finding it here again means it
            # was dropped again (its options fixed, say): a new attempt, not a duplicate.
            record = self._records.reclaim(fresh)
        if record.status is not IngestStatus.CLAIMED:
            return IngestOutcome.DUPLICATE
        # Claimed now, or by an earlier delivery that did not finish: carry on with its design id.
        if refusal is None and options is not None:
            try:
                self._check_photo(path, head)
                self._create(record, source, options)
            except (ValidationFailed, ImageError, TooManyRequests, TenantNotFound, TenantDisabled) as error:
                refusal = error  # a used-up quota too: reported, and the photo may be dropped again later
        if refusal is not None:
            self._reject(path, source, record, refusal)
            return IngestOutcome.REJECTED
        self._records.mark(record, IngestStatus.CREATED, now=self._clock())
        return IngestOutcome.CREATED

    # --- steps -----------------------------------------------------------------------
    def _options(self, path: InboxPath, head: ObjectInfo) -> ResolvedOptions:
        metadata = options_from_metadata(head.metadata, source=path.key)
        sidecar: PhotoOptions | None = None
        if not path.sidecar_key.endswith("/" + DEFAULTS_FILE):
            data = self._inbox.read_if_exists(path.sidecar_key, max_bytes=OPTIONS_FILE_MAX_BYTES)
            if data is not None:
                sidecar = options_from_document(data, source=path.sidecar_key, folder=False)
        defaults: PhotoOptions | None = None
        for key in path.defaults_keys():
            data = self._inbox.read_if_exists(key, max_bytes=OPTIONS_FILE_MAX_BYTES)
            if data is not None:
                defaults = options_from_document(data, source=key, folder=True)
                break
        return resolve_options(path, metadata=metadata, sidecar=sidecar, defaults=defaults)

    def _check_writer(self, path: InboxPath, dropped: DroppedObject) -> None:
        """The prefix names a tenant; S3 names the writer: they must agree (docs/inbox.md)."""
        if self._settings.inbox_writer_check != "enforce" or self._tenants is None:
            return
        tenant = self._tenants.get(path.tenant_id)
        check_writer(path.tenant_id, dropped.writer, tenant.inbox_writers)

    def _check_photo(self, path: InboxPath, head: ObjectInfo) -> None:
        """What can be told without reading the photo: size, then type from its first bytes.
        The worker runs every other check (decoding, pixels, smallest side) as for API designs."""
        limit = self._settings.max_upload_bytes
        if head.size == 0:
            raise ImageEmpty("the image is empty (0 bytes)")
        if head.size > limit:
            raise ImageTooLarge(
                f"the image is {head.size / 1048576:.1f} MiB; the limit is {limit / 1048576:.1f} MiB",
                details={"bytes": head.size, "max_bytes": limit},
            )
        check_image_signature(self._inbox.read_first_bytes(path.key, SIGNATURE_BYTES))

    def _create(self, record: IngestRecord, source: InboxObject, options: ResolvedOptions) -> None:
        try:
            request = DesignRequest(
                room_type=options.room_type,
                style=options.style,
                palette=options.palette,
                prompt=options.prompt,
                variants=options.variants,
                seed=options.seed,
            )
        except ValidationError as error:
            raise InvalidOptions(f"invalid options for {source.key}: {error.errors()[0]['msg']}") from None
        try:
            self._designs.create(
                record.tenant_id,
                request,
                origin=Origin.S3,
                batch_id=record.batch_id,
                design_id=record.design_id,
                inbox=source,
            )
        except ConcurrentUpdate:
            # An earlier delivery of this notification created the design already.
            logger.info("design already created for this drop", extra={"design_id": record.design_id})
        else:
            logger.info(
                "design created from the inbox",
                extra={"design_id": record.design_id, "batch_id": record.batch_id, "key": source.key},
            )
        if self._batches is not None:  # also after a retry: the earlier delivery may have died first
            self._batches.join(record.tenant_id, record.batch_id, record.design_id)

    def _refuse_key(self, path: InboxPath, error: InboxKeyRefused) -> IngestOutcome:
        """A key the outbox cannot repeat: the original and its report go under a short key of
        their own in the quarantine. Idempotent: a redelivery rewrites the same report, or finds
        the original gone."""
        head = self._inbox.head(path.key)
        if head is None:
            return IngestOutcome.MISSING
        quarantine_key = path.refused_key(hashlib.sha256(path.key.encode()).hexdigest()[:32])
        report = InboxErrorReport(
            code=error.code,
            message=error.message,
            details=error.details,
            source=InboxObject(key=path.key, etag=head.etag),
            stage="ingest",
            quarantine_key=quarantine_key,
            occurred_at=self._clock(),
        )
        self._inbox.write(
            quarantine_key + ERROR_REPORT_SUFFIX,
            report.model_dump_json(indent=2).encode(),
            content_type="application/json",
            cache_control=REPORT_CACHE_CONTROL,
        )
        self._inbox.copy_from(self._inbox.name, path.key, quarantine_key)
        self._inbox.delete(path.key)
        logger.warning("inbox key refused", extra={"code": error.code, "quarantine_key": quarantine_key})
        return IngestOutcome.REJECTED

    def _reject(
        self, path: InboxPath, source: InboxObject, record: IngestRecord, error: RoomcraftError
    ) -> None:
        """Report first, then move the original: a retry after a crash finds it half done and
        finishes (the report is rewritten identically; a moved original is simply gone)."""
        report = InboxErrorReport(
            code=error.code,
            message=error.message,
            details=error.details,
            source=source,
            stage="ingest",
            quarantine_key=path.quarantine_key,
            occurred_at=self._clock(),
        )
        self._inbox.write(
            path.error_report_key,
            report.model_dump_json(indent=2).encode(),
            content_type="application/json",
            cache_control=REPORT_CACHE_CONTROL,
        )
        self._inbox.copy_from(self._inbox.name, path.key, path.quarantine_key)
        self._inbox.delete(path.key)
        self._records.mark(record, IngestStatus.REJECTED, now=self._clock(), error_code=error.code)
        logger.info("inbox drop rejected", extra={"key": path.key, "code": error.code})
