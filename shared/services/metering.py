"""Quotas and rate limits: what a tenant may use, taken atomically from DynamoDB counters.

- designs: per tenant per UTC day, and for the whole deployment per UTC day (the GPU bill's cap);
  a design (or a whole batch) takes its units from both counters in one transaction, or none;
- requests: per tenant per minute, one conditional update per authenticated request;
- a design that fails for a reason of ours before any paid work gives its unit back, once (``refund``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from shared.domain.clock import utcnow
from shared.domain.design import Design
from shared.domain.errors import DailyQuotaExceeded, GlobalCapReached, RateLimited, TenantDisabled
from shared.domain.ports import TenantStore, UsageCounters
from shared.domain.quotas import (
    DESIGN_COUNTER_DAYS,
    GLOBAL_SCOPE,
    REQUEST_COUNTER_SECONDS,
    CounterChange,
    Window,
    design_window,
    expiry_epoch,
    refund_due,
    request_window,
)
from shared.domain.tenants import Principal, Tenant
from shared.settings import Settings

_DAY_SECONDS = 86400


class EffectiveLimits(BaseModel):
    model_config = ConfigDict(frozen=True)

    daily_designs: int
    requests_per_minute: int


class CounterView(BaseModel):
    model_config = ConfigDict(frozen=True)

    used: int
    limit: int
    remaining: int
    period_start: datetime
    resets_at: datetime


class TenantUsage(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    designs: CounterView
    requests: CounterView


class Metering:
    def __init__(
        self,
        *,
        settings: Settings,
        counters: UsageCounters,
        tenants: TenantStore,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._settings = settings
        self._counters = counters
        self._tenants = tenants
        self._clock = clock

    def limits_for(self, tenant: Tenant) -> EffectiveLimits:
        own = tenant.limits
        return EffectiveLimits(
            daily_designs=(
                own.daily_designs
                if own.daily_designs is not None
                else self._settings.default_daily_design_quota
            ),
            requests_per_minute=(
                own.requests_per_minute
                if own.requests_per_minute is not None
                else self._settings.default_requests_per_minute
            ),
        )

    # --- requests ----------------------------------------------------------------------
    def admit_request(self, principal: Principal) -> None:
        """Count one request against the tenant's per-minute rate; 429 ``rate_limited`` past it."""
        now = self._clock()
        window = request_window(now)
        limit = self.limits_for(principal.tenant).requests_per_minute
        change = CounterChange(
            scope=principal.tenant_id,
            period=window.period,
            units=1,
            limit=limit,
            expires_at_epoch=expiry_epoch(window, REQUEST_COUNTER_SECONDS),
        )
        if self._counters.add_within_limits([change]) is not None:
            raise RateLimited(
                f"more than {limit} requests in one minute; slow down",
                retry_after=window.seconds_left(now),
                details={"limit": limit, "resets_at": window.end.isoformat()},
            )

    # --- designs -----------------------------------------------------------------------
    def _design_changes(
        self, tenant_id: str, units: int, window: Window, limit: int | None
    ) -> list[CounterChange]:
        expires = expiry_epoch(window, DESIGN_COUNTER_DAYS * _DAY_SECONDS)
        return [
            CounterChange(tenant_id, window.period, units, limit, expires),
            CounterChange(
                GLOBAL_SCOPE, window.period, units, self._settings.global_daily_design_cap, expires
            ),
        ]

    def consume_designs(self, tenant_id: str, units: int, *, at: datetime) -> None:
        """Take ``units`` designs from today's tenant quota and the global cap, all or none."""
        tenant = self._tenants.get(tenant_id)
        if not tenant.active:
            raise TenantDisabled(f"tenant {tenant_id} is disabled")
        limit = self.limits_for(tenant).daily_designs
        window = design_window(at)
        refused = self._counters.add_within_limits(self._design_changes(tenant_id, units, window, limit))
        if refused is None:
            return
        now = self._clock()
        retry_after = window.seconds_left(now)
        if refused == 0:
            used = self._counters.read(tenant_id, window.period)
            raise DailyQuotaExceeded(
                f"the daily design quota is used up: {used} of {limit} used, {units} requested",
                retry_after=retry_after,
                details={
                    "used": used,
                    "limit": limit,
                    "requested": units,
                    "remaining": max(0, limit - used),
                    "resets_at": window.end.isoformat(),
                },
            )
        raise GlobalCapReached(
            "this deployment has started all the designs it allows today; try again after the reset",
            retry_after=retry_after,
            details={"requested": units, "resets_at": window.end.isoformat()},
        )

    def release_designs(self, tenant_id: str, units: int, *, at: datetime) -> None:
        """Give back units taken for designs that were never started (creation failed part way)."""
        window = design_window(at)
        self._counters.subtract(self._design_changes(tenant_id, units, window, None))

    def refund(self, design: Design) -> bool:
        """Give a failed design's unit back if the failure was ours and cost no GPU time; once per design."""
        if not refund_due(design):
            return False
        window = design_window(design.created_at)
        changes = self._design_changes(design.tenant_id, 1, window, None)
        return self._counters.subtract(changes, once_for=design.design_id)

    # --- reporting ---------------------------------------------------------------------
    def usage(self, tenant: Tenant) -> TenantUsage:
        now = self._clock()
        limits = self.limits_for(tenant)
        day, minute = design_window(now), request_window(now)

        def view(window: Window, limit: int) -> CounterView:
            used = self._counters.read(tenant.tenant_id, window.period)
            return CounterView(
                used=used,
                limit=limit,
                remaining=max(0, limit - used),
                period_start=window.start,
                resets_at=window.end,
            )

        return TenantUsage(
            tenant_id=tenant.tenant_id,
            designs=view(day, limits.daily_designs),
            requests=view(minute, limits.requests_per_minute),
        )
