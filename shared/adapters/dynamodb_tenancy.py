"""DynamoDB through PynamoDB: tenants, API keys (hashes only) and the usage counters behind quotas.

Counters change only through conditional updates (``ADD`` guarded by ``used <= limit - units``), and a
use that counts against two counters (the tenant's and the deployment's) is one transaction, so
parallel requests can never take a counter past its limit.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from shared.adapters.dynamodb import bind_model
from shared.domain.clock import parse_iso
from shared.domain.errors import ApiKeyNotFound, ConcurrentUpdate, TenantExists, TenantNotFound
from shared.domain.quality import QualityPolicy
from shared.domain.quotas import REFUND_SCOPE, CounterChange
from shared.domain.tenants import ApiKey, Limits, Tenant, TenantStatus
from shared.resources import API_KEYS_TABLE, TENANTS_TABLE, USAGE_TABLE
from shared.settings import Settings

T = TypeVar("T")

_CONFLICT_RETRIES = 6


class TenantItem(Model):
    class Meta:
        table_name = TENANTS_TABLE.id

    tenant_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    status = UnicodeAttribute()
    daily_designs = NumberAttribute(null=True)
    requests_per_minute = NumberAttribute(null=True)
    structure_threshold = NumberAttribute(null=True)
    structure_retries = NumberAttribute(null=True)
    inbox_writers = UnicodeSetAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class KeysByTenant(GlobalSecondaryIndex["ApiKeyItem"]):
    class Meta:
        index_name = API_KEYS_TABLE.indexes[0].name
        projection = AllProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute(range_key=True)


class ApiKeyItem(Model):
    class Meta:
        table_name = API_KEYS_TABLE.id

    key_id = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    secret_hash = UnicodeAttribute()
    hint = UnicodeAttribute()
    created_at = UnicodeAttribute()
    last_used_at = UnicodeAttribute(null=True)
    revoked_at = UnicodeAttribute(null=True)
    by_tenant = KeysByTenant()


class UsageItem(Model):
    class Meta:
        table_name = USAGE_TABLE.id

    scope = UnicodeAttribute(hash_key=True)
    period = UnicodeAttribute(range_key=True)
    used = NumberAttribute(null=True)
    expires_at_epoch = NumberAttribute(null=True)


def bind_tenancy_models(settings: Settings) -> None:
    """Point the models at this deployment's tables (and the emulator, on a laptop)."""
    for model, table_name in (
        (TenantItem, settings.tenants_table),
        (ApiKeyItem, settings.api_keys_table),
        (UsageItem, settings.usage_table),
    ):
        bind_model(model, table_name, settings)


def _code(error: Exception) -> str | None:
    return getattr(error, "cause_response_code", None)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


class TenantRepository:
    def __init__(self, settings: Settings) -> None:
        bind_tenancy_models(settings)

    @staticmethod
    def _to_item(tenant: Tenant) -> TenantItem:
        return TenantItem(
            tenant.tenant_id,
            name=tenant.name,
            status=tenant.status.value,
            daily_designs=tenant.limits.daily_designs,
            requests_per_minute=tenant.limits.requests_per_minute,
            structure_threshold=tenant.quality.structure_threshold,
            structure_retries=tenant.quality.structure_retries,
            inbox_writers=set(tenant.inbox_writers) or None,
            created_at=tenant.created_at.isoformat(),
            updated_at=tenant.updated_at.isoformat(),
        )

    @staticmethod
    def _from_item(item: TenantItem) -> Tenant:
        return Tenant(
            tenant_id=item.tenant_id,
            name=item.name,
            status=TenantStatus(item.status),
            limits=Limits(
                daily_designs=None if item.daily_designs is None else int(item.daily_designs),
                requests_per_minute=None
                if item.requests_per_minute is None
                else int(item.requests_per_minute),
            ),
            quality=QualityPolicy(
                structure_threshold=None
                if item.structure_threshold is None
                else float(item.structure_threshold),
                structure_retries=None if item.structure_retries is None else int(item.structure_retries),
            ),
            inbox_writers=tuple(sorted(item.inbox_writers or ())),
            created_at=parse_iso(item.created_at),
            updated_at=parse_iso(item.updated_at),
        )

    def create(self, tenant: Tenant) -> None:
        try:
            self._to_item(tenant).save(condition=TenantItem.tenant_id.does_not_exist())
        except PutError as error:
            if _code(error) == "ConditionalCheckFailedException":
                raise TenantExists(f"tenant {tenant.tenant_id} already exists") from error
            raise

    def get(self, tenant_id: str) -> Tenant:
        try:
            return self._from_item(TenantItem.get(tenant_id, consistent_read=True))
        except DoesNotExist as error:
            raise TenantNotFound(f"no tenant {tenant_id}") from error

    def list(self) -> list[Tenant]:
        return sorted((self._from_item(item) for item in TenantItem.scan()), key=lambda t: t.tenant_id)

    def save(self, tenant: Tenant) -> None:
        try:
            self._to_item(tenant).save(condition=TenantItem.tenant_id.exists())
        except PutError as error:
            if _code(error) == "ConditionalCheckFailedException":
                raise TenantNotFound(f"no tenant {tenant.tenant_id}") from error
            raise


class ApiKeyRepository:
    def __init__(self, settings: Settings) -> None:
        bind_tenancy_models(settings)

    @staticmethod
    def _from_item(item: ApiKeyItem) -> ApiKey:
        return ApiKey(
            key_id=item.key_id,
            tenant_id=item.tenant_id,
            name=item.name,
            secret_hash=item.secret_hash,
            hint=item.hint,
            created_at=parse_iso(item.created_at),
            last_used_at=parse_iso(item.last_used_at) if item.last_used_at else None,
            revoked_at=parse_iso(item.revoked_at) if item.revoked_at else None,
        )

    def create(self, key: ApiKey) -> None:
        ApiKeyItem(
            key.key_id,
            tenant_id=key.tenant_id,
            name=key.name,
            secret_hash=key.secret_hash,
            hint=key.hint,
            created_at=key.created_at.isoformat(),
            last_used_at=_iso(key.last_used_at),
            revoked_at=_iso(key.revoked_at),
        ).save(condition=ApiKeyItem.key_id.does_not_exist())

    def find(self, key_id: str) -> ApiKey | None:
        """The key, read strongly consistent so that a revocation counts from the next request."""
        try:
            return self._from_item(ApiKeyItem.get(key_id, consistent_read=True))
        except DoesNotExist:
            return None

    def list_for_tenant(self, tenant_id: str) -> list[ApiKey]:
        return [self._from_item(item) for item in ApiKeyItem.by_tenant.query(tenant_id)]

    def revoke(self, key_id: str, *, at: datetime) -> ApiKey:
        """Revoke once; revoking a revoked key keeps its first revocation time."""
        item = ApiKeyItem(key_id)
        try:
            item.update(
                actions=[ApiKeyItem.revoked_at.set(at.isoformat())],
                condition=ApiKeyItem.key_id.exists() & ApiKeyItem.revoked_at.does_not_exist(),
            )
        except UpdateError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise
            found = self.find(key_id)
            if found is None:
                raise ApiKeyNotFound(f"no API key {key_id}") from error
            return found
        return self._from_item(item)

    def touch(self, key_id: str, *, at: datetime) -> None:
        try:
            ApiKeyItem(key_id).update(
                actions=[ApiKeyItem.last_used_at.set(at.isoformat())],
                condition=ApiKeyItem.key_id.exists(),
            )
        except UpdateError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise


def _retrying_conflicts(attempt: Callable[[], T]) -> T:
    """DynamoDB cancels transactions that meet on an item (``TransactionConflict``): try again."""
    for n in range(_CONFLICT_RETRIES):
        try:
            return attempt()
        except (TransactWriteError, UpdateError) as error:
            reasons = getattr(error, "cancellation_reasons", None) or []
            conflicted = _code(error) == "TransactionConflictException" or any(
                r is not None and r.code == "TransactionConflict" for r in reasons
            )
            if not conflicted or n == _CONFLICT_RETRIES - 1:
                raise
            time.sleep(random.uniform(0, 0.01 * 2**n))
    raise ConcurrentUpdate("usage counters kept conflicting; try again")  # pragma: no cover


def _failed_condition(error: TransactWriteError) -> int | None:
    for index, reason in enumerate(error.cancellation_reasons or []):
        if reason is not None and reason.code == "ConditionalCheckFailed":
            return index
    return None


class UsageCounterTable:
    """Atomic counters: ``used`` per ``(scope, period)``, expiring with the period (TTL)."""

    def __init__(self, settings: Settings) -> None:
        bind_tenancy_models(settings)
        self._connection = Connection(region=settings.region, host=settings.aws_endpoint_url)

    @staticmethod
    def _add(change: CounterChange) -> tuple[UsageItem, list[Any], Any]:
        item = UsageItem(change.scope, change.period)
        actions = [UsageItem.used.add(change.units), UsageItem.expires_at_epoch.set(change.expires_at_epoch)]
        condition = None
        if change.limit is not None:
            condition = UsageItem.used.does_not_exist() | (UsageItem.used <= change.limit - change.units)
        return item, actions, condition

    def add_within_limits(self, changes: Sequence[CounterChange]) -> int | None:
        for index, change in enumerate(changes):
            if change.limit is not None and change.units > change.limit:
                return index
        if len(changes) == 1:
            return self._add_one(changes[0])

        def attempt() -> None:
            with TransactWrite(connection=self._connection) as transaction:
                for change in changes:
                    item, actions, condition = self._add(change)
                    transaction.update(item, actions=actions, condition=condition)

        try:
            _retrying_conflicts(attempt)
        except TransactWriteError as error:
            refused = _failed_condition(error)
            if refused is None:
                raise
            return refused
        return None

    def _add_one(self, change: CounterChange) -> int | None:
        item, actions, condition = self._add(change)
        try:
            _retrying_conflicts(lambda: item.update(actions=actions, condition=condition))
        except UpdateError as error:
            if _code(error) == "ConditionalCheckFailedException":
                return 0
            raise
        return None

    def subtract(self, changes: Sequence[CounterChange], *, once_for: str | None = None) -> bool:
        def attempt() -> None:
            with TransactWrite(connection=self._connection) as transaction:
                if once_for is not None:
                    marker = UsageItem(
                        REFUND_SCOPE,
                        once_for,
                        used=1,
                        expires_at_epoch=max(c.expires_at_epoch for c in changes),
                    )
                    transaction.save(marker, condition=UsageItem.scope.does_not_exist())
                for change in changes:
                    transaction.update(
                        UsageItem(change.scope, change.period),
                        actions=[UsageItem.used.add(-change.units)],
                        condition=UsageItem.used >= change.units,
                    )

        try:
            _retrying_conflicts(attempt)
        except TransactWriteError as error:
            if _failed_condition(error) is None:
                raise
            return False  # done before (the marker exists), or nothing left to give back
        return True

    def read(self, scope: str, period: str) -> int:
        try:
            item = UsageItem.get(scope, period, consistent_read=True)
        except DoesNotExist:
            return 0
        return int(item.used or 0)
