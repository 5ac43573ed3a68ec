"""Quotas and rate limits on the DynamoDB counters (moto): limits hold, also under parallel use."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared import bootstrap
from shared.adapters.dynamodb_tenancy import TenantRepository, UsageCounterTable
from shared.domain.design import Brief, Design, DesignError, SourceImage
from shared.domain.errors import DailyQuotaExceeded, GlobalCapReached, RateLimited, TenantDisabled
from shared.domain.quotas import GLOBAL_SCOPE
from shared.domain.status import DesignStatus
from shared.domain.tenants import Limits, Principal, TenantStatus
from shared.services.metering import Metering
from shared.settings import Settings, get_settings

NOW = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)
TODAY = "designs#2026-11-23"


def metering(settings: Settings | None = None) -> Metering:
    settings = settings or get_settings()
    return Metering(
        settings=settings,
        counters=UsageCounterTable(settings),
        tenants=TenantRepository(settings),
        clock=lambda: NOW,
    )


@pytest.fixture
def tenants(aws: dict[str, Any]) -> None:
    admin = bootstrap.tenant_admin()
    admin.create_tenant("A", tenant_id="tnt_a", limits=Limits(daily_designs=10, requests_per_minute=5))
    admin.create_tenant("B", tenant_id="tnt_b", limits=Limits(daily_designs=10))


def used(scope: str, period: str = TODAY) -> int:
    return UsageCounterTable(get_settings()).read(scope, period)


def test_designs_are_counted_up_to_the_daily_quota(tenants: None) -> None:
    meter = metering()
    for _ in range(10):
        meter.consume_designs("tnt_a", 1, at=NOW)
    with pytest.raises(DailyQuotaExceeded) as caught:
        meter.consume_designs("tnt_a", 1, at=NOW)
    error = caught.value
    assert (error.http_status, error.code) == (429, "daily_quota_exceeded")
    assert error.retry_after == 2 * 3600  # until midnight UTC
    assert error.details == {
        "used": 10,
        "limit": 10,
        "requested": 1,
        "remaining": 0,
        "resets_at": "2026-11-24T00:00:00+00:00",
        "retry_after": 7200,
    }
    assert (used("tnt_a"), used(GLOBAL_SCOPE)) == (10, 10)  # a refused use takes nothing
    meter.consume_designs("tnt_b", 1, at=NOW)  # another tenant's quota is its own


def test_a_batch_takes_all_its_units_or_none(tenants: None) -> None:
    meter = metering()
    meter.consume_designs("tnt_a", 7, at=NOW)
    with pytest.raises(DailyQuotaExceeded) as caught:
        meter.consume_designs("tnt_a", 4, at=NOW)
    assert caught.value.details["remaining"] == 3
    assert used("tnt_a") == 7
    meter.consume_designs("tnt_a", 3, at=NOW)
    with pytest.raises(DailyQuotaExceeded):
        meter.consume_designs("tnt_a", 11, at=NOW)  # more than the whole quota: refused up front


def test_the_global_cap_protects_the_gpu_bill_across_tenants(tenants: None) -> None:
    meter = metering(Settings(global_daily_design_cap=12))
    meter.consume_designs("tnt_a", 8, at=NOW)
    with pytest.raises(GlobalCapReached) as caught:
        meter.consume_designs("tnt_b", 5, at=NOW)
    assert caught.value.code == "global_daily_cap_reached"
    assert caught.value.retry_after == 7200
    assert (used("tnt_b"), used(GLOBAL_SCOPE)) == (0, 8)  # the tenant's counter was not touched either
    meter.consume_designs("tnt_b", 4, at=NOW)
    assert used(GLOBAL_SCOPE) == 12


def test_a_global_cap_of_zero_stops_every_new_design(tenants: None) -> None:
    with pytest.raises(GlobalCapReached):
        metering(Settings(global_daily_design_cap=0)).consume_designs("tnt_a", 1, at=NOW)


def test_a_disabled_tenant_cannot_start_designs_by_any_path(tenants: None) -> None:
    bootstrap.tenant_admin().update_tenant("tnt_a", status=TenantStatus.DISABLED)
    with pytest.raises(TenantDisabled):
        metering().consume_designs("tnt_a", 1, at=NOW)


def test_counters_restart_each_utc_day(tenants: None) -> None:
    meter = metering()
    meter.consume_designs("tnt_a", 10, at=NOW)
    meter.consume_designs("tnt_a", 10, at=NOW + timedelta(hours=2))
    assert used("tnt_a", "designs#2026-11-24") == 10


def test_parallel_requests_never_overshoot_the_quota_or_the_cap(tenants: None) -> None:
    """24 threads race for 10 + 10 tenant units under a global cap of 15: exactly 15 get through."""
    meter = metering(Settings(global_daily_design_cap=15))
    granted: list[str] = []
    refused: list[str] = []
    start = threading.Barrier(24)

    def consume(tenant_id: str) -> None:
        start.wait()
        try:
            meter.consume_designs(tenant_id, 1, at=NOW)
            granted.append(tenant_id)
        except (DailyQuotaExceeded, GlobalCapReached) as error:
            refused.append(error.code)

    threads = [threading.Thread(target=consume, args=(f"tnt_{'ab'[n % 2]}",)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 15
    assert len(refused) == 9
    assert used(GLOBAL_SCOPE) == 15
    assert used("tnt_a") == granted.count("tnt_a") <= 10
    assert used("tnt_b") == granted.count("tnt_b") <= 10


def test_parallel_batches_never_overshoot(tenants: None) -> None:
    meter = metering()
    granted: list[int] = []
    sizes = [3, 4, 2, 5, 1, 3, 4, 2]
    start = threading.Barrier(len(sizes))

    def consume(units: int) -> None:
        start.wait()
        try:
            meter.consume_designs("tnt_a", units, at=NOW)
            granted.append(units)
        except DailyQuotaExceeded:
            pass

    threads = [threading.Thread(target=consume, args=(n,)) for n in sizes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(granted) == used("tnt_a") <= 10


def failed(code: str, design_id: str = "dsn_1") -> Design:
    return Design(
        design_id=design_id,
        tenant_id="tnt_a",
        status=DesignStatus.FAILED,
        source=SourceImage(upload_id="u"),
        brief=Brief(room_type="bedroom", style="japandi", seed=1),
        provider="preview",
        storage_token="t",
        created_at=NOW,
        updated_at=NOW,
        error=DesignError(code=code, message="x"),
    )


def test_a_failure_of_ours_gives_the_unit_back_once(tenants: None) -> None:
    meter = metering()
    meter.consume_designs("tnt_a", 3, at=NOW)
    assert meter.refund(failed("provider_unavailable")) is True
    assert meter.refund(failed("provider_unavailable")) is False  # a redelivery does not refund twice
    assert (used("tnt_a"), used(GLOBAL_SCOPE)) == (2, 2)
    assert meter.refund(failed("image_corrupt", "dsn_2")) is False  # the input's fault: no refund
    assert used("tnt_a") == 2


def test_parallel_refunds_of_one_design_give_back_one_unit(tenants: None) -> None:
    meter = metering()
    meter.consume_designs("tnt_a", 5, at=NOW)
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda: results.append(meter.refund(failed("internal_error"))))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1
    assert used("tnt_a") == 4


def test_units_taken_for_designs_never_started_are_released(tenants: None) -> None:
    meter = metering()
    meter.consume_designs("tnt_a", 4, at=NOW)
    meter.release_designs("tnt_a", 3, at=NOW)
    assert (used("tnt_a"), used(GLOBAL_SCOPE)) == (1, 1)


def test_the_request_rate_is_limited_per_minute(tenants: None) -> None:
    meter = metering()
    principal = Principal(tenant=bootstrap.tenant_admin().get_tenant("tnt_a"), key_id="key_x")
    for _ in range(5):
        meter.admit_request(principal)
    with pytest.raises(RateLimited) as caught:
        meter.admit_request(principal)
    assert caught.value.retry_after == 60  # NOW is on the minute
    assert caught.value.details["limit"] == 5


def test_usage_shows_used_and_limit_for_the_period(tenants: None) -> None:
    meter = metering()
    meter.consume_designs("tnt_a", 3, at=NOW)
    usage = meter.usage(bootstrap.tenant_admin().get_tenant("tnt_a"))
    assert (usage.designs.used, usage.designs.limit, usage.designs.remaining) == (3, 10, 7)
    assert usage.designs.resets_at == datetime(2026, 11, 24, tzinfo=UTC)
    assert usage.requests.limit == 5
    default = meter.usage(bootstrap.tenant_admin().get_tenant("tnt_b"))
    assert default.requests.limit == get_settings().default_requests_per_minute
