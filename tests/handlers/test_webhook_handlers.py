"""The webhook routes through the api Lambda (API Gateway v2 events), and the dispatcher Lambda
with the SQS events its event source mapping delivers (bodies as EventBridge puts them there)."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import pytest

from functions.api.handler import handler as api_handler
from functions.dispatcher.handler import handler as dispatcher_handler
from shared import bootstrap
from shared.adapters.eventbridge import StatusEventBus
from shared.domain.design import Brief, Design, SourceImage
from shared.domain.events import design_event
from shared.domain.status import DesignStatus
from shared.domain.webhooks import DEFAULT_CHANNEL
from tests.handlers.events import http_api_event, lambda_context, sqs_record
from tests.webhook_receiver import receiving

PUBLIC = "https://93.184.215.14/hooks/roomcraft"


def call(method: str, path: str, body: Any = None, query: str = "") -> tuple[int, Any]:
    response = api_handler(http_api_event(method, path, body, query=query), lambda_context("roomcraft-api"))
    return response["statusCode"], json.loads(response["body"]) if response["body"] else None


def test_endpoint_lifecycle_over_the_api(aws: dict[str, Any]) -> None:
    status, created = call(
        "POST",
        "/v1/webhook-endpoints",
        {"url": PUBLIC, "description": "orders", "event_types": ["design.failed"]},
    )
    assert status == 201
    endpoint_id, secret = created["id"], created["secret"]
    assert endpoint_id.startswith("whe_")
    assert secret.startswith("whsec_")
    assert created["status"] == "enabled"
    assert created["event_types"] == ["design.failed"]

    status, listed = call("GET", "/v1/webhook-endpoints")
    assert status == 200
    assert [e["id"] for e in listed["data"]] == [endpoint_id]
    assert "secret" not in listed["data"][0]  # shown once only
    status, fetched = call("GET", f"/v1/webhook-endpoints/{endpoint_id}")
    assert status == 200
    assert "secret" not in fetched
    assert secret not in json.dumps(fetched)

    status, patched = call(
        "PATCH", f"/v1/webhook-endpoints/{endpoint_id}", {"event_types": [], "description": "all of it"}
    )
    assert (status, patched["event_types"], patched["description"]) == (200, [], "all of it")

    status, rotated = call(
        "POST", f"/v1/webhook-endpoints/{endpoint_id}/rotate-secret", {"grace_period_seconds": 600}
    )
    assert status == 200
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != secret
    assert rotated["previous_secret_expires_at"] is not None

    status, test = call("POST", f"/v1/webhook-endpoints/{endpoint_id}/test")
    assert (status, test["event_type"], test["status"]) == (202, "webhook.test", "pending")
    status, deliveries = call("GET", f"/v1/webhook-endpoints/{endpoint_id}/deliveries", query="limit=5")
    assert status == 200
    assert [d["id"] for d in deliveries["data"]] == [test["id"]]
    assert deliveries["data"][0]["payload"]["type"] == "webhook.test"
    status, one = call("GET", f"/v1/webhook-endpoints/{endpoint_id}/deliveries/{test['id']}")
    assert (status, one["id"]) == (200, test["id"])
    status, replayed = call("POST", f"/v1/webhook-endpoints/{endpoint_id}/deliveries/{test['id']}/replay")
    assert (status, replayed["status"]) == (202, "pending")
    status, accepted = call(
        "POST", f"/v1/webhook-endpoints/{endpoint_id}/replay", {"since": "2026-01-01T00:00:00Z"}
    )
    assert (status, accepted["only_failed"]) == (202, False)

    status, _ = call("DELETE", f"/v1/webhook-endpoints/{endpoint_id}")
    assert status == 204
    status, body = call("GET", f"/v1/webhook-endpoints/{endpoint_id}")
    assert (status, body["error"]["code"]) == (404, "webhook_endpoint_not_found")


ERROR_CASES = [
    ("POST", "/v1/webhook-endpoints", {"url": "https://10.0.0.8/x"}, 422, "webhook_url_refused"),
    ("POST", "/v1/webhook-endpoints", {"url": "http://93.184.215.14/x"}, 422, "webhook_url_refused"),
    (
        "POST",
        "/v1/webhook-endpoints",
        {"url": PUBLIC, "event_types": ["nope"]},
        422,
        "unknown_event_type",
    ),
    ("POST", "/v1/webhook-endpoints", {"url": PUBLIC, "secret": "mine"}, 422, "validation_failed"),
    ("GET", "/v1/webhook-endpoints/whe_missing", None, 404, "webhook_endpoint_not_found"),
    ("DELETE", "/v1/webhook-endpoints/default", None, 404, "webhook_endpoint_not_found"),
    ("POST", "/v1/webhook-endpoints/whe_missing/test", None, 404, "webhook_endpoint_not_found"),
    ("GET", "/v1/webhook-endpoints/default/deliveries/msg_x", None, 404, "webhook_endpoint_not_found"),
]


def test_webhook_route_errors_have_stable_codes(aws: dict[str, Any]) -> None:
    # One moto set-up for every case: each case is one request.
    for method, path, body, status, code in ERROR_CASES:
        answer_status, answer = call(method, path, body)
        assert (answer_status, answer["error"]["code"]) == (status, code), (method, path, body)


def test_a_design_with_its_own_webhook_url_gets_the_default_secret_once(aws: dict[str, Any]) -> None:
    request = {"image_url": "https://93.184.215.14/room.jpg", "room_type": "bedroom", "style": "japandi"}
    status, first = call("POST", "/v1/designs", {**request, "webhook_url": PUBLIC})
    assert status == 202
    assert first["webhook_url"] == PUBLIC
    assert first["webhook_secret"].startswith("whsec_")
    _, second = call("POST", "/v1/designs", {**request, "webhook_url": PUBLIC})
    assert second["webhook_secret"] is None
    _, plain = call("POST", "/v1/designs", request)
    assert (plain["webhook_url"], plain["webhook_secret"]) == (None, None)
    status, fetched = call("GET", f"/v1/designs/{first['id']}")
    assert fetched["webhook_secret"] is None

    status, body = call("POST", "/v1/designs", {**request, "webhook_url": "https://192.168.0.10/hook"})
    assert (status, body["error"]["code"]) == (422, "webhook_url_refused")
    status, rotated = call("POST", f"/v1/webhook-endpoints/{DEFAULT_CHANNEL}/rotate-secret")
    assert status == 200
    assert rotated["secret"] != first["webhook_secret"]
    status, channel = call("GET", f"/v1/webhook-endpoints/{DEFAULT_CHANNEL}")
    assert (status, channel["url"]) == (200, None)


def test_dispatcher_fans_out_a_real_bus_event_then_delivers_and_reports_bad_records(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROOMCRAFT_ALLOW_LOOPBACK_URLS", "true")
    bootstrap.reset()
    sqs = boto3.client("sqs")
    queue = aws["ROOMCRAFT_WEBHOOK_QUEUE_URL"]
    with receiving() as receiver:
        _, secret = bootstrap.webhook_endpoints().create("tnt_default", url=receiver.url)
        design = Design(
            design_id="dsn_h1",
            tenant_id="tnt_default",
            source=SourceImage(upload_id="u"),
            brief=Brief(room_type="bedroom", style="japandi", seed=1),
            provider="preview",
            storage_token="t",
            created_at=design_now(),
            updated_at=design_now(),
        )
        StatusEventBus(aws["ROOMCRAFT_EVENT_BUS_NAME"]).publish(design_event(design, previous=None))
        [delivered_by_rule] = sqs.receive_message(QueueUrl=queue)["Messages"]
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=delivered_by_rule["ReceiptHandle"])

        bad = sqs_record('{"kind": "deliver"}', message_id="bad-1")
        event = {"Records": [sqs_record(delivered_by_rule["Body"], message_id="good-1"), bad]}
        response = dispatcher_handler(event, lambda_context("roomcraft-dispatcher"))
        assert response["batchItemFailures"] == [{"itemIdentifier": "bad-1"}]

        [job] = sqs.receive_message(QueueUrl=queue)["Messages"]
        assert json.loads(job["Body"])["kind"] == "deliver"
        response = dispatcher_handler(
            {"Records": [sqs_record(job["Body"])]}, lambda_context("roomcraft-dispatcher")
        )
        assert response["batchItemFailures"] == []
        [request] = receiver.requests()
        assert request.verify(secret)["type"] == "design.queued"

        # The records of one batch are delivered at the same time, not one after the other.
        bootstrap.webhook_endpoints().create("tnt_default", url=receiver.url + "/second")
        StatusEventBus(aws["ROOMCRAFT_EVENT_BUS_NAME"]).publish(
            design_event(design.transition(DesignStatus.PREPARING, now=design_now()), DesignStatus.QUEUED)
        )
        [event_message] = sqs.receive_message(QueueUrl=queue)["Messages"]
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=event_message["ReceiptHandle"])
        dispatcher_handler({"Records": [sqs_record(event_message["Body"])]}, lambda_context())
        jobs = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
        assert len(jobs) == 2
        receiver.gate = threading.Barrier(2, timeout=10)
        batch = {"Records": [sqs_record(job["Body"]) for job in jobs]}
        assert dispatcher_handler(batch, lambda_context())["batchItemFailures"] == []
        assert sorted(r.answered for r in receiver.requests()[1:]) == [200, 200]


def design_now() -> Any:
    from shared.domain.clock import utcnow

    return utcnow()
