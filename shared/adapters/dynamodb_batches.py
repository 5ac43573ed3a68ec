"""DynamoDB through PynamoDB: batches, with race-safe counting of their designs' outcomes.

Each terminal design adds its id to one of three string sets on the batch item (``ADD`` is atomic
and adding an id twice is a no-op), so the count of finished designs is exact however many workers
finish at once and however often one of them retries. Completion is claimed with a conditional
write on ``completed_at`` (and on ``total``, which an open batch may grow meanwhile), so one
caller, and only one, announces it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.models import Model

from shared.adapters.dynamodb import bind_model
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
    document = UnicodeAttribute(null=True)
    total = NumberAttribute(null=True)
    member_ids = UnicodeSetAttribute(null=True)
    """Designs that joined an open batch (an inbox drop) one by one; API batches list theirs in
    the document."""
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
    bind_model(BatchItem, settings.batches_table, settings)


def _conditional(error: Exception) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def _tally(item: BatchItem) -> BatchTally:
    def count(outcomes: set[str] | None) -> int:
        if item.member_ids is None:  # an API batch: only its own designs ever name it
            return len(outcomes or ())
        return len((outcomes or set()) & item.member_ids)  # an open batch: finished but not joined yet

    return BatchTally(
        total=int(item.total or 0),
        succeeded=count(item.succeeded_ids),
        failed=count(item.failed_ids),
        canceled=count(item.canceled_ids),
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
        if item.document is None:  # outcomes recorded before the first design joined: not yet a batch
            raise BatchNotFound(f"no batch {batch_id}")
        batch = Batch.model_validate_json(item.document)
        if item.member_ids:
            batch = batch.model_copy(update={"design_ids": tuple(sorted(item.member_ids))})
        return batch

    def join(self, batch: Batch, design_id: str) -> BatchTally | None:
        """Add ``design_id`` to an open batch, creating the batch with ``batch``'s fields if new.

        Joining reopens a completed batch (it has one more design to wait for). None when the
        design is a member already (a retried ingest).
        """
        item = BatchItem(batch.tenant_id, batch.batch_id)
        try:
            item.update(
                actions=[
                    BatchItem.document.set(BatchItem.document | batch.model_dump_json()),
                    BatchItem.member_ids.add({design_id}),
                    BatchItem.total.add(1),
                    BatchItem.completed_at.remove(),
                ],
                condition=BatchItem.member_ids.does_not_exist() | ~BatchItem.member_ids.contains(design_id),
            )
        except UpdateError as error:
            if _conditional(error):
                return None
            raise
        return _tally(item)

    def record_outcome(
        self, tenant_id: str, batch_id: str, design_id: str, status: DesignStatus
    ) -> BatchTally:
        """Count ``design_id`` as finished with ``status``.

        An upsert: a design of an open batch may finish before it has joined (the worker can be
        faster than the ingest that created it); its outcome waits on the item until it joins.
        """
        item = BatchItem(tenant_id, batch_id)
        item.update(actions=[_OUTCOME_SETS[status].add({design_id})])
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

    def claim_completion(self, tenant_id: str, batch_id: str, *, total: int, at: datetime) -> bool:
        """Claim the announcement of a batch of ``total`` designs; False if claimed, or if it grew."""
        try:
            BatchItem(tenant_id, batch_id).update(
                actions=[BatchItem.completed_at.set(at.isoformat())],
                condition=BatchItem.completed_at.does_not_exist() & (BatchItem.total == total),
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
