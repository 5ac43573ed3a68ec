"""Tenant isolation: every route, tried by a second tenant on the first tenant's things.

The matrix must name every route of the app: a route added without a line here fails the test,
so that each new endpoint is tried across tenants before it ships.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from shared import bootstrap
from shared.api.app import create_app
from tests.handlers.api import Answer, call, new_tenant, uploaded

# Replicate's callback carries no API key of ours: it is authenticated by Replicate's signature.
PUBLIC = {("GET", "/v1/health"), ("GET", "/v1/styles"), ("POST", "/v1/callbacks/replicate")}
HOOK = "https://93.184.215.14/hooks/roomcraft"


class Owned:
    """What tenant A owns: an upload with its photo, a design and a batch."""

    def __init__(self) -> None:
        self.upload_id = uploaded()
        brief = {"upload_id": self.upload_id, "room_type": "bedroom", "style": "japandi"}
        self.design_id = call("POST", "/v1/designs", brief).body["id"]
        batch = {"defaults": brief, "designs": [{"style": "coastal"}, {"style": "industrial"}]}
        self.batch_id = call("POST", "/v1/batches", batch).body["id"]
        self.endpoint_id = call("POST", "/v1/webhook-endpoints", {"url": HOOK}).body["id"]
        self.message_id = call("POST", f"/v1/webhook-endpoints/{self.endpoint_id}/test").body["id"]


Probe = Callable[[Owned, str], Answer]
Check = Callable[[Answer, Owned], None]


def is_404(code: str) -> Check:
    def check(answer: Answer, owned: Owned) -> None:
        assert (answer.status, answer.code) == (404, code), answer.body

    return check


def lists_nothing_of_a(answer: Answer, owned: Owned) -> None:
    assert answer.status == 200
    assert answer.body["data"] == []


def own_usage_only(answer: Answer, owned: Owned) -> None:
    assert answer.status == 200
    assert (answer.body["tenant_id"], answer.body["designs"]["used"]) == ("tnt_b", 0)


def own_upload(answer: Answer, owned: Owned) -> None:
    assert answer.status == 201
    assert "/uploads/tnt_b/" in answer.body["url"] + answer.body["fields"]["key"]


def created_own_endpoint(answer: Answer, owned: Owned) -> None:
    assert answer.status == 201
    assert answer.body["id"] != owned.endpoint_id


def lists_none_of_as_endpoints(answer: Answer, owned: Owned) -> None:
    assert answer.status == 200
    assert owned.endpoint_id not in [e["id"] for e in answer.body["data"]]


def brief(upload_id: str) -> dict[str, Any]:
    return {"upload_id": upload_id, "room_type": "bedroom", "style": "japandi"}


MATRIX: dict[tuple[str, str], tuple[Probe, Check]] = {
    ("POST", "/v1/uploads"): (
        lambda o, key: call("POST", "/v1/uploads", {"content_type": "image/jpeg"}, api_key=key),
        own_upload,
    ),
    ("POST", "/v1/designs"): (
        lambda o, key: call("POST", "/v1/designs", brief(o.upload_id), api_key=key),
        is_404("upload_not_found"),
    ),
    ("POST", "/v1/analyses"): (
        lambda o, key: call("POST", "/v1/analyses", {"upload_id": o.upload_id}, api_key=key),
        is_404("upload_not_found"),
    ),
    ("GET", "/v1/designs"): (lambda o, key: call("GET", "/v1/designs", api_key=key), lists_nothing_of_a),
    ("GET", "/v1/designs/{design_id}"): (
        lambda o, key: call("GET", f"/v1/designs/{o.design_id}", api_key=key),
        is_404("design_not_found"),
    ),
    ("POST", "/v1/designs/{design_id}/cancel"): (
        lambda o, key: call("POST", f"/v1/designs/{o.design_id}/cancel", api_key=key),
        is_404("design_not_found"),
    ),
    ("POST", "/v1/batches"): (
        lambda o, key: call(
            "POST", "/v1/batches", {"defaults": brief(o.upload_id), "designs": [{}]}, api_key=key
        ),
        is_404("upload_not_found"),
    ),
    ("GET", "/v1/batches/{batch_id}"): (
        lambda o, key: call("GET", f"/v1/batches/{o.batch_id}", api_key=key),
        is_404("batch_not_found"),
    ),
    ("GET", "/v1/usage"): (lambda o, key: call("GET", "/v1/usage", api_key=key), own_usage_only),
    ("POST", "/v1/webhook-endpoints"): (
        lambda o, key: call("POST", "/v1/webhook-endpoints", {"url": HOOK}, api_key=key),
        created_own_endpoint,
    ),
    ("GET", "/v1/webhook-endpoints"): (
        lambda o, key: call("GET", "/v1/webhook-endpoints", api_key=key),
        lists_none_of_as_endpoints,
    ),
    ("GET", "/v1/webhook-endpoints/{endpoint_id}"): (
        lambda o, key: call("GET", f"/v1/webhook-endpoints/{o.endpoint_id}", api_key=key),
        is_404("webhook_endpoint_not_found"),
    ),
    ("PATCH", "/v1/webhook-endpoints/{endpoint_id}"): (
        lambda o, key: call(
            "PATCH", f"/v1/webhook-endpoints/{o.endpoint_id}", {"description": "mine now"}, api_key=key
        ),
        is_404("webhook_endpoint_not_found"),
    ),
    ("DELETE", "/v1/webhook-endpoints/{endpoint_id}"): (
        lambda o, key: call("DELETE", f"/v1/webhook-endpoints/{o.endpoint_id}", api_key=key),
        is_404("webhook_endpoint_not_found"),
    ),
    ("POST", "/v1/webhook-endpoints/{endpoint_id}/rotate-secret"): (
        lambda o, key: call("POST", f"/v1/webhook-endpoints/{o.endpoint_id}/rotate-secret", api_key=key),
        is_404("webhook_endpoint_not_found"),
    ),
    ("POST", "/v1/webhook-endpoints/{endpoint_id}/test"): (
        lambda o, key: call("POST", f"/v1/webhook-endpoints/{o.endpoint_id}/test", api_key=key),
        is_404("webhook_endpoint_not_found"),
    ),
    ("GET", "/v1/webhook-endpoints/{endpoint_id}/deliveries"): (
        lambda o, key: call("GET", f"/v1/webhook-endpoints/{o.endpoint_id}/deliveries", api_key=key),
        is_404("webhook_endpoint_not_found"),
    ),
    ("GET", "/v1/webhook-endpoints/{endpoint_id}/deliveries/{message_id}"): (
        lambda o, key: call(
            "GET", f"/v1/webhook-endpoints/{o.endpoint_id}/deliveries/{o.message_id}", api_key=key
        ),
        is_404("webhook_endpoint_not_found"),
    ),
    ("POST", "/v1/webhook-endpoints/{endpoint_id}/deliveries/{message_id}/replay"): (
        lambda o, key: call(
            "POST", f"/v1/webhook-endpoints/{o.endpoint_id}/deliveries/{o.message_id}/replay", api_key=key
        ),
        is_404("webhook_endpoint_not_found"),
    ),
    ("POST", "/v1/webhook-endpoints/{endpoint_id}/replay"): (
        lambda o, key: call(
            "POST",
            f"/v1/webhook-endpoints/{o.endpoint_id}/replay",
            {"since": "2026-01-01T00:00:00Z"},
            api_key=key,
        ),
        is_404("webhook_endpoint_not_found"),
    ),
}


def routes() -> set[tuple[str, str]]:
    """Every operation of the app, from its OpenAPI document (included routers and all)."""
    paths = create_app(bootstrap.api_services()).openapi()["paths"]
    return {(method.upper(), path) for path, item in paths.items() for method in item}


def test_the_matrix_names_every_route() -> None:
    missing = routes() - PUBLIC - MATRIX.keys()
    assert not missing, f"add these routes to the isolation matrix: {sorted(missing)}"


def test_every_route_but_the_public_ones_refuses_a_missing_key(aws: dict[str, Any]) -> None:
    for method, path in sorted(routes() - PUBLIC):
        concrete = re.sub(r"\{[a-z_]+\}", "x", path)
        answer = call(method, concrete, {} if method in {"POST", "PATCH"} else None, api_key=None)
        assert (answer.status, answer.code) == (401, "unauthenticated"), f"{method} {path}"


def test_another_tenants_things_answer_404(aws: dict[str, Any]) -> None:
    owned = Owned()
    other = new_tenant("tnt_b")
    for (method, path), (probe, check) in MATRIX.items():
        try:
            check(probe(owned, other), owned)
        except AssertionError as error:
            raise AssertionError(f"{method} {path}: {error}") from error
    # And the owner still sees all of it, unchanged (nothing was canceled, edited or deleted).
    design = call("GET", f"/v1/designs/{owned.design_id}")
    assert (design.status, design.body["status"]) == (200, "queued")
    assert call("GET", f"/v1/batches/{owned.batch_id}").status == 200
    assert len(call("GET", "/v1/designs").body["data"]) == 3
    endpoint = call("GET", f"/v1/webhook-endpoints/{owned.endpoint_id}")
    assert (endpoint.status, endpoint.body["description"]) == (200, "")
