"""What the use cases need from the outside world. Adapters in ``shared.adapters`` implement these."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel

from shared.domain.batches import Batch, BatchTally
from shared.domain.design import Design
from shared.domain.events import DesignEventDetail
from shared.domain.inbox import IngestRecord, IngestStatus
from shared.domain.messages import GenerationMessage
from shared.domain.quotas import CounterChange
from shared.domain.status import DesignStatus
from shared.domain.tenants import ApiKey, Tenant
from shared.domain.upload import Upload


class DesignStore(Protocol):
    def create(self, design: Design) -> None: ...
    def get(self, tenant_id: str, design_id: str) -> Design: ...
    def list(
        self, tenant_id: str, *, limit: int, cursor: str | None, status: DesignStatus | None = None
    ) -> tuple[list[Design], str | None]: ...
    def save_if_unchanged(self, previous: Design, updated: Design) -> None: ...
    def acquire_lease(self, design: Design, owner: str, *, now: datetime, seconds: int) -> bool: ...
    def release_lease(self, design: Design, owner: str) -> None: ...
    def delete_unstarted(self, design: Design) -> None:
        """Remove a design just created, if unchanged since (its message could not be queued)."""
        ...


class UploadStore(Protocol):
    def create(self, upload: Upload) -> None: ...
    def get(self, tenant_id: str, upload_id: str) -> Upload: ...


class ObjectStore(Protocol):
    def presigned_post(
        self, key: str, *, content_type: str, max_bytes: int, expires_seconds: int
    ) -> tuple[str, dict[str, str]]: ...
    def size_of(self, key: str) -> int | None: ...
    def read(self, key: str, *, max_bytes: int) -> bytes: ...
    def write(
        self, key: str, data: bytes, *, content_type: str, metadata: dict[str, str] | None = None
    ) -> None: ...


class OutputStore(Protocol):
    def write(
        self, key: str, data: bytes, *, content_type: str, metadata: dict[str, str] | None = None
    ) -> None: ...
    def url_for(self, key: str) -> str: ...


class JobQueue(Protocol):
    def enqueue(self, message: GenerationMessage) -> None: ...


class EventSink(Protocol):
    def publish(self, detail: DesignEventDetail) -> None: ...


class ImageFetcher(Protocol):
    def fetch(self, url: str, *, max_bytes: int, deadline_seconds: float | None = None) -> bytes:
        """The body at ``url``; the whole fetch ends within ``deadline_seconds`` when given."""
        ...


# --- S3 inbox ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ObjectInfo:
    """What a HEAD of an object tells: its size, ETag (unquoted) and user metadata."""

    key: str
    size: int
    etag: str
    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


class InboxStore(Protocol):
    """The inbox bucket: drops are read, reports and result copies written, rejects moved."""

    name: str

    def head(self, key: str) -> ObjectInfo | None: ...
    def read_first_bytes(self, key: str, count: int) -> bytes: ...
    def read_if_exists(self, key: str, *, max_bytes: int) -> bytes | None: ...
    def write(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str,
        metadata: dict[str, str] | None = None,
        cache_control: str | None = None,
    ) -> None: ...
    def copy_from(self, source_bucket: str, source_key: str, key: str) -> None: ...
    def delete(self, key: str) -> None: ...


class IngestStore(Protocol):
    def claim(self, record: IngestRecord) -> tuple[IngestRecord, bool]:
        """Store ``record`` unless one with its key exists; return the stored one and whether
        it is the new one."""
        ...

    def reclaim(self, fresh: IngestRecord) -> IngestRecord:
        """Replace a REJECTED record with ``fresh`` (a photo dropped again after its rejection);
        the stored record when it is no longer rejected (another delivery reclaimed it)."""
        ...

    def mark(
        self, record: IngestRecord, status: IngestStatus, *, now: datetime, error_code: str | None = None
    ) -> IngestRecord: ...


class PredictionCanceller(Protocol):
    """Stops the provider predictions of a design that was just canceled (best effort)."""

    def cancel(self, design: Design) -> None: ...


# --- tenants, API keys, usage counters, batches ------------------------------------------
class TenantStore(Protocol):
    def create(self, tenant: Tenant) -> None: ...
    def get(self, tenant_id: str) -> Tenant: ...
    def list(self) -> list[Tenant]: ...
    def save(self, tenant: Tenant) -> None: ...


class ApiKeyStore(Protocol):
    def create(self, key: ApiKey) -> None: ...
    def find(self, key_id: str) -> ApiKey | None: ...
    def list_for_tenant(self, tenant_id: str) -> list[ApiKey]: ...
    def revoke(self, key_id: str, *, at: datetime) -> ApiKey: ...
    def touch(self, key_id: str, *, at: datetime) -> None: ...


class UsageCounters(Protocol):
    def add_within_limits(self, changes: Sequence[CounterChange]) -> int | None:
        """Apply every change or none; ``None`` when applied, else the index of a change over its limit."""
        ...

    def subtract(self, changes: Sequence[CounterChange], *, once_for: str | None = None) -> bool:
        """Take units back; with ``once_for``, at most once per that id. False when already done."""
        ...

    def read(self, scope: str, period: str) -> int: ...


class BatchStore(Protocol):
    def create(self, batch: Batch) -> None: ...
    def get(self, tenant_id: str, batch_id: str) -> Batch: ...
    def join(self, batch: Batch, design_id: str) -> BatchTally | None: ...
    def record_outcome(
        self, tenant_id: str, batch_id: str, design_id: str, status: DesignStatus
    ) -> BatchTally: ...
    def keep_only(self, tenant_id: str, batch_id: str, design_ids: Sequence[str]) -> BatchTally: ...
    def claim_completion(self, tenant_id: str, batch_id: str, *, total: int, at: datetime) -> bool: ...
    def release_completion(self, tenant_id: str, batch_id: str) -> None: ...


class DesignReader(Protocol):
    def get_many(self, tenant_id: str, design_ids: Sequence[str]) -> Sequence[Design]: ...


class BatchEventSink(Protocol):
    def publish_event(self, detail_type: str, detail: BaseModel) -> None: ...


class DesignQuota(Protocol):
    def consume_designs(self, tenant_id: str, units: int, *, at: datetime) -> None: ...
    def release_designs(self, tenant_id: str, units: int, *, at: datetime) -> None: ...


class BatchMembership(Protocol):
    def join(self, tenant_id: str, batch_id: str, design_id: str) -> None: ...
