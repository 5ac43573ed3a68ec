"""Tenants and their API keys: who is calling, and what they may use.

An API key reads ``rc_<ULID>_<secret>``. The ULID is the key's id (``key_<ULID>``), so a key is found
with one read; the secret is 256 random bits. Only the SHA-256 of the whole key is stored: with that
much entropy a fast hash is as safe as a slow one, and it keeps authentication to one hash per request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.errors import InvalidApiKey, InvalidTenantId
from shared.domain.ids import new_ulid
from shared.domain.quality import QualityPolicy

KEY_PREFIX = "rc_"
_KEY_PATTERN = re.compile(r"^rc_([0-9A-HJKMNP-TV-Z]{26})_([A-Za-z0-9_-]{32,128})$")
_TENANT_PATTERN = re.compile(r"^tnt_[A-Za-z0-9_-]{1,64}$")


class TenantStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class Limits(BaseModel):
    """A tenant's own limits; ``None`` means the deployment's default (``ROOMCRAFT_DEFAULT_*``)."""

    model_config = ConfigDict(frozen=True)

    daily_designs: int | None = Field(default=None, ge=0)
    requests_per_minute: int | None = Field(default=None, ge=1)


class Tenant(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    name: str
    status: TenantStatus = TenantStatus.ACTIVE
    limits: Limits = Limits()
    quality: QualityPolicy = QualityPolicy()
    """Structure threshold and regenerations (docs/quality.md); None parts: the deployment's."""
    inbox_writers: tuple[str, ...] = ()
    """IAM unique ids (``AROA…``, ``AIDA…``) allowed to drop photos under ``inbox/<tenant>/``."""
    created_at: datetime
    updated_at: datetime

    @property
    def active(self) -> bool:
        return self.status is TenantStatus.ACTIVE


class ApiKey(BaseModel):
    """What is stored about a key: never the key itself."""

    model_config = ConfigDict(frozen=True)

    key_id: str
    tenant_id: str
    name: str
    secret_hash: str
    """SHA-256 (hex) of the whole key."""
    hint: str
    """The key's last four characters, to tell keys apart in a list."""
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the tenant, and which of its keys it used."""

    tenant: Tenant
    key_id: str

    @property
    def tenant_id(self) -> str:
        return self.tenant.tenant_id


@dataclass(frozen=True)
class NewKey:
    key_id: str
    token: str
    """The key itself: shown once, at creation, and never stored."""


def new_api_key() -> NewKey:
    ulid = new_ulid()
    return NewKey(key_id=f"key_{ulid}", token=f"{KEY_PREFIX}{ulid}_{secrets.token_urlsafe(32)}")


def key_id_of(token: str) -> str:
    """The id of the key ``token`` claims to be; refuses anything not shaped like one of our keys."""
    match = _KEY_PATTERN.match(token)
    if match is None:
        raise InvalidApiKey("the API key is malformed; keys look like rc_<id>_<secret>")
    return f"key_{match.group(1)}"


def hash_api_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def key_matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_api_key(token), stored_hash)


def new_tenant_id() -> str:
    return f"tnt_{new_ulid()}"


def check_tenant_id(tenant_id: str) -> str:
    """Tenant ids appear in storage keys: ``tnt_`` then letters, digits, dashes and underscores only."""
    if not _TENANT_PATTERN.match(tenant_id):
        raise InvalidTenantId(
            f"tenant id {tenant_id!r} is not valid: "
            "use tnt_ followed by up to 64 letters, digits, dashes or underscores"
        )
    return tenant_id
