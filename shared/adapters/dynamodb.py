"""DynamoDB through PynamoDB: designs and uploads, with conditional, versioned writes.

Item layout: keys and the attributes that conditions and indexes need are top-level; the whole
aggregate is kept as a JSON document so the schema can grow without migrations.
"""

from __future__ import annotations

import base64
import builtins
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from shared.adapters.aws import share_session_with_pynamodb
from shared.domain.design import Design
from shared.domain.errors import ConcurrentUpdate, CursorInvalid, DesignNotFound, UploadNotFound
from shared.domain.inbox import IngestRecord, IngestStatus
from shared.domain.status import DesignStatus
from shared.domain.upload import Upload
from shared.resources import DESIGNS_TABLE, INGESTS_TABLE, OPEN_DESIGN_SHARDS, UPLOADS_TABLE
from shared.settings import Settings


class OpenDesigns(GlobalSecondaryIndex["DesignItem"]):
    """Sparse: only designs that are not terminal carry its keys (``open_shard``, ``open_since``)."""

    class Meta:
        index_name = DESIGNS_TABLE.indexes[0].name
        projection = AllProjection()

    open_shard = UnicodeAttribute(hash_key=True)
    open_since = UnicodeAttribute(range_key=True)


def sortable_time(moment: datetime) -> str:
    """UTC with a fixed width, so that string order is time order in an index key."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def open_shard(design_id: str) -> str:
    return f"open#{zlib.crc32(design_id.encode()) % OPEN_DESIGN_SHARDS}"


@dataclass(frozen=True)
class OpenDesign:
    """A non-terminal design as the sweeper sees it: the design and what earlier sweeps did."""

    design: Design
    sweeps: int
    swept_at: datetime | None


class DesignItem(Model):
    class Meta:
        table_name = DESIGNS_TABLE.id

    tenant_id = UnicodeAttribute(hash_key=True)
    design_id = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    version = NumberAttribute()
    updated_at = UnicodeAttribute()
    document = UnicodeAttribute()
    lease_owner = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)
    open_shard = UnicodeAttribute(null=True)
    open_since = UnicodeAttribute(null=True)
    """Both set while the design is not terminal (the sparse ``open-designs`` index), removed after."""
    sweeps = NumberAttribute(null=True)
    swept_at = UnicodeAttribute(null=True)
    open_designs = OpenDesigns()


class UploadItem(Model):
    class Meta:
        table_name = UPLOADS_TABLE.id

    tenant_id = UnicodeAttribute(hash_key=True)
    upload_id = UnicodeAttribute(range_key=True)
    document = UnicodeAttribute()
    expires_at_epoch = NumberAttribute()


def bind_model(model: type[Model], table_name: str, settings: Settings) -> None:
    """Point a model at this deployment's table (and the emulator, on a laptop)."""
    meta: Any = model.Meta
    if meta.table_name == table_name and getattr(meta, "host", None) == settings.aws_endpoint_url:
        return
    meta.table_name = table_name
    meta.host = settings.aws_endpoint_url
    meta.region = settings.region
    model._connection = None  # PynamoDB caches the connection with the old table
    share_session_with_pynamodb(model._get_connection().connection)


def bind_models(settings: Settings) -> None:
    bind_model(DesignItem, settings.designs_table, settings)
    bind_model(UploadItem, settings.uploads_table, settings)


def _is_conditional_failure(error: Exception) -> bool:
    cause = getattr(error, "cause_response_code", None)
    return cause == "ConditionalCheckFailedException"


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    raw = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, partition: tuple[str, str], sort_key: str) -> dict[str, Any]:
    """The key a page starts after, checked to be one of this list's keys: the partition key
    attribute holds exactly ``partition``'s value (this tenant's list), the sort key a string, and
    nothing else. Anything else is refused before it reaches DynamoDB."""
    refused = CursorInvalid("cursor is not one this API returned for this list")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as error:
        raise refused from error
    partition_name, partition_value = partition
    if not isinstance(value, dict) or set(value) != {partition_name, sort_key}:
        raise refused
    if value[partition_name] != {"S": partition_value}:
        raise refused
    sort_value = value[sort_key]
    if not (isinstance(sort_value, dict) and set(sort_value) == {"S"} and isinstance(sort_value["S"], str)):
        raise refused
    if not sort_value["S"]:
        raise refused
    return value


class DesignRepository:
    def __init__(self, settings: Settings) -> None:
        bind_models(settings)

    @staticmethod
    def _to_item(design: Design) -> DesignItem:
        return DesignItem(
            design.tenant_id,
            design.design_id,
            status=design.status.value,
            version=design.version,
            updated_at=design.updated_at.isoformat(),
            document=design.model_dump_json(),
        )

    def create(self, design: Design) -> None:
        item = self._to_item(design)
        if not design.status.is_terminal:
            item.open_shard = open_shard(design.design_id)
            item.open_since = sortable_time(design.created_at)
        try:
            item.save(condition=DesignItem.design_id.does_not_exist())
        except PutError as error:
            if _is_conditional_failure(error):
                raise ConcurrentUpdate(f"design {design.design_id} already exists") from error
            raise

    def get(self, tenant_id: str, design_id: str) -> Design:
        try:
            item = DesignItem.get(tenant_id, design_id, consistent_read=True)
        except DoesNotExist as error:
            raise DesignNotFound(f"no design {design_id}") from error
        return Design.model_validate_json(item.document)

    def list(
        self, tenant_id: str, *, limit: int, cursor: str | None, status: DesignStatus | None = None
    ) -> tuple[list[Design], str | None]:
        results = DesignItem.query(
            tenant_id,
            scan_index_forward=False,  # ULIDs sort by time: newest first
            limit=limit,
            filter_condition=(DesignItem.status == status.value) if status else None,
            last_evaluated_key=(
                decode_cursor(cursor, partition=("tenant_id", tenant_id), sort_key="design_id")
                if cursor
                else None
            ),
            page_size=limit,
        )
        designs = [Design.model_validate_json(item.document) for item in results]
        return designs, encode_cursor(results.last_evaluated_key)

    def save_if_unchanged(self, previous: Design, updated: Design) -> None:
        """Write ``updated`` only if the stored design is still exactly ``previous``."""
        item = self._to_item(previous)
        actions: list[Any] = [
            DesignItem.status.set(updated.status.value),
            DesignItem.version.set(updated.version),
            DesignItem.updated_at.set(updated.updated_at.isoformat()),
            DesignItem.document.set(updated.model_dump_json()),
        ]
        if updated.status.is_terminal:  # out of the open-designs index, in the same write
            actions += [DesignItem.open_shard.remove(), DesignItem.open_since.remove()]
        try:
            item.update(
                actions=actions,
                condition=(DesignItem.version == previous.version)
                & (DesignItem.status == previous.status.value),
            )
        except UpdateError as error:
            if _is_conditional_failure(error):
                raise ConcurrentUpdate(
                    f"design {previous.design_id} changed since version {previous.version}"
                ) from error
            raise

    def acquire_lease(self, design: Design, owner: str, *, now: datetime, seconds: int) -> bool:
        """Take exclusive ownership of a design's pipeline for ``seconds``; False if another holds it."""
        epoch = int(now.timestamp())
        item = self._to_item(design)
        try:
            item.update(
                actions=[DesignItem.lease_owner.set(owner), DesignItem.lease_until.set(epoch + seconds)],
                condition=DesignItem.design_id.exists()
                & (
                    DesignItem.lease_until.does_not_exist()
                    | (DesignItem.lease_until < epoch)
                    | (DesignItem.lease_owner == owner)
                ),
            )
        except UpdateError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    def get_many(self, tenant_id: str, design_ids: Sequence[str]) -> Sequence[Design]:
        """The tenant's designs among ``design_ids``, in that order; ids it does not own are skipped."""
        found: dict[str, Design] = {}
        keys = [(tenant_id, design_id) for design_id in dict.fromkeys(design_ids)]
        for item in DesignItem.batch_get(keys, consistent_read=True):
            found[item.design_id] = Design.model_validate_json(item.document)
        return [found[design_id] for design_id in design_ids if design_id in found]

    def delete_unstarted(self, design: Design) -> None:
        """Undo a ``create`` whose message could not be queued: only if nothing touched it since."""
        try:
            self._to_item(design).delete(
                condition=(DesignItem.version == design.version) & (DesignItem.status == design.status.value)
            )
        except DeleteError as error:
            if _is_conditional_failure(error):
                raise ConcurrentUpdate(f"design {design.design_id} changed; it was not removed") from error
            raise

    # --- the sweeper's view: designs not terminal (docs/architecture.md) -------------------
    def open_since_before(self, cutoff: datetime, *, limit: int) -> Sequence[OpenDesign]:
        """Non-terminal designs created before ``cutoff``, oldest first, at most ``limit``."""
        found: builtins.list[OpenDesign] = []
        for shard in range(OPEN_DESIGN_SHARDS):
            for item in DesignItem.open_designs.query(
                f"open#{shard}", DesignItem.open_since < sortable_time(cutoff), limit=limit
            ):
                found.append(
                    OpenDesign(
                        design=Design.model_validate_json(item.document),
                        sweeps=int(item.sweeps or 0),
                        swept_at=datetime.fromisoformat(item.swept_at) if item.swept_at else None,
                    )
                )
        found.sort(key=lambda open_design: open_design.design.created_at)
        return found[:limit]

    def oldest_open_since(self) -> datetime | None:
        """When the oldest design that is not terminal was created (``None``: there is none)."""
        oldest: str | None = None
        for shard in range(OPEN_DESIGN_SHARDS):
            for item in DesignItem.open_designs.query(f"open#{shard}", limit=1, scan_index_forward=True):
                if item.open_since and (oldest is None or item.open_since < oldest):
                    oldest = item.open_since
                break
        return datetime.fromisoformat(oldest) if oldest else None

    def mark_swept(self, design: Design, *, at: datetime, sweeps: int) -> bool:
        """Record a sweep of an open design (outside its versioned document: no race with a worker)."""
        try:
            self._to_item(design).update(
                actions=[DesignItem.sweeps.set(sweeps), DesignItem.swept_at.set(at.isoformat())],
                condition=DesignItem.open_shard.exists(),
            )
        except UpdateError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    def release_lease(self, design: Design, owner: str) -> None:
        item = self._to_item(design)
        try:
            item.update(
                actions=[DesignItem.lease_owner.remove(), DesignItem.lease_until.remove()],
                condition=DesignItem.lease_owner == owner,
            )
        except UpdateError as error:
            if not _is_conditional_failure(error):
                raise


class UploadRepository:
    def __init__(self, settings: Settings) -> None:
        bind_models(settings)
        self._retention = timedelta(days=settings.upload_retention_days)

    def create(self, upload: Upload) -> None:
        UploadItem(
            upload.tenant_id,
            upload.upload_id,
            document=upload.model_dump_json(),
            # The slot's record outlives its presigned URL: designs keep referring to it.
            expires_at_epoch=int((upload.created_at + self._retention).timestamp()),
        ).save(condition=UploadItem.upload_id.does_not_exist())

    def get(self, tenant_id: str, upload_id: str) -> Upload:
        try:
            item = UploadItem.get(tenant_id, upload_id)
        except DoesNotExist as error:
            raise UploadNotFound(f"no upload {upload_id}") from error
        return Upload.model_validate_json(item.document)


# --- S3 inbox: ingest records ----------------------------------------------------------
class IngestItem(Model):
    class Meta:
        table_name = INGESTS_TABLE.id

    ingest_key = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute()
    document = UnicodeAttribute()
    expires_at_epoch = NumberAttribute()


class IngestRepository:
    """One record per inbox object version: the conditional put that makes ingest idempotent."""

    def __init__(self, settings: Settings) -> None:
        bind_model(IngestItem, settings.ingests_table, settings)
        self._retention = timedelta(days=settings.ingest_record_days)

    def _to_item(self, record: IngestRecord) -> IngestItem:
        return IngestItem(
            record.ingest_key,
            status=record.status.value,
            document=record.model_dump_json(),
            expires_at_epoch=int((record.created_at + self._retention).timestamp()),
        )

    def claim(self, record: IngestRecord) -> tuple[IngestRecord, bool]:
        try:
            self._to_item(record).save(condition=IngestItem.ingest_key.does_not_exist())
        except PutError as error:
            if not _is_conditional_failure(error):
                raise
            stored = IngestItem.get(record.ingest_key, consistent_read=True)
            return IngestRecord.model_validate_json(stored.document), False
        return record, True

    def reclaim(self, fresh: IngestRecord) -> IngestRecord:
        try:
            self._to_item(fresh).save(condition=IngestItem.status == IngestStatus.REJECTED.value)
        except PutError as error:
            if not _is_conditional_failure(error):
                raise
            stored = IngestItem.get(fresh.ingest_key, consistent_read=True)
            return IngestRecord.model_validate_json(stored.document)
        return fresh

    def mark(
        self, record: IngestRecord, status: IngestStatus, *, now: datetime, error_code: str | None = None
    ) -> IngestRecord:
        updated = record.model_copy(update={"status": status, "error_code": error_code, "updated_at": now})
        self._to_item(record).update(
            actions=[
                IngestItem.status.set(updated.status.value),
                IngestItem.document.set(updated.model_dump_json()),
            ],
            condition=IngestItem.ingest_key.exists(),
        )
        return updated
