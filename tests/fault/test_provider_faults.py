"""The inference provider failing 30% of calls: errors, throttling and timeouts."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest

from shared.domain.errors import ProviderUnavailable
from tests.fault import harness
from tests.fault.conftest import FaultCloud
from tests.fault.test_delivery_faults import check

FAILURES = ("HTTP 500 from the provider", "HTTP 429 (Retry-After: 1)", "read timeout after 60 s")


def test_provider_failing_30_percent_of_calls(
    fault_cloud: FaultCloud, faults: harness.Faults, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the provider interface: what a provider raises once its own bounded retries of a 500,
    a 429 or a timeout are spent (shared/providers/retry.py; the HTTP side of that is tested with
    the fake Replicate server in tests/e2e). The worker retries through SQS redelivery."""
    provider = fault_cloud.provider
    succeed = provider.start
    rng, lock = random.Random(30), threading.Lock()
    failed: list[str] = []

    def flaky(request: Any) -> Any:
        with lock:
            fails = rng.random() < 0.3
            reason = FAILURES[len(failed) % len(FAILURES)]
            if fails:
                failed.append(request.design_id)
        if fails:
            raise ProviderUnavailable(reason)
        return succeed(request)

    monkeypatch.setattr(provider, "start", flaky)
    scenario = fault_cloud.scenario("provider_failing_30_percent")
    scenario.create(10, fault_cloud.upload_id)
    scenario.settle()
    report = scenario.report(note=f"{len(failed)} provider calls failed (500, 429, timeout in turn)")
    report.details["failed_calls"] = len(failed)

    check(report)
    assert failed, report.message()
    # A design fails (provider_unavailable) only if all of its max_attempts deliveries met a failure.
    assert report.succeeded + report.failed == report.created, report.message()
