"""Quota periods and counters: which counter a use lands in, and when each limit resets.

Designs are counted per UTC day, per tenant and for the whole deployment; requests per tenant per
UTC minute (a fixed window). Counters live in the usage table under ``(scope, period)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.domain.design import Design
from shared.domain.errors import ProviderError, RoomcraftError
from shared.domain.status import DesignStatus

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


OUR_FAILURE_CODES = frozenset({RoomcraftError.code, "design_busy", "design_stalled"})
"""Failures of ours with no provider verdict: refunded only while the provider was never asked."""

BEFORE_GPU_CODES = frozenset({"not_a_room"})
"""Failures that stop a design before any GPU time (the photo analysis judged it not a room):
refunded, on the same terms as ours (never once the provider was asked to run)."""


def _provider_codes_without_gpu(error: type[ProviderError] = ProviderError) -> set[str]:
    codes = set() if error.gpu_may_have_run else {error.code}
    for sub in error.__subclasses__():
        codes |= _provider_codes_without_gpu(sub)
    return codes


def refundable_codes() -> frozenset[str]:
    """Failure codes that are our fault and cost no GPU time: the design's quota unit goes back.

    Our own errors (``internal_error``, a worker that kept losing its lease, a design the sweeper
    found stalled) and the provider errors
    that mean the model never ran (``provider_unavailable``, ``provider_not_configured``). A provider
    failure after the model ran (``provider_failed``, ``provider_timeout``, ``provider_output_invalid``,
    ``provider_canceled``) is paid work and is not refunded, so refunds cannot lift the GPU bill's cap;
    neither is bad input (image, URL, brief), but for ``not_a_room``: the photo analysis stops it
    before any GPU time, so it never spends the quota.
    """
    return frozenset(set(OUR_FAILURE_CODES) | BEFORE_GPU_CODES | _provider_codes_without_gpu())


def is_refundable(code: str) -> bool:
    return code in refundable_codes()


def refund_due(design: Design) -> bool:
    """A failed design's unit goes back when the failure was ours and no paid work happened: the
    code is refundable and the provider was never asked to run (or refused before running)."""
    if design.status is not DesignStatus.FAILED or design.error is None:
        return False
    code = design.error.code
    if not is_refundable(code):
        return False
    if (
        design.predictions is not None
        or design.prediction_id is not None
        or design.provider_seconds
        or design.regenerations
    ):
        return False  # a prediction was started or finished, or the quality gate ran one again: paid
    # Our own error once the provider was asked to run: what it did after is not known, so not free.
    return design.provider_started_at is None or code not in OUR_FAILURE_CODES | BEFORE_GPU_CODES


@dataclass(frozen=True)
class CounterChange:
    """Add ``units`` to the counter ``(scope, period)``, never taking it over ``limit``."""

    scope: str
    period: str
    units: int
    limit: int | None = None
    expires_at_epoch: int = 0
