"""The S3 inbox in the template: notification, settle delay, writeback rule, least privilege."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.resources import (
    DESIGNS_TABLE,
    GENERATE_QUEUE,
    INBOX_BUCKET,
    INGEST_QUEUE,
    INGESTS_TABLE,
    OUTPUTS_BUCKET,
    TENANTS_TABLE,
    UPLOADS_BUCKET,
    UPLOADS_TABLE,
    WRITEBACK_QUEUE,
)
from tests.infra.conftest import Synthesized
from tests.infra.test_functions_iam import mentions, object_arn, reachable, statements

pytestmark = pytest.mark.infra


def arn(synth: Synthesized, construct: Any) -> dict[str, Any]:
    return {"Fn::GetAtt": [synth.logical_id(construct), "Arn"]}


def as_set(resources: list[Any]) -> list[str]:
    return sorted(map(json.dumps, resources))


def test_inbox_objects_created_notify_the_ingest_queue_and_only_this_bucket_may_send(
    synth: Synthesized,
) -> None:
    stack = synth.stack
    bucket, queue = stack.storage.buckets[INBOX_BUCKET.id], stack.pipeline.queues[INGEST_QUEUE.id].queue
    (notifications,) = synth.resources("Custom::S3BucketNotifications").values()
    props = notifications["Properties"]
    assert props["BucketName"] == {"Ref": synth.logical_id(bucket)}
    assert props["NotificationConfiguration"] == {
        "QueueConfigurations": [
            {
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "inbox/"}]}},
                "QueueArn": arn(synth, queue),
            }
        ]
    }
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.resources("AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": synth.logical_id(queue)}]
    ]
    (allow,) = [s for s in policies[0] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "s3.amazonaws.com"}
    assert allow["Condition"] == {"ArnLike": {"aws:SourceArn": arn(synth, bucket)}}


def test_ingest_queue_waits_out_the_settle_delay_and_both_consumers_are_bounded(synth: Synthesized) -> None:
    queue = synth.resource(synth.stack.pipeline.queues[INGEST_QUEUE.id].queue)["Properties"]
    assert queue["DelaySeconds"] == INGEST_QUEUE.delay_seconds == 10
    mappings = synth.resources("AWS::Lambda::EventSourceMapping").values()
    for spec, function_id in ((INGEST_QUEUE, "ingest"), (WRITEBACK_QUEUE, "writeback")):
        (mapping,) = [
            m["Properties"]
            for m in mappings
            if m["Properties"]["EventSourceArn"] == arn(synth, synth.stack.pipeline.queues[spec.id].queue)
        ]
        assert mapping["FunctionName"] == {
            "Ref": synth.logical_id(synth.stack.compute.functions[function_id])
        }
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["ScalingConfig"] == {"MaximumConcurrency": 5}


def test_inbox_bucket_expires_drops_and_quarantine(synth: Synthesized) -> None:
    props = synth.resource(synth.stack.storage.buckets[INBOX_BUCKET.id])["Properties"]
    expiry = {
        r["Prefix"]: r["ExpirationInDays"] for r in props["LifecycleConfiguration"]["Rules"] if "Prefix" in r
    }
    assert expiry == {"inbox/": 30, "quarantine/": 30, "outbox/": 90}
    assert "CorsConfiguration" not in props  # partners use the S3 API, not browsers
    assert props["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True


def test_ingest_role(synth: Synthesized) -> None:
    found = statements(synth, "ingest")
    storage, pipeline = synth.stack.storage, synth.stack.pipeline
    tables = [arn(synth, storage.tables[t.id]) for t in (INGESTS_TABLE, DESIGNS_TABLE)]
    assert as_set(reachable(found, "dynamodb:PutItem")) == as_set(tables)
    assert not mentions(found, synth.logical_id(storage.tables[UPLOADS_TABLE.id]))
    inbox, outbox, quarantine = (
        object_arn(synth, INBOX_BUCKET.id, p) for p in ("inbox/", "outbox/", "quarantine/")
    )
    assert reachable(found, "s3:GetObject") == [inbox]
    assert reachable(found, "s3:DeleteObject") == [inbox]
    assert as_set(reachable(found, "s3:PutObject")) == as_set([outbox, quarantine])
    assert reachable(found, "s3:ListBucket") == [arn(synth, storage.buckets[INBOX_BUCKET.id])]
    assert not mentions(found, synth.logical_id(storage.buckets[UPLOADS_BUCKET.id]))
    assert not mentions(found, synth.logical_id(storage.buckets[OUTPUTS_BUCKET.id]))
    assert reachable(found, "sqs:SendMessage") == [arn(synth, pipeline.queues[GENERATE_QUEUE.id].queue)]
    assert reachable(found, "sqs:DeleteMessage") == [arn(synth, pipeline.queues[INGEST_QUEUE.id].queue)]
    assert reachable(found, "events:PutEvents") == [arn(synth, synth.stack.events.bus)]
    assert not reachable(found, "secretsmanager:GetSecretValue")


def test_ingest_checks_the_writer_against_the_tenants_registered_writers(synth: Synthesized) -> None:
    """Issue 13 item 6: in the cloud the key prefix alone does not make a design (docs/inbox.md)."""
    ingest = synth.stack.compute.functions["ingest"]
    env = synth.resource(ingest)["Properties"]["Environment"]["Variables"]
    assert env["ROOMCRAFT_INBOX_WRITER_CHECK"] == "enforce"
    tenants = arn(synth, synth.stack.storage.tables[TENANTS_TABLE.id])
    assert tenants in reachable(statements(synth, "ingest"), "dynamodb:GetItem")


def test_writeback_role(synth: Synthesized) -> None:
    found = statements(synth, "writeback")
    storage, pipeline = synth.stack.storage, synth.stack.pipeline
    designs = arn(synth, storage.tables[DESIGNS_TABLE.id])
    assert reachable(found, "dynamodb:GetItem")[0] == designs
    assert json.dumps(reachable(found, "dynamodb:GetItem")[1:]) == json.dumps(
        [{"Fn::Join": ["", [designs, "/index/open-designs"]]}]
    )  # the table and its index: reads only
    assert not reachable(found, "dynamodb:PutItem")
    assert not reachable(found, "dynamodb:UpdateItem")
    inbox, outbox, quarantine = (
        object_arn(synth, INBOX_BUCKET.id, p) for p in ("inbox/", "outbox/", "quarantine/")
    )
    outputs = object_arn(synth, OUTPUTS_BUCKET.id, "designs/")
    assert as_set(reachable(found, "s3:GetObject")) == as_set([outputs, inbox, quarantine])
    assert as_set(reachable(found, "s3:PutObject")) == as_set([outbox, quarantine])
    assert reachable(found, "s3:DeleteObject") == [inbox]
    assert not mentions(found, synth.logical_id(storage.buckets[UPLOADS_BUCKET.id]))
    assert not reachable(found, "sqs:SendMessage")
    assert reachable(found, "sqs:DeleteMessage") == [arn(synth, pipeline.queues[WRITEBACK_QUEUE.id].queue)]
    assert not reachable(found, "events:PutEvents")
