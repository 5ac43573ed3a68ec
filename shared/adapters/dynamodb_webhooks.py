"""DynamoDB through PynamoDB: webhook endpoints (per tenant) and their delivery logs (with TTL).

Endpoints: configuration in a versioned JSON document written conditionally; health (when the
current run of failures started, last success and failure) in top-level attributes that the
dispatcher updates atomically without touching the version, so deliveries never conflict with
a tenant's edits. The number of a tenant's registered endpoints is a counter item in the same
partition (``#registered``), changed in one transaction with each create and delete and guarded
by a condition, so parallel creates cannot pass the limit. Messages: one item per event per
endpoint, keyed ``{tenant}#{endpoint}`` + message id (time-ordered), holding the payload and every
attempt.
"""

from __future__ import annotations

import builtins
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from shared.adapters.dynamodb import _is_conditional_failure, bind_model, decode_cursor, encode_cursor
from shared.domain.errors import ConcurrentUpdate
from shared.domain.webhooks import (
    EndpointHealth,
    MessageStatus,
    WebhookEndpoint,
    WebhookMessage,
    message_id_floor,
)
from shared.resources import WEBHOOK_ENDPOINTS_TABLE, WEBHOOK_MESSAGES_TABLE
from shared.settings import Settings


class WebhookEndpointItem(Model):
    class Meta:
        table_name = WEBHOOK_ENDPOINTS_TABLE.id

    tenant_id = UnicodeAttribute(hash_key=True)
    endpoint_id = UnicodeAttribute(range_key=True)
    version = NumberAttribute()
    document = UnicodeAttribute()
    failing_since = NumberAttribute(null=True)
    last_success_at = NumberAttribute(null=True)
    last_failure_at = NumberAttribute(null=True)


class EndpointCountItem(Model):
    """How many registered endpoints a tenant has (the default channel is not one)."""

    class Meta:
        table_name = WEBHOOK_ENDPOINTS_TABLE.id

    tenant_id = UnicodeAttribute(hash_key=True)
    endpoint_id = UnicodeAttribute(range_key=True)
    registered = NumberAttribute(null=True)


COUNTER_ID = "#registered"
"""The counter item's sort key: no endpoint id starts with ``#``."""
_CONFLICT_RETRIES = 8


class WebhookMessageItem(Model):
    class Meta:
        table_name = WEBHOOK_MESSAGES_TABLE.id

    endpoint_key = UnicodeAttribute(hash_key=True)
    message_id = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    version = NumberAttribute()
    document = UnicodeAttribute()
    expires_at_epoch = NumberAttribute()


def bind_webhook_models(settings: Settings) -> None:
    for model, table_name in (
        (WebhookEndpointItem, settings.webhook_endpoints_table),
        (EndpointCountItem, settings.webhook_endpoints_table),
        (WebhookMessageItem, settings.webhook_messages_table),
    ):
        bind_model(model, table_name, settings)


def _epoch(moment: datetime) -> float:
    return round(moment.timestamp(), 3)


def _moment(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(float(epoch), UTC)


def _cancelled_at(error: TransactWriteError, code: str) -> int | None:
    for index, reason in enumerate(error.cancellation_reasons or []):
        if reason is not None and reason.code == code:
            return index
    return None


class WebhookEndpointRepository:
    def __init__(self, settings: Settings) -> None:
        bind_webhook_models(settings)
        self._connection = Connection(region=settings.region, host=settings.aws_endpoint_url)

    @staticmethod
    def _item(endpoint: WebhookEndpoint) -> WebhookEndpointItem:
        return WebhookEndpointItem(
            endpoint.tenant_id,
            endpoint.endpoint_id,
            version=endpoint.version,
            document=endpoint.model_dump_json(),
        )

    def create(self, endpoint: WebhookEndpoint) -> bool:
        try:
            self._item(endpoint).save(condition=WebhookEndpointItem.endpoint_id.does_not_exist())
        except PutError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    def create_within_limit(self, endpoint: WebhookEndpoint, *, limit: int) -> bool:
        """Create a registered endpoint and count it, in one transaction; False (nothing written)
        when the tenant already has ``limit``."""
        self._seed_counter(endpoint.tenant_id)
        counter = EndpointCountItem(endpoint.tenant_id, COUNTER_ID)
        for _ in range(_CONFLICT_RETRIES):
            try:
                with TransactWrite(connection=self._connection) as transaction:
                    transaction.update(
                        counter,
                        actions=[EndpointCountItem.registered.add(1)],
                        condition=EndpointCountItem.registered <= limit - 1,
                    )
                    transaction.save(
                        self._item(endpoint), condition=WebhookEndpointItem.endpoint_id.does_not_exist()
                    )
            except TransactWriteError as error:
                # PynamoDB sends deletes, then puts, then updates: the put is 0, the counter 1.
                failed = _cancelled_at(error, "ConditionalCheckFailed")
                if failed == 1:
                    return False
                if failed == 0:
                    raise ConcurrentUpdate(
                        f"webhook endpoint {endpoint.endpoint_id} already exists"
                    ) from error
                if _cancelled_at(error, "TransactionConflict") is None:
                    raise
                continue  # another create or delete met this one on the counter: try again
            return True
        raise ConcurrentUpdate("webhook endpoints of this tenant keep changing; try again")

    def _seed_counter(self, tenant_id: str) -> None:
        """Tenants from before the counter: count their registered endpoints once."""
        try:
            EndpointCountItem.get(tenant_id, COUNTER_ID, consistent_read=True)
            return
        except DoesNotExist:
            pass
        registered = sum(1 for e in self.list(tenant_id) if not e.is_default_channel)
        try:
            EndpointCountItem(tenant_id, COUNTER_ID, registered=registered).save(
                condition=EndpointCountItem.endpoint_id.does_not_exist()
            )
        except PutError as error:
            if not _is_conditional_failure(error):
                raise  # otherwise another request seeded it first

    def find(self, tenant_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        if endpoint_id == COUNTER_ID:
            return None
        try:
            item = WebhookEndpointItem.get(tenant_id, endpoint_id, consistent_read=True)
        except DoesNotExist:
            return None
        return WebhookEndpoint.model_validate_json(item.document)

    def list(self, tenant_id: str) -> list[WebhookEndpoint]:
        return [
            WebhookEndpoint.model_validate_json(item.document)
            for item in WebhookEndpointItem.query(tenant_id, consistent_read=True)
            if item.endpoint_id != COUNTER_ID
        ]

    def save_if_unchanged(self, previous: WebhookEndpoint, updated: WebhookEndpoint) -> None:
        try:
            self._item(previous).update(
                actions=[
                    WebhookEndpointItem.version.set(updated.version),
                    WebhookEndpointItem.document.set(updated.model_dump_json()),
                ],
                condition=WebhookEndpointItem.version == previous.version,
            )
        except UpdateError as error:
            if _is_conditional_failure(error):
                raise ConcurrentUpdate(
                    f"webhook endpoint {previous.endpoint_id} changed since version {previous.version}"
                ) from error
            raise

    def delete(self, tenant_id: str, endpoint_id: str) -> bool:
        """Delete an endpoint and count it out; False when there is none."""
        if endpoint_id == COUNTER_ID:
            return False
        for _ in range(_CONFLICT_RETRIES):
            try:
                with TransactWrite(connection=self._connection) as transaction:
                    transaction.delete(
                        WebhookEndpointItem(tenant_id, endpoint_id),
                        condition=WebhookEndpointItem.endpoint_id.exists(),
                    )
                    transaction.update(
                        EndpointCountItem(tenant_id, COUNTER_ID),
                        actions=[EndpointCountItem.registered.add(-1)],
                        condition=EndpointCountItem.registered >= 1,
                    )
            except TransactWriteError as error:
                failed = _cancelled_at(error, "ConditionalCheckFailed")  # the delete is 0, the counter 1
                if failed == 0:
                    return False
                if failed == 1:
                    break  # not counted yet (a tenant from before the counter): a plain delete
                if _cancelled_at(error, "TransactionConflict") is None:
                    raise
                continue
            return True
        try:
            WebhookEndpointItem(tenant_id, endpoint_id).delete(
                condition=WebhookEndpointItem.endpoint_id.exists()
            )
        except DeleteError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    def health(self, tenant_id: str, endpoint_id: str) -> EndpointHealth:
        if endpoint_id == COUNTER_ID:
            return EndpointHealth()
        try:
            item = WebhookEndpointItem.get(tenant_id, endpoint_id, consistent_read=True)
        except DoesNotExist:
            return EndpointHealth()
        return EndpointHealth(
            failing_since=_moment(item.failing_since),
            last_success_at=_moment(item.last_success_at),
            last_failure_at=_moment(item.last_failure_at),
        )

    def record_success(self, tenant_id: str, endpoint_id: str, now: datetime) -> None:
        self._update_health(
            tenant_id,
            endpoint_id,
            [
                WebhookEndpointItem.failing_since.remove(),
                WebhookEndpointItem.last_success_at.set(_epoch(now)),
            ],
        )

    def record_failure(self, tenant_id: str, endpoint_id: str, now: datetime) -> datetime | None:
        item = self._update_health(
            tenant_id,
            endpoint_id,
            [
                # if_not_exists: only the first failure of a run sets it.
                WebhookEndpointItem.failing_since.set(WebhookEndpointItem.failing_since | _epoch(now)),
                WebhookEndpointItem.last_failure_at.set(_epoch(now)),
            ],
        )
        return None if item is None else _moment(item.failing_since)

    def clear_failures(self, tenant_id: str, endpoint_id: str) -> None:
        self._update_health(tenant_id, endpoint_id, [WebhookEndpointItem.failing_since.remove()])

    @staticmethod
    def _update_health(
        tenant_id: str, endpoint_id: str, actions: builtins.list[Any]
    ) -> WebhookEndpointItem | None:
        item = WebhookEndpointItem(tenant_id, endpoint_id)
        try:
            item.update(actions=actions, condition=WebhookEndpointItem.endpoint_id.exists())
        except UpdateError as error:
            if _is_conditional_failure(error):
                return None  # deleted meanwhile
            raise
        return item


class WebhookMessageRepository:
    def __init__(self, settings: Settings) -> None:
        bind_webhook_models(settings)
        self._retention = timedelta(days=settings.webhook_log_retention_days)

    @staticmethod
    def _key(tenant_id: str, endpoint_id: str) -> str:
        return f"{tenant_id}#{endpoint_id}"

    def _item(self, message: WebhookMessage) -> WebhookMessageItem:
        return WebhookMessageItem(
            self._key(message.tenant_id, message.endpoint_id),
            message.message_id,
            status=message.status.value,
            version=message.version,
            document=message.model_dump_json(),
            # Kept for the retention period after its last activity; DynamoDB's TTL removes it.
            expires_at_epoch=int((message.updated_at + self._retention).timestamp()),
        )

    def create(self, message: WebhookMessage) -> WebhookMessage | None:
        try:
            self._item(message).save(condition=WebhookMessageItem.message_id.does_not_exist())
        except PutError as error:
            if _is_conditional_failure(error):
                return self.find(message.tenant_id, message.endpoint_id, message.message_id)
            raise
        return None

    def find(self, tenant_id: str, endpoint_id: str, message_id: str) -> WebhookMessage | None:
        try:
            item = WebhookMessageItem.get(self._key(tenant_id, endpoint_id), message_id, consistent_read=True)
        except DoesNotExist:
            return None
        return WebhookMessage.model_validate_json(item.document)

    def save_if_unchanged(self, previous: WebhookMessage, updated: WebhookMessage) -> None:
        new = self._item(updated)
        try:
            self._item(previous).update(
                actions=[
                    WebhookMessageItem.status.set(new.status),
                    WebhookMessageItem.version.set(new.version),
                    WebhookMessageItem.document.set(new.document),
                    WebhookMessageItem.expires_at_epoch.set(new.expires_at_epoch),
                ],
                condition=WebhookMessageItem.version == previous.version,
            )
        except UpdateError as error:
            if _is_conditional_failure(error):
                raise ConcurrentUpdate(
                    f"webhook message {previous.message_id} changed since version {previous.version}"
                ) from error
            raise

    def list(
        self,
        tenant_id: str,
        endpoint_id: str,
        *,
        limit: int,
        cursor: str | None = None,
        status: MessageStatus | None = None,
        since: datetime | None = None,
        newest_first: bool = True,
    ) -> tuple[list[WebhookMessage], str | None]:
        results = WebhookMessageItem.query(
            self._key(tenant_id, endpoint_id),
            range_key_condition=(WebhookMessageItem.message_id >= message_id_floor(since)) if since else None,
            filter_condition=(WebhookMessageItem.status == status.value) if status else None,
            scan_index_forward=not newest_first,
            limit=limit,
            page_size=limit,
            last_evaluated_key=(
                decode_cursor(
                    cursor,
                    partition=("endpoint_key", self._key(tenant_id, endpoint_id)),
                    sort_key="message_id",
                )
                if cursor
                else None
            ),
        )
        messages = [WebhookMessage.model_validate_json(item.document) for item in results]
        return messages, encode_cursor(results.last_evaluated_key)
