"""Issue 13 item 5: in the cloud the API answers only requests that came through CloudFront (and so
through its WAF rate limit); a direct call to the execute-api URL is refused."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from shared import bootstrap
from shared.api.app import create_app
from shared.api.edge import EDGE_HEADER
from shared.settings import get_settings
from tests.conftest import TEST_API_KEY

EDGE_SECRET = "edge-secret-0123456789abcdef"


def get(app: Any, path: str, headers: dict[str, str]) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://abc.execute-api.test") as client:
            return await client.get(path, headers=headers)

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(go())
    finally:
        loop.close()


@pytest.fixture
def edge_app(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name=f"edge-{id(monkeypatch)}", SecretString=EDGE_SECRET
    )["ARN"]
    monkeypatch.setenv("ROOMCRAFT_EDGE_SECRET_ARN", arn)
    get_settings.cache_clear()
    yield create_app(bootstrap.api_services())
    monkeypatch.delenv("ROOMCRAFT_EDGE_SECRET_ARN")
    get_settings.cache_clear()


AUTH = {"Authorization": f"Bearer {TEST_API_KEY}"}


def test_a_request_through_cloudfront_is_served(edge_app: Any) -> None:
    assert get(edge_app, "/v1/health", {EDGE_HEADER: EDGE_SECRET}).status_code == 200
    assert get(edge_app, "/v1/designs", {EDGE_HEADER: EDGE_SECRET, **AUTH}).status_code == 200


@pytest.mark.parametrize("presented", [None, "", "guess", EDGE_SECRET + "x", EDGE_SECRET[:-1]])
def test_a_direct_call_to_execute_api_is_refused(edge_app: Any, presented: str | None) -> None:
    headers = {**AUTH, **({EDGE_HEADER: presented} if presented is not None else {})}
    for path in ("/v1/health", "/v1/designs"):
        answer = get(edge_app, path, headers)
        assert answer.status_code == 403
        error = answer.json()["error"]
        assert error["code"] == "direct_access_forbidden"
        assert error["request_id"] == answer.headers["x-request-id"]


def test_an_unreadable_secret_fails_closed(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "ROOMCRAFT_EDGE_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf"
    )
    get_settings.cache_clear()
    try:
        answer = get(create_app(bootstrap.api_services()), "/v1/health", {EDGE_HEADER: EDGE_SECRET})
    finally:
        monkeypatch.delenv("ROOMCRAFT_EDGE_SECRET_ARN")
        get_settings.cache_clear()
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "edge_check_unavailable"


def test_without_an_edge_nothing_is_checked(aws: dict[str, str]) -> None:
    """The local cloud and tests have no CloudFront in front: no secret configured, no check."""
    get_settings.cache_clear()
    assert get(create_app(bootstrap.api_services()), "/v1/health", {}).status_code == 200
