"""The stale-design sweeper in the stack (issue 13 item 4): its schedule, its role, the sparse
open-designs index it reads, and the alarm on the age of the oldest open design."""

from __future__ import annotations

import json

import pytest

from shared.resources import (
    DESIGN_DEADLINE_SECONDS,
    DESIGNS_TABLE,
    GENERATE_QUEUE,
    OLDEST_OPEN_DESIGN_METRIC,
    SWEEP_STALE_DESIGNS,
)
from tests.infra.conftest import Synthesized
from tests.infra.test_functions_iam import mentions, reachable, statements

pytestmark = pytest.mark.infra


def test_a_schedule_rule_runs_the_sweeper_every_few_minutes(synth: Synthesized) -> None:
    rule = synth.resource(synth.stack.schedules.rules[SWEEP_STALE_DESIGNS.id])["Properties"]
    sweeper = synth.logical_id(synth.stack.compute.functions["sweeper"])
    assert rule["ScheduleExpression"] == "rate(5 minutes)"
    assert rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [sweeper, "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2
    permissions = [
        p["Properties"]
        for p in synth.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [sweeper, "Arn"]}
    ]
    assert [p["Principal"] for p in permissions] == ["events.amazonaws.com"]


def test_the_designs_table_has_a_sparse_index_of_open_designs(synth: Synthesized) -> None:
    props = synth.resource(synth.stack.storage.tables[DESIGNS_TABLE.id])["Properties"]
    (index,) = props["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "open-designs"
    assert [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]] == [
        ("open_shard", "HASH"),
        ("open_since", "RANGE"),
    ]


def test_the_sweeper_reads_open_designs_and_queues_or_fails_them_only(synth: Synthesized) -> None:
    found = statements(synth, "sweeper")
    storage = synth.stack.storage
    designs = synth.logical_id(storage.tables[DESIGNS_TABLE.id])
    queried = json.dumps(reachable(found, "dynamodb:Query"))
    assert designs in queried
    assert "/index/open-designs" in queried
    generate = synth.logical_id(synth.stack.pipeline.queues[GENERATE_QUEUE.id].queue)
    assert reachable(found, "sqs:SendMessage") == [{"Fn::GetAtt": [generate, "Arn"]}]
    assert reachable(found, "events:PutEvents") == [
        {"Fn::GetAtt": [synth.logical_id(synth.stack.events.bus), "Arn"]}
    ]
    assert not any(a.startswith(("s3:", "secretsmanager:", "sagemaker:")) for s in found for a in s["Action"])
    for bucket in storage.buckets.values():
        assert not mentions(found, synth.logical_id(bucket))


def test_an_alarm_watches_the_oldest_open_design(synth: Synthesized) -> None:
    (alarm,) = [
        a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == OLDEST_OPEN_DESIGN_METRIC
    ]
    assert alarm["Namespace"] == "Roomcraft"
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "roomcraft"}]
    assert alarm["Statistic"] == "Maximum"
    assert alarm["Threshold"] == DESIGN_DEADLINE_SECONDS + SWEEP_STALE_DESIGNS.rate_minutes * 60
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
