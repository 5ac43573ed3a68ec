"""Queue and worker faults: duplicate delivery, workers killed between steps, racing workers.

Each scenario asserts nothing is lost and nothing generated twice, with the counts in the
message (and in bench/results/faults.json under ``make bench``).
"""

from __future__ import annotations

from collections import Counter

from tests.fault import harness
from tests.fault.conftest import FaultCloud


def check(report: harness.FaultReport) -> None:
    harness.record(report)
    assert report.lost == 0, report.message()
    assert report.generated_twice == 0, report.message()
    assert report.terminal == report.created, report.message()
    # Webhooks are at least once (Standard Webhooks: receivers deduplicate by webhook-id), so
    # duplicate ids are counted and reported, not forbidden; a missing one would be a loss.
    assert report.details["webhooks"]["missing"] == [], report.message()
    # Status events are at least once too: a redelivery may send one again under its own id,
    # never under a second id, and every final status is announced.
    assert report.details["events"] == {"conflicting": 0, "missing": []}, report.message()


def test_every_message_delivered_three_times(fault_cloud: FaultCloud, faults: harness.Faults) -> None:
    faults.deliveries = 3
    scenario = fault_cloud.scenario("sqs_delivered_three_times")
    scenario.create(8, fault_cloud.upload_id)
    scenario.settle()
    report = scenario.report(note="copy 1 visible again at once (concurrent copy); copy 2 loses its delete")

    check(report)
    assert report.succeeded == report.created, report.message()
    assert min(faults.received.values()) >= 3, report.message()


def test_worker_killed_between_each_pair_of_steps(fault_cloud: FaultCloud, faults: harness.Faults) -> None:
    points = harness.KILL_POINTS
    faults.kill_plan = points
    scenario = fault_cloud.scenario("worker_killed_between_steps")
    scenario.create(len(points), fault_cloud.upload_id)
    scenario.settle()
    report = scenario.report(note=f"each design killed once, at one of {len(points)} points")
    report.details["killed_at"] = dict(sorted(faults.killed.items()))

    check(report)
    assert report.succeeded == report.created, report.message()
    assert Counter(faults.killed.values()) == dict.fromkeys(points, 1), report.message()


def test_two_workers_race_on_one_design(fault_cloud: FaultCloud, faults: harness.Faults) -> None:
    faults.race = True
    scenario = fault_cloud.scenario("two_workers_racing")
    scenario.create(8, fault_cloud.upload_id)
    scenario.settle()
    report = scenario.report(note="every message also handed to a second container at the same moment")

    check(report)
    assert report.succeeded == report.created, report.message()
    assert len(faults.raced) == report.created, report.message()
