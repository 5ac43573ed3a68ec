"""DynamoDB through PynamoDB: batches, with race-safe counting of their designs' outcomes.

Each terminal design adds its id to one of three string sets on the batch item (``ADD`` is atomic
and adding an id twice is a no-op), so the count of finished designs is exact however many workers
finish at once and however often one of them retries. Completion is claimed with a conditional
write on ``completed_at``, so one caller, and only one, announces it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.models import Model

from shared.domain.batches import Batch, BatchTally
from shared.domain.errors import BatchNotFound, ConcurrentUpdate
from shared.domain.status import DesignStatus
from shared.resources import BATCHES_TABLE
from shared.settings import Settings


class BatchItem(Model):
    class Meta:
        table_name = BATCHES_TABLE.id

    tenant_id = UnicodeAttribute(hash_key=True)
    batch_id = UnicodeAttribute(range_key=True)
    document = UnicodeAttribute()
    total = NumberAttribute()
    succeeded_ids = UnicodeSetAttribute(null=True)
    failed_ids = UnicodeSetAttribute(null=True)
    canceled_ids = UnicodeSetAttribute(null=True)
    completed_at = UnicodeAttribute(null=True)


_OUTCOME_SETS = {
    DesignStatus.SUCCEEDED: BatchItem.succeeded_ids,
    DesignStatus.FAILED: BatchItem.failed_ids,
    DesignStatus.CANCELED: BatchItem.canceled_ids,
}


def bind_batch_model(settings: Settings) -> None:
    meta: Any = BatchItem.Meta
    if meta.table_name == settings.batches_table and getattr(meta, "host", None) == settings.aws_endpoint_url:
        return
    meta.table_name = settings.batches_table
    meta.host = settings.aws_endpoint_url
    meta.region = settings.region
    BatchItem._connection = None


def _conditional(error: Exception) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def _tally(item: BatchItem) -> BatchTally:
    return BatchTally(
        total=int(item.total),
        succeeded=len(item.succeeded_ids or ()),
        failed=len(item.failed_ids or ()),
        canceled=len(item.canceled_ids or ()),
        completion_claimed=item.completed_at is not None,
    )


class BatchRepository:
    def __init__(self, settings: Settings) -> None:
        bind_batch_model(settings)

    def create(self, batch: Batch) -> None:
        item = BatchItem(batch.tenant_id, batch.batch_id, document=batch.model_dump_json(), total=batch.total)
        try:
            item.save(condition=BatchItem.batch_id.does_not_exist())
        except PutError as error:
            if _conditional(error):
                raise ConcurrentUpdate(f"batch {batch.batch_id} already exists") from error
            raise

    def get(self, tenant_id: str, batch_id: str) -> Batch:
        try:
            item = BatchItem.get(tenant_id, batch_id, consistent_read=True)
        except DoesNotExist as error:
            raise BatchNotFound(f"no batch {batch_id}") from error
        return Batch.model_validate_json(item.document)

    def record_outcome(
        self, tenant_id: str, batch_id: str, design_id: str, status: DesignStatus
    ) -> BatchTally | None:
        """Count ``design_id`` as finished with ``status``; None when the batch does not exist."""
        item = BatchItem(tenant_id, batch_id)
        try:
            item.update(
                actions=[_OUTCOME_SETS[status].add({design_id})],
                condition=BatchItem.batch_id.exists(),
            )
        except UpdateError as error:
            if _conditional(error):
                return None
            raise
        return _tally(item)

    def keep_only(self, tenant_id: str, batch_id: str, design_ids: Sequence[str]) -> BatchTally:
        """Shrink a batch to the designs that were actually created (creation failed part way)."""
        batch = self.get(tenant_id, batch_id)
        kept = batch.model_copy(update={"design_ids": tuple(design_ids)})
        item = BatchItem(tenant_id, batch_id)
        item.update(
            actions=[BatchItem.total.set(kept.total), BatchItem.document.set(kept.model_dump_json())],
            condition=BatchItem.batch_id.exists(),
        )
        return _tally(item)

    def claim_completion(self, tenant_id: str, batch_id: str, *, at: datetime) -> bool:
        try:
            BatchItem(tenant_id, batch_id).update(
                actions=[BatchItem.completed_at.set(at.isoformat())],
                condition=BatchItem.batch_id.exists() & BatchItem.completed_at.does_not_exist(),
            )
        except UpdateError as error:
            if _conditional(error):
                return False
            raise
        return True

    def release_completion(self, tenant_id: str, batch_id: str) -> None:
        BatchItem(tenant_id, batch_id).update(
            actions=[BatchItem.completed_at.remove()], condition=BatchItem.batch_id.exists()
        )
