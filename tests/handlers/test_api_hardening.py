"""Issue 13's API findings, through the api Lambda handler (moto): secrets kept out of the
idempotency table (item 3), cursors of the wrong shape (item 8), the endpoint limit under parallel
creates (item 9), strict request types and the parsed-body idempotency hash (item 14)."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest

from functions.api.handler import handler
from tests.handlers.api import Answer, call, call_at_once, new_tenant, uploaded
from tests.handlers.events import http_api_event, lambda_context

PUBLIC = "https://93.184.215.14/hooks/roomcraft"


def call_raw(path: str, raw_body: str, headers: dict[str, str]) -> Answer:
    """A POST whose body is sent byte for byte as given (not re-serialized)."""
    event = http_api_event("POST", path, {}, headers=headers)
    event["body"] = raw_body
    response = handler(event, lambda_context("roomcraft-api"))
    return Answer(
        response["statusCode"],
        {k.lower(): v for k, v in response["headers"].items()},
        json.loads(response["body"]) if response["body"] else None,
    )


def every_stored_item() -> str:
    """Every item of every DynamoDB table, as text."""
    dynamodb = boto3.client("dynamodb")
    dumped = []
    for table in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            dumped.extend(json.dumps(item) for item in page["Items"])
    assert dumped, "the scan found no items at all"
    return "\n".join(dumped)


def b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


# --- item 3: no webhook secret in any stored idempotency record ------------------------
def test_no_table_holds_a_webhook_secret_after_idempotent_creates_and_replays(aws: dict[str, Any]) -> None:
    headers = {"Idempotency-Key": "endpoint-1"}
    created = call("POST", "/v1/webhook-endpoints", {"url": PUBLIC}, headers=headers)
    assert created.status == 201
    assert created.body["secret"].startswith("whsec_")
    assert "idempotent-replayed" not in created.headers

    replayed = call("POST", "/v1/webhook-endpoints", {"url": PUBLIC}, headers=headers)
    assert replayed.status == 201
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.headers["idempotent-redacted"] == "secret"
    assert replayed.body["id"] == created.body["id"]
    assert replayed.body["secret"] is None

    design = {"upload_id": uploaded(), "room_type": "bedroom", "style": "japandi", "webhook_url": PUBLIC}
    first = call("POST", "/v1/designs", design, headers={"Idempotency-Key": "design-1"})
    assert first.status == 202
    assert first.body["webhook_secret"].startswith("whsec_")
    again = call("POST", "/v1/designs", design, headers={"Idempotency-Key": "design-1"})
    assert (again.status, again.body["id"]) == (202, first.body["id"])
    assert again.body["webhook_secret"] is None
    assert again.headers["idempotent-redacted"] == "secret"

    endpoint_id = created.body["id"]
    rotate = f"/v1/webhook-endpoints/{endpoint_id}/rotate-secret"
    rotated = call("POST", rotate, {"grace_period_seconds": 0}, headers={"Idempotency-Key": "rotate-1"})
    assert rotated.body["secret"].startswith("whsec_")
    rotated_again = call("POST", rotate, {"grace_period_seconds": 0}, headers={"Idempotency-Key": "rotate-1"})
    assert rotated_again.body["secret"] is None

    stored = every_stored_item()
    assert "whsec_" not in stored
    for secret in (created.body["secret"], first.body["webhook_secret"], rotated.body["secret"]):
        assert secret.removeprefix("whsec_") not in stored


def test_a_replay_without_a_secret_is_not_marked_redacted(aws: dict[str, Any]) -> None:
    headers = {"Idempotency-Key": "upload-1"}
    call("POST", "/v1/uploads", {"content_type": "image/jpeg"}, headers=headers)
    replayed = call("POST", "/v1/uploads", {"content_type": "image/jpeg"}, headers=headers)
    assert replayed.headers["idempotent-replayed"] == "true"
    assert "idempotent-redacted" not in replayed.headers
    assert int(replayed.headers["content-length"]) == len(json.dumps(replayed.body, separators=(",", ":")))


# --- item 8: cursors of the wrong shape ------------------------------------------------
WRONG_CURSORS = [
    {"design_id": "x", "tenant_id": "y"},
    {"design_id": {"S": "dsn_1"}, "tenant_id": {"S": "tnt_someone_else"}},
    {"design_id": {"S": "dsn_1"}, "tenant_id": {"S": "tnt_default"}, "extra": {"S": "x"}},
    {"design_id": {"N": "1"}, "tenant_id": {"S": "tnt_default"}},
    {"design_id": {"S": ""}, "tenant_id": {"S": "tnt_default"}},
    {"tenant_id": {"S": "tnt_default"}},
    ["design_id", "tenant_id"],
    "just a string",
]


@pytest.mark.parametrize("cursor", [*map(b64, WRONG_CURSORS), "%%%", "bm90IGpzb24"])
def test_a_cursor_of_the_wrong_shape_is_400_cursor_invalid(aws: dict[str, Any], cursor: str) -> None:
    answer = call("GET", "/v1/designs", query=f"cursor={cursor}")
    assert (answer.status, answer.code) == (400, "cursor_invalid")
    assert answer.body["error"]["request_id"]


def test_a_delivery_list_cursor_of_the_wrong_shape_is_400(aws: dict[str, Any]) -> None:
    endpoint_id = call("POST", "/v1/webhook-endpoints", {"url": PUBLIC}).body["id"]
    another_endpoints = {"endpoint_key": {"S": "tnt_default#whe_other"}, "message_id": {"S": "msg_1"}}
    for cursor in (b64({"endpoint_key": "x", "message_id": "y"}), b64(another_endpoints)):
        answer = call("GET", f"/v1/webhook-endpoints/{endpoint_id}/deliveries", query=f"cursor={cursor}")
        assert (answer.status, answer.code) == (400, "cursor_invalid")


def test_a_cursor_the_api_returned_still_pages(aws: dict[str, Any]) -> None:
    for style in ("japandi", "coastal", "industrial"):
        assert (
            call(
                "POST", "/v1/designs", {"upload_id": uploaded(), "room_type": "bedroom", "style": style}
            ).status
            == 202
        )
    first = call("GET", "/v1/designs", query="limit=2")
    second = call("GET", "/v1/designs", query=f"limit=2&cursor={first.body['next_cursor']}")
    assert second.status == 200
    assert len(first.body["data"]) + len(second.body["data"]) == 3


def test_another_tenants_cursor_is_refused(aws: dict[str, Any]) -> None:
    for style in ("japandi", "coastal"):
        call("POST", "/v1/designs", {"upload_id": uploaded(), "room_type": "bedroom", "style": style})
    mine = call("GET", "/v1/designs", query="limit=1").body["next_cursor"]
    other = new_tenant("tnt_other")
    answer = call("GET", "/v1/designs", query=f"cursor={mine}", api_key=other)
    assert (answer.status, answer.code) == (400, "cursor_invalid")


# --- item 9: the endpoint limit holds under parallel creates ---------------------------
def test_parallel_creates_make_exactly_the_endpoint_limit(aws: dict[str, Any]) -> None:
    requests = [("POST", "/v1/webhook-endpoints", {"url": PUBLIC}, {}) for _ in range(30)]
    answers = call_at_once(requests)
    statuses = sorted(a.status for a in answers)
    assert statuses.count(201) == 20, statuses
    assert {a.code for a in answers if a.status != 201} == {"webhook_endpoint_limit_reached"}
    assert len(call("GET", "/v1/webhook-endpoints").body["data"]) == 20


def test_a_deleted_endpoint_frees_its_place(aws: dict[str, Any]) -> None:
    ids = [call("POST", "/v1/webhook-endpoints", {"url": PUBLIC}).body["id"] for _ in range(20)]
    refused = call("POST", "/v1/webhook-endpoints", {"url": PUBLIC})
    assert (refused.status, refused.code) == (409, "webhook_endpoint_limit_reached")
    assert call("DELETE", f"/v1/webhook-endpoints/{ids[0]}").status == 204
    assert call("DELETE", f"/v1/webhook-endpoints/{ids[0]}").status == 404  # counted down once only
    assert call("POST", "/v1/webhook-endpoints", {"url": PUBLIC}).status == 201
    refused = call("POST", "/v1/webhook-endpoints", {"url": PUBLIC})
    assert (refused.status, refused.code) == (409, "webhook_endpoint_limit_reached")


# --- item 14: strict types; the idempotency hash covers the parsed body ----------------
@pytest.mark.parametrize("variants", ["2", True, 2.0, "two"])
def test_variants_of_the_wrong_type_are_422(aws: dict[str, Any], variants: Any) -> None:
    body = {"upload_id": uploaded(), "room_type": "bedroom", "style": "japandi", "variants": variants}
    answer = call("POST", "/v1/designs", body)
    assert (answer.status, answer.code) == (422, "validation_failed")


@pytest.mark.parametrize("seed", ["7", False])
def test_a_seed_of_the_wrong_type_is_422(aws: dict[str, Any], seed: Any) -> None:
    body = {"upload_id": uploaded(), "room_type": "bedroom", "style": "japandi", "seed": seed}
    assert call("POST", "/v1/designs", body).status == 422


def test_batch_items_and_webhook_bodies_are_strict_too(aws: dict[str, Any]) -> None:
    batch = {
        "defaults": {"upload_id": uploaded(), "room_type": "bedroom"},
        "designs": [{"style": "japandi", "variants": "2"}],
    }
    assert call("POST", "/v1/batches", batch).status == 422
    endpoint_id = call("POST", "/v1/webhook-endpoints", {"url": PUBLIC}).body["id"]
    path = f"/v1/webhook-endpoints/{endpoint_id}"
    assert call("PATCH", path, {"enabled": "false"}).status == 422
    assert call("POST", f"{path}/rotate-secret", {"grace_period_seconds": "60"}).status == 422
    assert call("POST", f"{path}/replay", {"since": "2026-01-01T00:00:00Z", "only_failed": 1}).status == 422
    assert (
        call("POST", f"{path}/replay", {"since": "2026-01-01T00:00:00Z", "only_failed": True}).status == 202
    )


def test_the_same_json_with_other_whitespace_and_key_order_is_a_replay(aws: dict[str, Any]) -> None:
    upload_id = uploaded()
    headers = {"Idempotency-Key": "spacing"}
    compact = f'{{"upload_id":"{upload_id}","room_type":"bedroom","style":"japandi"}}'
    spaced = f'{{\n  "style": "japandi",\n  "room_type" : "bedroom",\n  "upload_id": "{upload_id}"\n}}\n'
    first = call_raw("/v1/designs", compact, headers)
    again = call_raw("/v1/designs", spaced, headers)
    assert first.status == 202
    assert (again.status, again.body["id"]) == (202, first.body["id"])
    assert again.headers["idempotent-replayed"] == "true"
    different = call_raw("/v1/designs", spaced.replace("japandi", "coastal"), headers)
    assert (different.status, different.code) == (422, "idempotency_key_reused")


def test_endpoints_from_before_the_counter_are_counted(aws: dict[str, Any]) -> None:
    from shared import bootstrap
    from shared.adapters.dynamodb_webhooks import WebhookEndpointRepository
    from shared.settings import get_settings

    service = bootstrap.webhook_endpoints()
    first, _ = service.create("tnt_default", url=PUBLIC)
    repository = WebhookEndpointRepository(get_settings())
    for n in range(19):  # written as the release before the counter did: no count kept
        repository.create(first.model_copy(update={"endpoint_id": f"whe_old{n:02d}"}))
    boto3.client("dynamodb").delete_item(
        TableName=get_settings().webhook_endpoints_table,
        Key={"tenant_id": {"S": "tnt_default"}, "endpoint_id": {"S": "#registered"}},
    )
    refused = call("POST", "/v1/webhook-endpoints", {"url": PUBLIC})
    assert (refused.status, refused.code) == (409, "webhook_endpoint_limit_reached")
    assert call("DELETE", "/v1/webhook-endpoints/whe_old00").status == 204
    assert call("POST", "/v1/webhook-endpoints", {"url": PUBLIC}).status == 201
    assert len(call("GET", "/v1/webhook-endpoints").body["data"]) == 20
    assert call("GET", "/v1/webhook-endpoints/%23registered").code == "webhook_endpoint_not_found"


# --- item 17: the API refuses what the document does not promise ------------------------
@pytest.mark.parametrize(
    "source",
    [
        {},
        {"upload_id": "upl_x", "image_url": "https://93.184.215.14/room.jpg"},
        {"image_url": ""},
        {"upload_id": ""},
        {"upload_id": None, "image_url": None},
    ],
)
def test_a_design_without_exactly_one_usable_source_is_422(
    aws: dict[str, Any], source: dict[str, Any]
) -> None:
    answer = call("POST", "/v1/designs", {"room_type": "bedroom", "style": "japandi", **source})
    assert answer.status == 422


def test_empty_urls_and_empty_batch_items_are_422(aws: dict[str, Any]) -> None:
    brief = {"upload_id": uploaded(), "room_type": "bedroom", "style": "japandi"}
    assert call("POST", "/v1/designs", {**brief, "webhook_url": ""}).code == "validation_failed"
    assert call("POST", "/v1/webhook-endpoints", {"url": ""}).code == "validation_failed"
    no_style = {key: value for key, value in brief.items() if key != "style"}
    empty_item = call("POST", "/v1/batches", {"defaults": no_style, "designs": [{"style": "coastal"}, {}]})
    assert (empty_item.status, empty_item.code) == (422, "validation_failed")
    assert empty_item.body["error"]["details"]["item"] == 1
    assert (
        call("POST", "/v1/batches", {"defaults": brief, "designs": [{"style": "coastal"}, {}]}).status == 202
    )


def test_an_unusable_idempotency_key_is_422_as_the_pattern_says(aws: dict[str, Any]) -> None:
    answer = call("POST", "/v1/uploads", {"content_type": "image/jpeg"}, headers={"Idempotency-Key": "a b"})
    assert (answer.status, answer.code) == (422, "idempotency_key_invalid")


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/v1/designs", "GET, POST"),
        ("/v1/health", "GET"),
        ("/v1/webhook-endpoints/whe_x", "DELETE, GET, PATCH"),
        ("/v1/callbacks/replicate", "POST"),
    ],
)
def test_an_unsupported_method_is_405_with_allow(aws: dict[str, Any], path: str, allowed: str) -> None:
    answer = call("TRACE", path)
    assert (answer.status, answer.code) == (405, "method_not_allowed")
    assert answer.headers["allow"] == allowed


# --- item 18: an unconfigured callback does not exist for the internet ------------------
def test_the_callback_is_404_where_no_provider_calls_back(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("REPLICATE_API_TOKEN", "REPLICATE_WEBHOOK_SECRET", "ROOMCRAFT_REPLICATE_TOKEN_SECRET_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ROOMCRAFT_ALLOWED_PROVIDERS", '["replicate"]')
    from shared.settings import get_settings

    get_settings.cache_clear()
    try:
        answer = call(
            "POST", "/v1/callbacks/replicate", {"id": "p1"}, query="tenant=tnt_default&design=dsn_1"
        )
    finally:
        get_settings.cache_clear()
    assert (answer.status, answer.code) == (404, "route_not_found")
    assert answer.body["error"]["request_id"]


# --- item 15: the formats the CLI and docs advertise are accepted for upload --------------
@pytest.mark.parametrize("content_type", ["image/gif", "image/tiff", "image/bmp"])
def test_uploads_accept_every_advertised_format(aws: dict[str, Any], content_type: str) -> None:
    answer = call("POST", "/v1/uploads", {"content_type": content_type})
    assert answer.status == 201, answer.body
    assert answer.body["content_type"] == content_type
