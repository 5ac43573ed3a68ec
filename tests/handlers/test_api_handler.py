"""The api Lambda entry point with API Gateway HTTP API (v2) events, through Mangum."""

from __future__ import annotations

import json
from typing import Any

from functions.api.handler import handler
from tests.handlers.events import http_api_event, lambda_context


def call(event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    response = handler(event, lambda_context("roomcraft-api"))
    return (
        response["statusCode"],
        response["headers"],
        json.loads(response["body"]) if response["body"] else None,
    )


def test_health_answers_with_the_gateway_request_id(aws: dict[str, Any]) -> None:
    status, headers, body = call(http_api_event("GET", "/v1/health", request_id="gw-req-1"))
    assert status == 200
    assert body["status"] == "ok"
    assert headers["x-request-id"] == "gw-req-1"


def test_styles_catalogue(aws: dict[str, Any]) -> None:
    status, _, body = call(http_api_event("GET", "/v1/styles"))
    assert status == 200
    assert len(body["styles"]) >= 12
    assert len(body["room_types"]) >= 8


def test_unknown_style_is_a_422_with_a_stable_code(aws: dict[str, Any]) -> None:
    event = http_api_event(
        "POST",
        "/v1/designs",
        {"upload_id": "upl_x", "room_type": "living_room", "style": "vaporwave"},
        request_id="gw-2",
    )
    status, _, body = call(event)
    assert status == 422
    assert body["error"]["code"] == "unknown_style"
    assert body["error"]["request_id"] == "gw-2"
    assert "scandinavian" in body["error"]["details"]["valid"]


def test_unknown_room_type_is_a_422(aws: dict[str, Any]) -> None:
    event = http_api_event(
        "POST", "/v1/designs", {"upload_id": "upl_x", "room_type": "garage", "style": "japandi"}
    )
    status, _, body = call(event)
    assert status == 422
    assert body["error"]["code"] == "unknown_room_type"


def test_missing_upload_is_a_404(aws: dict[str, Any]) -> None:
    event = http_api_event(
        "POST", "/v1/designs", {"upload_id": "upl_missing", "room_type": "bedroom", "style": "japandi"}
    )
    status, _, body = call(event)
    assert status == 404
    assert body["error"]["code"] == "upload_not_found"


def test_upload_that_never_arrived_is_a_409(aws: dict[str, Any]) -> None:
    _, _, slot = call(http_api_event("POST", "/v1/uploads", {"content_type": "image/jpeg"}))
    event = http_api_event(
        "POST", "/v1/designs", {"upload_id": slot["upload_id"], "room_type": "bedroom", "style": "japandi"}
    )
    status, _, body = call(event)
    assert status == 409
    assert body["error"]["code"] == "upload_incomplete"


def test_malformed_json_body_is_a_422_validation_error(aws: dict[str, Any]) -> None:
    event = http_api_event("POST", "/v1/designs")
    event["body"] = "{not json"
    status, _, body = call(event)
    assert status == 422
    assert body["error"]["code"] == "validation_failed"


def test_both_or_neither_source_is_refused(aws: dict[str, Any]) -> None:
    status, _, body = call(
        http_api_event("POST", "/v1/designs", {"room_type": "bedroom", "style": "japandi"})
    )
    assert (status, body["error"]["code"]) == (422, "validation_failed")
    both = {
        "upload_id": "u",
        "image_url": "https://example.com/a.jpg",
        "room_type": "bedroom",
        "style": "japandi",
    }
    status, _, body = call(http_api_event("POST", "/v1/designs", both))
    assert (status, body["error"]["code"]) == (422, "validation_failed")


def test_private_image_url_is_refused(aws: dict[str, Any]) -> None:
    body = {
        "image_url": "https://169.254.169.254/latest/meta-data/",
        "room_type": "bedroom",
        "style": "japandi",
    }
    status, _, answer = call(http_api_event("POST", "/v1/designs", body))
    assert status == 422
    assert answer["error"]["code"] == "image_url_refused"


def test_unsupported_upload_type_is_refused(aws: dict[str, Any]) -> None:
    status, _, body = call(http_api_event("POST", "/v1/uploads", {"content_type": "application/pdf"}))
    assert (status, body["error"]["code"]) == (422, "validation_failed")


def test_unknown_route_is_a_json_404(aws: dict[str, Any]) -> None:
    status, _, body = call(http_api_event("GET", "/v1/nothing-here"))
    assert (status, body["error"]["code"]) == (404, "route_not_found")


def test_unknown_design_is_a_404(aws: dict[str, Any]) -> None:
    status, _, body = call(http_api_event("GET", "/v1/designs/dsn_nope"))
    assert (status, body["error"]["code"]) == (404, "design_not_found")


def test_bad_list_parameters_are_422(aws: dict[str, Any]) -> None:
    status, _, body = call(http_api_event("GET", "/v1/designs", query="limit=1000"))
    assert (status, body["error"]["code"]) == (422, "validation_failed")
    status, _, body = call(http_api_event("GET", "/v1/designs", query="cursor=%%%"))
    assert (status, body["error"]["code"]) == (400, "cursor_invalid")


def test_requests_still_run_after_something_cleared_the_event_loop(aws: dict[str, Any]) -> None:
    import asyncio

    async def nothing() -> None:
        return None

    asyncio.run(nothing())  # leaves this thread with no current loop, as Python 3.14 starts out
    status, _, body = call(http_api_event("GET", "/v1/health"))
    assert (status, body["status"]) == (200, "ok")
    asyncio.get_event_loop().close()  # the handler's loop; the next request makes a new one
    assert call(http_api_event("GET", "/v1/health"))[0] == 200
