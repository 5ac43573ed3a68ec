"""Tenants and API keys against moto: administration, authentication, revocation, last-used time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.adapters.dynamodb_tenancy import ApiKeyRepository, TenantRepository
from shared.domain.errors import (
    ApiKeyNotFound,
    ApiKeyRevoked,
    InvalidApiKey,
    TenantDisabled,
    TenantExists,
    TenantNotFound,
)
from shared.domain.tenants import Limits, TenantStatus
from shared.services.tenancy import Authenticator, TenantAdmin
from shared.settings import get_settings


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def admin(aws: dict[str, Any], clock: Clock) -> TenantAdmin:
    settings = get_settings()
    return TenantAdmin(tenants=TenantRepository(settings), keys=ApiKeyRepository(settings), clock=clock)


@pytest.fixture
def auth(aws: dict[str, Any], clock: Clock) -> Authenticator:
    settings = get_settings()
    return Authenticator(
        keys=ApiKeyRepository(settings), tenants=TenantRepository(settings), touch_seconds=60, clock=clock
    )


def test_tenants_are_created_listed_and_updated(admin: TenantAdmin) -> None:
    acme = admin.create_tenant("Acme Homes", tenant_id="tnt_acme", limits=Limits(daily_designs=50))
    generated = admin.create_tenant("Beta Realty")
    assert generated.tenant_id.startswith("tnt_")
    assert {t.tenant_id for t in admin.list_tenants()} >= {"tnt_acme", generated.tenant_id, "tnt_default"}
    with pytest.raises(TenantExists):
        admin.create_tenant("Again", tenant_id="tnt_acme")
    updated = admin.update_tenant("tnt_acme", requests_per_minute=30, status=TenantStatus.DISABLED)
    assert updated.limits == Limits(daily_designs=50, requests_per_minute=30)  # untouched limit kept
    assert admin.get_tenant("tnt_acme") == updated
    assert acme.created_at == updated.created_at
    with pytest.raises(TenantNotFound):
        admin.update_tenant("tnt_nobody", name="x")


def test_a_key_authenticates_its_tenant_and_is_stored_only_as_a_hash(
    admin: TenantAdmin, auth: Authenticator, aws: dict[str, Any]
) -> None:
    import boto3

    admin.create_tenant("Acme", tenant_id="tnt_acme")
    key, token = admin.create_key("tnt_acme", name="web app")
    principal = auth.authenticate(token)
    assert (principal.tenant_id, principal.key_id) == ("tnt_acme", key.key_id)
    raw = boto3.client("dynamodb").scan(TableName=aws["ROOMCRAFT_API_KEYS_TABLE"])["Items"]
    assert token not in repr(raw)
    assert token[-4:] == key.hint
    assert [k.key_id for k in admin.list_keys("tnt_acme")] == [key.key_id]


def test_wrong_secret_unknown_key_and_malformed_key_are_one_answer(
    admin: TenantAdmin, auth: Authenticator
) -> None:
    admin.create_tenant("Acme", tenant_id="tnt_acme")
    _, token = admin.create_key("tnt_acme")
    forged = token[:-6] + "AAAAAA"
    unknown = "rc_01JD3F8Y3W2Q9Z5T6V7X8Y9Z0A_" + "x" * 43
    for bad in (forged, unknown, "rc_nonsense"):
        with pytest.raises(InvalidApiKey) as caught:
            auth.authenticate(bad)
        assert caught.value.code == "invalid_api_key"


def test_revocation_takes_effect_on_the_next_request(admin: TenantAdmin, auth: Authenticator) -> None:
    admin.create_tenant("Acme", tenant_id="tnt_acme")
    key, token = admin.create_key("tnt_acme")
    _, other = admin.create_key("tnt_acme", name="other")
    auth.authenticate(token)
    revoked = admin.revoke_key(key.key_id)
    assert revoked.revoked_at is not None
    with pytest.raises(ApiKeyRevoked):
        auth.authenticate(token)
    assert auth.authenticate(other).tenant_id == "tnt_acme"  # the tenant's other keys go on working
    assert admin.revoke_key(key.key_id).revoked_at == revoked.revoked_at  # idempotent
    with pytest.raises(ApiKeyNotFound):
        admin.revoke_key("key_01JD3F8Y3W2Q9Z5T6V7X8Y9Z0A")


def test_a_disabled_tenant_is_forbidden(admin: TenantAdmin, auth: Authenticator) -> None:
    admin.create_tenant("Acme", tenant_id="tnt_acme")
    _, token = admin.create_key("tnt_acme")
    admin.update_tenant("tnt_acme", status=TenantStatus.DISABLED)
    with pytest.raises(TenantDisabled) as caught:
        auth.authenticate(token)
    assert caught.value.http_status == 403
    admin.update_tenant("tnt_acme", status=TenantStatus.ACTIVE)
    assert auth.authenticate(token).tenant_id == "tnt_acme"


def test_last_used_time_is_written_at_most_once_a_minute(
    admin: TenantAdmin, auth: Authenticator, clock: Clock
) -> None:
    admin.create_tenant("Acme", tenant_id="tnt_acme")
    _, token = admin.create_key("tnt_acme")
    assert admin.list_keys("tnt_acme")[0].last_used_at is None
    first = clock.now
    auth.authenticate(token)
    clock.now = first + timedelta(seconds=59)
    auth.authenticate(token)
    assert admin.list_keys("tnt_acme")[0].last_used_at == first
    clock.now = first + timedelta(seconds=61)
    auth.authenticate(token)
    assert admin.list_keys("tnt_acme")[0].last_used_at == clock.now


def test_keys_are_listed_per_tenant_only(admin: TenantAdmin) -> None:
    admin.create_tenant("A", tenant_id="tnt_a")
    admin.create_tenant("B", tenant_id="tnt_b")
    a, _ = admin.create_key("tnt_a")
    b, _ = admin.create_key("tnt_b")
    assert [k.key_id for k in admin.list_keys("tnt_a")] == [a.key_id]
    assert [k.key_id for k in admin.list_keys("tnt_b")] == [b.key_id]
    with pytest.raises(TenantNotFound):
        admin.create_key("tnt_missing")
