"""Bounded retries for provider calls: backoff with jitter, Retry-After, attempts and a time budget."""

from __future__ import annotations

import pytest

from shared.domain.errors import ProviderFailed, ProviderUnavailable
from shared.providers.outputs import parse_retry_after
from shared.providers.retry import RetryPolicy, TransientFailure


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def policy(clock: Clock, *, rng: float = 0.5, **overrides: float) -> RetryPolicy:
    values: dict[str, float] = {
        "attempts": 4,
        "base_seconds": 1.0,
        "max_backoff_seconds": 3.0,
        "max_retry_after_seconds": 10.0,
        "budget_seconds": 60.0,
    }
    values.update(overrides)
    return RetryPolicy(
        attempts=int(values["attempts"]),
        base_seconds=values["base_seconds"],
        max_backoff_seconds=values["max_backoff_seconds"],
        max_retry_after_seconds=values["max_retry_after_seconds"],
        budget_seconds=values["budget_seconds"],
        sleep=clock.sleep,
        clock=clock,
        rng=lambda: rng,
    )


def failing(times: int, failure: Exception, result: str = "ok") -> tuple[list[int], object]:
    calls: list[int] = []

    def operation() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise failure
        return result

    return calls, operation


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    clock = Clock()
    low, high = policy(clock, rng=0.0), policy(clock, rng=1.0)
    assert [low.backoff(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 1.5, 1.5]
    assert [high.backoff(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 3.0, 3.0]


def test_transient_failures_are_retried_until_success() -> None:
    clock = Clock()
    calls, operation = failing(2, TransientFailure("HTTP 503"))
    assert policy(clock).run(operation, what="creating") == "ok"  # type: ignore[arg-type]
    assert len(calls) == 3
    assert clock.sleeps == [0.75, 1.5]


def test_attempts_run_out_with_provider_unavailable() -> None:
    clock = Clock()
    calls, operation = failing(10, TransientFailure("HTTP 502"))
    with pytest.raises(ProviderUnavailable) as raised:
        policy(clock).run(operation, what="creating a prediction")  # type: ignore[arg-type]
    assert len(calls) == 4
    assert raised.value.code == "provider_unavailable"
    assert raised.value.retryable
    assert "after 4 attempt(s): HTTP 502" in raised.value.message


def test_retry_after_is_honoured_with_a_little_jitter() -> None:
    clock = Clock()
    _, operation = failing(1, TransientFailure("HTTP 429", retry_after=4.0))
    assert policy(clock, rng=0.5).run(operation, what="x") == "ok"  # type: ignore[arg-type]
    assert clock.sleeps == [pytest.approx(4.2)]


def test_a_long_retry_after_goes_back_to_the_queue_without_sleeping() -> None:
    clock = Clock()
    calls, operation = failing(1, TransientFailure("HTTP 429", retry_after=3600.0))
    with pytest.raises(ProviderUnavailable) as raised:
        policy(clock).run(operation, what="x")  # type: ignore[arg-type]
    assert clock.sleeps == []
    assert len(calls) == 1
    assert raised.value.details["retry_after_seconds"] == 3600.0


def test_the_time_budget_stops_retries_before_the_lambda_runs_out() -> None:
    clock = Clock()
    calls, operation = failing(10, TransientFailure("timeout"))
    with pytest.raises(ProviderUnavailable):
        policy(clock, budget_seconds=2.0, attempts=10).run(operation, what="x")  # type: ignore[arg-type]
    assert clock.sleeps == [0.75]  # the next wait (1.5 s) would overrun the 2 s budget
    assert len(calls) == 2


def test_terminal_errors_are_not_retried() -> None:
    clock = Clock()
    calls, operation = failing(5, ProviderFailed("the model failed"))
    with pytest.raises(ProviderFailed):
        policy(clock).run(operation, what="x")  # type: ignore[arg-type]
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("7", 7.0),
        ("0", 0.0),
        ("-3", 0.0),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected
