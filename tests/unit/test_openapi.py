"""The OpenAPI document: bearer security, the auth and limit responses, batches and usage."""

from __future__ import annotations

from typing import Any

import pytest

from shared.api.app import create_app

PUBLIC = {("get", "/v1/health"), ("get", "/v1/styles")}
# Authenticated by Replicate's webhook signature, not by a tenant's key; retries are deduplicated
# by the design's own state, not by an Idempotency-Key.
SIGNED = {("post", "/v1/callbacks/replicate")}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    document: dict[str, Any] = create_app().openapi()
    return document


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_the_bearer_scheme_is_declared(schema: dict[str, Any]) -> None:
    scheme = schema["components"]["securitySchemes"]["ApiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert scheme["bearerFormat"].startswith("rc_")


def test_every_operation_but_health_and_styles_needs_a_key(schema: dict[str, Any]) -> None:
    for method, path, operation in operations(schema):
        secured = operation.get("security") == [{"ApiKey": []}]
        assert secured == ((method, path) not in PUBLIC | SIGNED), f"{method.upper()} {path}"


def test_secured_operations_document_401_403_404_429(schema: dict[str, Any]) -> None:
    for method, path, operation in operations(schema):
        if (method, path) in PUBLIC | SIGNED:
            continue
        responses = operation["responses"]
        for status in ("401", "403", "404", "429"):
            assert status in responses, f"{method.upper()} {path} lacks {status}"
            ref = responses[status]["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/ErrorResponse"
        assert "WWW-Authenticate" in responses["401"]["headers"]
        assert "Retry-After" in responses["429"]["headers"]
        assert "rate_limited" in responses["429"]["description"]


def test_posts_document_the_idempotency_key_header(schema: dict[str, Any]) -> None:
    for method, path, operation in operations(schema):
        if method != "post" or (method, path) in SIGNED:
            continue
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert "Idempotency-Key" in names, f"POST {path}"


def test_batch_and_usage_endpoints_are_documented(schema: dict[str, Any]) -> None:
    create = schema["paths"]["/v1/batches"]["post"]
    assert "202" in create["responses"]
    body = create["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    designs = schema["components"]["schemas"][body]["properties"]["designs"]
    assert designs["type"] == "array"
    get = schema["paths"]["/v1/batches/{batch_id}"]["get"]
    view = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][view]["properties"]
    assert {"status", "counts", "progress", "eta", "designs"} <= set(properties)
    usage = schema["paths"]["/v1/usage"]["get"]["responses"]["200"]
    assert usage["content"]["application/json"]["schema"]["$ref"].endswith("/TenantUsage")


def test_the_signed_callback_documents_a_bad_signature(schema: dict[str, Any]) -> None:
    for method, path in SIGNED:
        responses = schema["paths"][path][method]["responses"]
        assert {"401", "503"} <= set(responses), f"{method.upper()} {path}"
