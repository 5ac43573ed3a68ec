"""The OpenAPI document: bearer security, the auth and limit responses, batches and usage."""

from __future__ import annotations

from typing import Any

import pytest

from shared import bootstrap
from shared.api.app import create_app

PUBLIC = {("get", "/v1/health"), ("get", "/v1/styles")}
# Authenticated by Replicate's webhook signature, not by a tenant's key; retries are deduplicated
# by the design's own state, not by an Idempotency-Key.
SIGNED = {("post", "/v1/callbacks/replicate")}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    document: dict[str, Any] = create_app(bootstrap.api_services()).openapi()
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


# --- issue 13, item 17: the document promises no more than the API accepts --------------
def _component(schema: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = schema["components"]["schemas"][name]
    return found


def test_the_idempotency_key_pattern_is_the_one_the_api_checks(schema: dict[str, Any]) -> None:
    import re

    from shared.api.idempotency import _KEY_PATTERN

    for method, path, operation in operations(schema):
        if method != "post" or (method, path) in SIGNED:
            continue
        (header,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert header["schema"]["pattern"] == _KEY_PATTERN.pattern, f"POST {path}"
        assert (header["schema"]["minLength"], header["schema"]["maxLength"]) == (1, 255)
    documented = re.compile(_KEY_PATTERN.pattern)
    for key, valid in [("order-42", True), ("a b", False), ("é", False), ("", False), ("x" * 256, False)]:
        assert bool(documented.fullmatch(key)) is valid
        assert bool(_KEY_PATTERN.fullmatch(key)) is valid


def test_a_design_names_exactly_one_source_in_the_document(schema: dict[str, Any]) -> None:
    import jsonschema

    create = _component(schema, "CreateDesign")
    only_the_source_rule = {"oneOf": create["oneOf"]}
    brief = {"room_type": "bedroom", "style": "japandi"}
    accepted = [
        {"upload_id": "upl_1"},
        {"image_url": "https://x.test/a.jpg"},
        {"upload_id": "upl_1", "image_url": None},
    ]
    refused = [{}, {"upload_id": "upl_1", "image_url": "https://x.test/a.jpg"}, {"upload_id": None}]
    for source in accepted:
        jsonschema.validate(brief | source, only_the_source_rule)
    for source in refused:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(brief | source, only_the_source_rule)


def test_urls_and_ids_are_never_empty_in_the_document(schema: dict[str, Any]) -> None:
    def min_length(component: str, field: str) -> int:
        prop = _component(schema, component)["properties"][field]
        lengths = [
            option.get("minLength") for option in prop.get("anyOf", [prop]) if option.get("type") == "string"
        ]
        assert lengths, (component, field)
        return int(lengths[0])

    for component, field in [
        ("CreateDesign", "upload_id"),
        ("CreateDesign", "image_url"),
        ("CreateDesign", "webhook_url"),
        ("BatchDesign", "image_url"),
        ("BatchDesign", "webhook_url"),
        ("CreateEndpoint", "url"),
        ("UpdateEndpoint", "url"),
    ]:
        assert min_length(component, field) == 1, (component, field)


def test_batch_items_need_what_the_defaults_leave_out_in_the_document(schema: dict[str, Any]) -> None:
    import jsonschema

    rules = {"allOf": _component(schema, "CreateBatch")["allOf"]}
    full = {"upload_id": "upl_1", "room_type": "bedroom", "style": "japandi"}
    valid = [
        {"designs": [full]},
        {"defaults": full, "designs": [{}]},  # an item may repeat the defaults
        {"defaults": {"upload_id": "upl_1", "room_type": "bedroom"}, "designs": [{"style": "coastal"}]},
        {
            "defaults": {"room_type": "bedroom", "style": "a"},
            "designs": [{"image_url": "https://x.test/a.jpg"}],
        },
    ]
    invalid = [
        {"designs": [{}]},
        {"defaults": {"upload_id": "upl_1", "room_type": "bedroom"}, "designs": [{"style": "a"}, {}]},
        {"defaults": {"room_type": "bedroom", "style": "a"}, "designs": [{}]},
        {"designs": [{"room_type": "bedroom", "style": "a"}]},
    ]
    for body in valid:
        jsonschema.validate(body, rules)
    for body in invalid:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(body, rules)


def test_the_callback_documents_its_404(schema: dict[str, Any]) -> None:
    assert "404" in schema["paths"]["/v1/callbacks/replicate"]["post"]["responses"]
