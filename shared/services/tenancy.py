"""Tenants and API keys: authenticating a request, and the operator's administration of both."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import ValidationError as PydanticValidationError

from shared.domain.clock import utcnow
from shared.domain.errors import (
    ApiKeyRevoked,
    InvalidApiKey,
    TenantDisabled,
    TenantNotFound,
    ValidationFailed,
)
from shared.domain.inbox_writers import is_unique_id
from shared.domain.ports import ApiKeyStore, TenantStore
from shared.domain.quality import QualityPolicy
from shared.domain.tenants import (
    ApiKey,
    Limits,
    NewKey,
    Principal,
    Tenant,
    TenantStatus,
    check_tenant_id,
    hash_api_key,
    key_id_of,
    key_matches,
    new_api_key,
    new_tenant_id,
)


class Authenticator:
    """API key → tenant. Reads the key on every request (no cache), so revocation is immediate."""

    def __init__(
        self,
        *,
        keys: ApiKeyStore,
        tenants: TenantStore,
        touch_seconds: int = 60,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._keys = keys
        self._tenants = tenants
        self._touch = timedelta(seconds=touch_seconds)
        self._clock = clock

    def authenticate(self, token: str) -> Principal:
        key_id = key_id_of(token)
        key = self._keys.find(key_id)
        if key is None or not key_matches(token, key.secret_hash):
            raise InvalidApiKey("the API key is not valid")
        if key.revoked:
            raise ApiKeyRevoked(f"API key {key_id} was revoked")
        try:
            tenant = self._tenants.get(key.tenant_id)
        except TenantNotFound as error:
            raise InvalidApiKey("the API key is not valid") from error
        if not tenant.active:
            raise TenantDisabled(f"tenant {tenant.tenant_id} is disabled")
        now = self._clock()
        if key.last_used_at is None or now - key.last_used_at >= self._touch:
            self._keys.touch(key_id, at=now)  # at most once per interval: not a write per request
        return Principal(tenant=tenant, key_id=key_id)


class TenantAdmin:
    """What ``roomcraft admin`` does: tenants, and the keys that act for them."""

    def __init__(
        self, *, tenants: TenantStore, keys: ApiKeyStore, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._tenants = tenants
        self._keys = keys
        self._clock = clock

    # --- tenants -----------------------------------------------------------------------
    def create_tenant(
        self, name: str, *, tenant_id: str | None = None, limits: Limits | None = None
    ) -> Tenant:
        now = self._clock()
        tenant = Tenant(
            tenant_id=check_tenant_id(tenant_id) if tenant_id else new_tenant_id(),
            name=name,
            limits=limits or Limits(),
            created_at=now,
            updated_at=now,
        )
        self._tenants.create(tenant)
        return tenant

    def get_tenant(self, tenant_id: str) -> Tenant:
        return self._tenants.get(tenant_id)

    def list_tenants(self) -> list[Tenant]:
        return self._tenants.list()

    def update_tenant(
        self,
        tenant_id: str,
        *,
        name: str | None = None,
        status: TenantStatus | None = None,
        daily_designs: int | None = None,
        requests_per_minute: int | None = None,
    ) -> Tenant:
        """Change what is given; limits not given stay as they are."""
        tenant = self._tenants.get(tenant_id)
        limits = Limits(
            daily_designs=tenant.limits.daily_designs if daily_designs is None else daily_designs,
            requests_per_minute=(
                tenant.limits.requests_per_minute if requests_per_minute is None else requests_per_minute
            ),
        )
        updated = tenant.model_copy(
            update={
                "name": name or tenant.name,
                "status": status or tenant.status,
                "limits": limits,
                "updated_at": self._clock(),
            }
        )
        self._tenants.save(updated)
        return updated

    def set_quality_policy(
        self, tenant_id: str, *, threshold: float | None = None, retries: int | None = None
    ) -> Tenant:
        """The tenant's structure threshold and regenerations (docs/quality.md); parts not given stay."""
        tenant = self._tenants.get(tenant_id)
        own = tenant.quality
        try:
            policy = QualityPolicy(
                structure_threshold=own.structure_threshold if threshold is None else threshold,
                structure_retries=own.structure_retries if retries is None else retries,
            )
        except PydanticValidationError as error:
            raise ValidationFailed(
                "the structure threshold is a score from 0 to 1 and the retries 0 to 3"
            ) from error
        updated = tenant.model_copy(update={"quality": policy, "updated_at": self._clock()})
        self._tenants.save(updated)
        return updated

    # --- inbox writers ------------------------------------------------------------------
    def allow_inbox_writer(self, tenant_id: str, writer: str) -> Tenant:
        """Let one IAM identity (its unique id, ``AROA…``/``AIDA…``) drop photos for the tenant."""
        if not is_unique_id(writer):
            raise ValidationFailed(f"{writer!r} is not an IAM unique id (AROA… for a role, AIDA… for a user)")
        return self._set_inbox_writers(tenant_id, lambda current: current | {writer})

    def revoke_inbox_writer(self, tenant_id: str, writer: str) -> Tenant:
        """From the next drop on, objects this identity writes for the tenant are quarantined."""
        return self._set_inbox_writers(tenant_id, lambda current: current - {writer})

    def _set_inbox_writers(self, tenant_id: str, change: Callable[[set[str]], set[str]]) -> Tenant:
        tenant = self._tenants.get(tenant_id)
        writers = tuple(sorted(change(set(tenant.inbox_writers))))
        updated = tenant.model_copy(update={"inbox_writers": writers, "updated_at": self._clock()})
        self._tenants.save(updated)
        return updated

    # --- keys --------------------------------------------------------------------------
    def create_key(self, tenant_id: str, *, name: str = "default") -> tuple[ApiKey, str]:
        """A new key for the tenant; the returned token is the only time the key is ever seen."""
        return self._store_key(tenant_id, new_api_key(), name=name)

    def import_key(self, tenant_id: str, token: str, *, name: str) -> ApiKey:
        """Register a key chosen elsewhere (the local cloud's pinned development key)."""
        existing = self._keys.find(key_id_of(token))
        if (
            existing is not None
            and existing.tenant_id == tenant_id
            and key_matches(token, existing.secret_hash)
        ):
            return existing
        key, _ = self._store_key(tenant_id, NewKey(key_id=key_id_of(token), token=token), name=name)
        return key

    def _store_key(self, tenant_id: str, new: NewKey, *, name: str) -> tuple[ApiKey, str]:
        self._tenants.get(tenant_id)  # the tenant must exist
        key = ApiKey(
            key_id=new.key_id,
            tenant_id=tenant_id,
            name=name,
            secret_hash=hash_api_key(new.token),
            hint=new.token[-4:],
            created_at=self._clock(),
        )
        self._keys.create(key)
        return key, new.token

    def list_keys(self, tenant_id: str) -> list[ApiKey]:
        self._tenants.get(tenant_id)
        return self._keys.list_for_tenant(tenant_id)

    def revoke_key(self, key_id: str) -> ApiKey:
        return self._keys.revoke(key_id, at=self._clock())

    def ensure_tenant(self, tenant_id: str, *, name: str, limits: Limits | None = None) -> Tenant:
        try:
            return self._tenants.get(tenant_id)
        except TenantNotFound:
            return self.create_tenant(name, tenant_id=tenant_id, limits=limits)
