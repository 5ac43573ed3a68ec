"""Quota periods and counters: which counter a use lands in, and when each limit resets.

Designs are counted per UTC day, per tenant and for the whole deployment; requests per tenant per
UTC minute (a fixed window). Counters live in the usage table under ``(scope, period)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.domain.errors import ProviderError, RoomcraftError

GLOBAL_SCOPE = "global"
"""Scope of deployment-wide counters (tenant ids always start with ``tnt_``)."""
REFUND_SCOPE = "refund"
"""Scope of the markers that make each design's refund happen once."""

DESIGN_COUNTER_DAYS = 35
"""Daily design counters are kept this long (usage history), then expire."""
REQUEST_COUNTER_SECONDS = 3600


@dataclass(frozen=True)
class Window:
    """One period of one counter: its key in the usage table and when it ends."""

    period: str
    start: datetime
    end: datetime

    def seconds_left(self, now: datetime) -> int:
        """Whole seconds until the window resets, at least 1: the ``Retry-After`` value."""
        return max(1, math.ceil((self.end - now).total_seconds()))


def design_window(moment: datetime) -> Window:
    start = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return Window(period=f"designs#{start.date().isoformat()}", start=start, end=start + timedelta(days=1))


def request_window(moment: datetime) -> Window:
    start = moment.astimezone(UTC).replace(second=0, microsecond=0)
    return Window(
        period=f"requests#{start.strftime('%Y-%m-%dT%H:%M')}", start=start, end=start + timedelta(minutes=1)
    )


def expiry_epoch(window: Window, keep_seconds: int) -> int:
    return int(window.end.timestamp()) + keep_seconds


def _codes_under(error: type[RoomcraftError]) -> set[str]:
    codes = {error.code}
    for sub in error.__subclasses__():
        codes |= _codes_under(sub)
    return codes


def refundable_codes() -> frozenset[str]:
    """Failure codes that are our fault, not the request's: the design's quota unit goes back.

    Our own errors (``internal_error``, a worker that kept losing its lease) and every provider error
    (outage, refusal to run, misconfiguration). Bad input (image, URL, brief) is not refunded, but for
    ``not_a_room``: the photo analysis stops it before any GPU time, so it never spends the quota.
    """
    return frozenset({RoomcraftError.code, "design_busy", "not_a_room"} | _codes_under(ProviderError))


def is_refundable(code: str) -> bool:
    return code in refundable_codes()


@dataclass(frozen=True)
class CounterChange:
    """Add ``units`` to the counter ``(scope, period)``, never taking it over ``limit``."""

    scope: str
    period: str
    units: int
    limit: int | None = None
    expires_at_epoch: int = 0
