"""What happens once when a design reaches a terminal status, wherever that happens.

Designs finish in the worker (succeeded, failed) and through the API (canceled). Each of those
terminal transitions is a conditional write, so exactly one caller wins it and calls ``settle``.
Every step is idempotent, so ``settle`` also runs again when a redelivered message or a repeated
cancel finds the design already terminal: that completes a settlement a crash interrupted.
"""

from __future__ import annotations

from collections.abc import Callable

from shared.domain.design import Design
from shared.services.batches import BatchCompletion


class Settlement:
    def __init__(self, *, refund: Callable[[Design], object], batches: BatchCompletion) -> None:
        self._refund = refund
        self._batches = batches

    def settle(self, design: Design) -> None:
        """Give the quota unit back if the failure was ours; count the design on its batch."""
        self._refund(design)
        self._batches.record(design)
