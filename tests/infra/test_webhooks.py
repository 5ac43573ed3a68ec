"""Webhooks in the stack: the secrets key, the dispatcher wiring, and the two roles that touch them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.resources import (
    DESIGNS_TABLE,
    EVENT_BUS,
    WEBHOOK_ENDPOINTS_TABLE,
    WEBHOOK_MESSAGES_TABLE,
    WEBHOOK_QUEUE,
    WEBHOOK_SECRETS_KEY,
)
from tests.infra.conftest import Synthesized
from tests.infra.test_functions_iam import mentions, reachable, statements

pytestmark = pytest.mark.infra

PURPOSE = {"StringEquals": {"kms:EncryptionContext:purpose": "webhook-signing-secret"}}


def arn(synth: Synthesized, construct: Any) -> dict[str, Any]:
    return {"Fn::GetAtt": [synth.logical_id(construct), "Arn"]}


def key_statements(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in found if any(a.startswith("kms:") for a in s["Action"])]


def test_secrets_key_rotates_and_every_function_knows_it(synth: Synthesized) -> None:
    key = synth.stack.webhooks.secrets_key
    props = synth.resource(key)["Properties"]
    assert props["EnableKeyRotation"] is True
    assert props["PendingWindowInDays"] == 30
    for function in synth.stack.compute.functions.values():
        env = synth.resource(function)["Properties"]["Environment"]["Variables"]
        assert env[WEBHOOK_SECRETS_KEY.env_var] == arn(synth, key)


def test_delivery_log_expires_by_ttl(synth: Synthesized) -> None:
    props = synth.resource(synth.stack.storage.tables[WEBHOOK_MESSAGES_TABLE.id])["Properties"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at_epoch", "Enabled": True}


def test_status_batch_and_endpoint_events_reach_the_webhook_queue(synth: Synthesized) -> None:
    prefixes = {r.detail_type_prefix for r in EVENT_BUS.rules if r.target_queue == WEBHOOK_QUEUE.id}
    assert prefixes == {"design.", "batch.", "endpoint."}
    dispatcher = synth.stack.compute.functions["dispatcher"]
    queue = synth.stack.pipeline.queues[WEBHOOK_QUEUE.id].queue
    (mapping,) = [
        m["Properties"]
        for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": synth.logical_id(dispatcher)}
    ]
    assert mapping["EventSourceArn"] == arn(synth, queue)
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_api_may_encrypt_secrets_but_never_decrypt_them(synth: Synthesized) -> None:
    found = statements(synth, "api")
    key = arn(synth, synth.stack.webhooks.secrets_key)
    assert [(s["Action"], s["Resource"], s.get("Condition")) for s in key_statements(found)] == [
        (["kms:Encrypt"], [key], PURPOSE)
    ]
    storage = synth.stack.storage
    assert arn(synth, storage.tables[WEBHOOK_ENDPOINTS_TABLE.id]) in reachable(found, "dynamodb:DeleteItem")
    assert arn(synth, storage.tables[WEBHOOK_MESSAGES_TABLE.id]) not in reachable(
        found, "dynamodb:DeleteItem"
    )


def test_dispatcher_holds_only_what_delivery_needs(synth: Synthesized) -> None:
    found = statements(synth, "dispatcher")
    stack = synth.stack
    endpoints = arn(synth, stack.storage.tables[WEBHOOK_ENDPOINTS_TABLE.id])
    messages = arn(synth, stack.storage.tables[WEBHOOK_MESSAGES_TABLE.id])
    queue = arn(synth, stack.pipeline.queues[WEBHOOK_QUEUE.id].queue)
    key = arn(synth, stack.webhooks.secrets_key)

    dynamodb = {a for s in found for a in s["Action"] if a.startswith("dynamodb:")}
    assert dynamodb == {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:DescribeTable",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    }
    assert reachable(found, "dynamodb:UpdateItem") == [endpoints, messages]
    assert reachable(found, "dynamodb:PutItem") == [messages]  # endpoints: health and status only
    assert [(s["Action"], s["Resource"], s.get("Condition")) for s in key_statements(found)] == [
        (["kms:Decrypt"], [key], PURPOSE)
    ]
    assert reachable(found, "sqs:SendMessage") == [queue]
    assert reachable(found, "sqs:ReceiveMessage") == [queue]
    assert reachable(found, "events:PutEvents") == [arn(synth, stack.events.bus)]
    assert not any(a.startswith(("s3:", "secretsmanager:", "sagemaker:")) for s in found for a in s["Action"])
    assert not mentions(found, synth.logical_id(stack.storage.tables[DESIGNS_TABLE.id]))


def test_the_worker_never_touches_webhook_secrets(synth: Synthesized) -> None:
    found = statements(synth, "worker")
    assert key_statements(found) == []
    assert not mentions(found, synth.logical_id(synth.stack.storage.tables[WEBHOOK_ENDPOINTS_TABLE.id]))
    assert json.dumps(found).count(synth.logical_id(synth.stack.webhooks.secrets_key)) == 0
