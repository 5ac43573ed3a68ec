"""Observability: alarms on dead letters, queue age, function errors and throttles, to an encrypted topic."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.resources import FUNCTIONS, QUEUES
from tests.infra.conftest import TEST_CONFIG, Synthesized

pytestmark = pytest.mark.infra

CONSUMED = [spec for spec in QUEUES if spec.consumer in {f.id for f in FUNCTIONS}]


def alarms(synth: Synthesized, metric: str) -> list[dict[str, Any]]:
    return [
        a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == metric
    ]


def dimension(alarm: dict[str, Any]) -> Any:
    (only,) = alarm["Dimensions"]
    return only["Value"]


def test_every_alarm_notifies_the_topic_on_alarm_and_on_ok(synth: Synthesized) -> None:
    topic = {"Ref": synth.logical_id(synth.stack.observability.topic)}
    all_alarms = synth.resources("AWS::CloudWatch::Alarm").values()
    assert all_alarms
    for alarm in all_alarms:
        assert alarm["Properties"]["AlarmActions"] == [topic]
        assert alarm["Properties"]["OKActions"] == [topic]
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching"


def test_any_dead_letter_raises_an_alarm(synth: Synthesized) -> None:
    found = alarms(synth, "ApproximateNumberOfMessagesVisible")
    expected = [
        {"Fn::GetAtt": [synth.logical_id(synth.stack.pipeline.queues[q.id].dlq), "QueueName"]} for q in QUEUES
    ]
    assert sorted(json.dumps(dimension(a)) for a in found) == sorted(json.dumps(e) for e in expected)
    for alarm in found:
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)


def test_old_messages_in_consumed_queues_raise_an_alarm(synth: Synthesized) -> None:
    found = alarms(synth, "ApproximateAgeOfOldestMessage")
    expected = [
        {"Fn::GetAtt": [synth.logical_id(synth.stack.pipeline.queues[q.id].queue), "QueueName"]}
        for q in CONSUMED
    ]
    assert sorted(json.dumps(dimension(a)) for a in found) == sorted(json.dumps(e) for e in expected)
    for alarm in found:
        assert alarm["Threshold"] == TEST_CONFIG.queue_age_alarm_minutes * 60


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_function_errors_and_throttles_raise_alarms(synth: Synthesized, metric: str) -> None:
    found = alarms(synth, metric)
    functions = synth.stack.compute.functions
    expected = [{"Ref": synth.logical_id(functions[spec.id])} for spec in FUNCTIONS]
    assert sorted(json.dumps(dimension(a)) for a in found) == sorted(json.dumps(e) for e in expected)
    for alarm in found:
        assert (alarm["ComparisonOperator"], alarm["Threshold"], alarm["Statistic"]) == (
            "GreaterThanThreshold",
            0,
            "Sum",
        )


def test_api_5xx_raise_an_alarm(synth: Synthesized) -> None:
    (alarm,) = alarms(synth, "5xx")
    assert dimension(alarm) == {"Ref": synth.logical_id(synth.stack.api.http_api)}


def test_topic_is_encrypted_tls_only_and_mails_the_operator(synth: Synthesized) -> None:
    observability = synth.stack.observability
    topic = synth.resource(observability.topic)["Properties"]
    key_id = synth.logical_id(observability.topic_key)
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    key = synth.json["Resources"][key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    assert any(
        s["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and "kms:Decrypt" in s["Action"]
        for s in key["KeyPolicy"]["Statement"]
    )
    (policy,) = synth.resources("AWS::SNS::TopicPolicy").values()
    (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    (subscription,) = synth.resources("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == TEST_CONFIG.alarm_email


def test_dashboard_shows_the_api_every_function_and_every_queue(synth: Synthesized) -> None:
    dashboard = synth.resource(synth.stack.observability.dashboard)["Properties"]
    assert dashboard["DashboardName"] == "Roomcraft-test"
    body = json.dumps(dashboard["DashboardBody"])
    assert "API requests and errors" in body
    for spec in FUNCTIONS:
        assert f"{spec.id}: invocations, errors, throttles" in body
    for queue in QUEUES:
        assert f"{queue.id} dead letters" in body
