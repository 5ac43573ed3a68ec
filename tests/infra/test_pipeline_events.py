"""Pipeline and events: queues with dead-letter queues, consumers, the bus, its archive and rules."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.constructs.pipeline import VISIBILITY_PER_TIMEOUT
from shared.resources import EVENT_BUS, FUNCTIONS, QUEUES, SCHEDULES
from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra

FUNCTION_SPECS = {spec.id: spec for spec in FUNCTIONS}
CONSUMED = [spec for spec in QUEUES if spec.consumer in FUNCTION_SPECS]
DAY = 86400


def test_every_queue_has_its_own_dead_letter_queue(synth: Synthesized) -> None:
    synth.template.resource_count_is("AWS::SQS::Queue", 2 * len(QUEUES))


@pytest.mark.parametrize("spec", QUEUES, ids=lambda spec: spec.id)
def test_queue_matches_its_spec(synth: Synthesized, spec: Any) -> None:
    pair = synth.stack.pipeline.queues[spec.id]
    props = synth.resource(pair.queue)["Properties"]
    dlq_props = synth.resource(pair.dlq)["Properties"]
    assert props["VisibilityTimeout"] == spec.visibility_timeout_seconds
    assert props["MessageRetentionPeriod"] == spec.retention_days * DAY
    assert props["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [synth.logical_id(pair.dlq), "Arn"]},
        "maxReceiveCount": spec.max_receive_count,
    }
    assert dlq_props["MessageRetentionPeriod"] == spec.dlq_retention_days * DAY
    for queue_props in (props, dlq_props):
        assert queue_props["SqsManagedSseEnabled"] is True


@pytest.mark.parametrize("spec", QUEUES, ids=lambda spec: spec.id)
def test_queues_refuse_plain_http(synth: Synthesized, spec: Any) -> None:
    pair = synth.stack.pipeline.queues[spec.id]
    for queue in (pair.queue, pair.dlq):
        ref = {"Ref": synth.logical_id(queue)}
        policies = [
            p for p in synth.resources("AWS::SQS::QueuePolicy").values() if ref in p["Properties"]["Queues"]
        ]
        statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        ), spec.id


@pytest.mark.parametrize("spec", CONSUMED, ids=lambda spec: spec.id)
def test_visibility_is_at_least_six_times_the_consumer_timeout(spec: Any) -> None:
    consumer = FUNCTION_SPECS[spec.consumer]
    assert spec.visibility_timeout_seconds >= VISIBILITY_PER_TIMEOUT * consumer.timeout_seconds


def test_every_queue_gets_an_event_source_for_its_consumer(synth: Synthesized) -> None:
    mappings = synth.resources("AWS::Lambda::EventSourceMapping")
    assert len(mappings) == len(CONSUMED) == len(QUEUES)


@pytest.mark.parametrize("spec", CONSUMED, ids=lambda spec: spec.id)
def test_consumer_reports_partial_failures_with_bounded_concurrency(synth: Synthesized, spec: Any) -> None:
    pair = synth.stack.pipeline.queues[spec.id]
    function = synth.stack.compute.functions[spec.consumer]
    (mapping,) = [
        m["Properties"]
        for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [synth.logical_id(pair.queue), "Arn"]}
    ]
    assert mapping["FunctionName"] == {"Ref": synth.logical_id(function)}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == spec.batch_size
    max_concurrency = FUNCTION_SPECS[spec.consumer].max_concurrency
    if max_concurrency is None:
        assert "ScalingConfig" not in mapping
    else:
        assert mapping["ScalingConfig"] == {"MaximumConcurrency": max_concurrency}


def test_bus_is_named_like_the_local_cloud_and_archived(synth: Synthesized) -> None:
    bus = synth.resource(synth.stack.events.bus)["Properties"]
    assert bus["Name"] == f"roomcraft-test-{EVENT_BUS.id}"
    (archive,) = synth.resources("AWS::Events::Archive").values()
    props = archive["Properties"]
    assert props["SourceArn"] == {"Fn::GetAtt": [synth.logical_id(synth.stack.events.bus), "Arn"]}
    assert props["RetentionDays"] == EVENT_BUS.archive_retention_days
    assert props["EventPattern"] == {"source": [EVENT_BUS.source]}


def test_one_rule_per_spec(synth: Synthesized) -> None:
    synth.template.resource_count_is("AWS::Events::Rule", len(EVENT_BUS.rules) + len(SCHEDULES))


@pytest.mark.parametrize("spec", EVENT_BUS.rules, ids=lambda spec: spec.id)
def test_rule_matches_source_and_detail_type_prefix_into_its_queue(synth: Synthesized, spec: Any) -> None:
    props = synth.resource(synth.stack.events.rules[spec.id])["Properties"]
    pair = synth.stack.pipeline.queues[spec.target_queue]
    assert props["EventBusName"] == {"Ref": synth.logical_id(synth.stack.events.bus)}
    assert props["EventPattern"] == {
        "source": [EVENT_BUS.source],
        "detail-type": [{"prefix": spec.detail_type_prefix}],
        **(
            {"detail": {name: list(values) for name, values in spec.detail_match}}
            if spec.detail_match
            else {}
        ),
    }
    assert props["State"] == "ENABLED"
    (target,) = props["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [synth.logical_id(pair.queue), "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [synth.logical_id(pair.dlq), "Arn"]}}


@pytest.mark.parametrize("spec", EVENT_BUS.rules, ids=lambda spec: spec.id)
def test_only_the_rules_targeting_a_queue_may_send_to_it(synth: Synthesized, spec: Any) -> None:
    pair = synth.stack.pipeline.queues[spec.target_queue]
    ref = {"Ref": synth.logical_id(pair.queue)}
    (policy,) = [
        p for p in synth.resources("AWS::SQS::QueuePolicy").values() if ref in p["Properties"]["Queues"]
    ]
    allows = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    senders = [rule for rule in EVENT_BUS.rules if rule.target_queue == spec.target_queue]
    assert allows == [
        {
            "Action": ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"],
            "Condition": {
                "ArnEquals": {
                    "aws:SourceArn": {
                        "Fn::GetAtt": [synth.logical_id(synth.stack.events.rules[rule.id]), "Arn"]
                    }
                }
            },
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Resource": {"Fn::GetAtt": [synth.logical_id(pair.queue), "Arn"]},
        }
        for rule in senders
    ], json.dumps(allows)
