"""Bounded retries for provider calls: exponential backoff with jitter, Retry-After, a time budget.

A call is tried at most ``attempts`` times within ``budget_seconds``; between tries it sleeps
``Retry-After`` when the provider sent one (plus a little jitter), else an "equal jitter"
exponential backoff (half the step fixed, half random, so concurrent workers spread out but
still back off). A Retry-After longer than ``max_retry_after_seconds`` is not slept on: the
worker gives the message back to SQS instead of idling a Lambda. When the tries run out the
call raises ``ProviderUnavailable``, which the pipeline retries by SQS redelivery.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from shared.domain.errors import ProviderUnavailable
from shared.settings import Settings

T = TypeVar("T")


class TransientFailure(Exception):
    """A failure worth trying again: throttled, 5xx, timed out before an answer, connection lost."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    base_seconds: float = 0.5
    max_backoff_seconds: float = 8.0
    max_retry_after_seconds: float = 20.0
    budget_seconds: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)
    rng: Callable[[], float] = field(default=random.random, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            attempts=max(1, settings.provider_attempts),
            base_seconds=settings.provider_backoff_base_seconds,
            max_backoff_seconds=settings.provider_backoff_max_seconds,
            max_retry_after_seconds=settings.provider_retry_after_max_seconds,
            budget_seconds=settings.provider_call_budget_seconds,
        )

    def backoff(self, attempt: int) -> float:
        """Delay after failed try number ``attempt`` (1-based), without a Retry-After."""
        step = min(self.max_backoff_seconds, self.base_seconds * 2 ** (attempt - 1))
        return step / 2 + self.rng() * step / 2

    def delay_for(self, attempt: int, failure: TransientFailure) -> float | None:
        """How long to wait before the next try, or None to stop trying in this invocation."""
        if attempt >= self.attempts:
            return None
        if failure.retry_after is not None:
            if failure.retry_after > self.max_retry_after_seconds:
                return None
            return max(0.0, failure.retry_after) * (1 + 0.1 * self.rng())
        return self.backoff(attempt)

    def run(self, operation: Callable[[], T], *, what: str) -> T:
        """``operation()``, retried on ``TransientFailure``; other exceptions pass through at once."""
        started = self.clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                return operation()
            except TransientFailure as failure:
                delay = self.delay_for(attempt, failure)
                spent = self.clock() - started
                if delay is None or spent + delay > self.budget_seconds:
                    details: dict[str, object] = {"attempts": attempt}
                    if failure.retry_after is not None:
                        details["retry_after_seconds"] = failure.retry_after
                    raise ProviderUnavailable(
                        f"{what} failed after {attempt} attempt(s): {failure.message}", details=details
                    ) from failure
                self.sleep(delay)
