"""Replicate's webhook through the API Lambda entry point, as API Gateway (HTTP API) delivers it."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from functions.api.handler import handler
from shared import bootstrap
from shared.providers.replicate import forget_webhook_secret
from tests.fakes.replicate_server import FakeReplicate
from tests.handlers.events import http_api_event, lambda_context

FAKE = FakeReplicate()


def webhook_event(body: bytes, *, secret: str | None = None, base64_body: bool = False) -> dict[str, Any]:
    stamp = str(int(time.time()))
    event = http_api_event("POST", "/v1/callbacks/replicate", query="tenant=tnt_default&design=dsn_unknown")
    event["headers"].update(
        {
            "webhook-id": "msg_2a",
            "webhook-timestamp": stamp,
            "webhook-signature": FAKE.sign("msg_2a", stamp, body, secret),
        }
    )
    event["queryStringParameters"] = {"tenant": "tnt_default", "design": "dsn_unknown"}
    event["body"] = base64.b64encode(body).decode() if base64_body else body.decode()
    event["isBase64Encoded"] = base64_body
    return event


@pytest.fixture
def api(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLICATE_WEBHOOK_SECRET", FAKE.webhook_secret)
    bootstrap.reset()
    forget_webhook_secret()


BODY = json.dumps({"id": "p1", "status": "succeeded", "output": "https://replicate.delivery/x.png"}).encode()


@pytest.mark.parametrize("base64_body", [False, True])
def test_a_signed_webhook_is_accepted(api: None, base64_body: bool) -> None:
    response = handler(webhook_event(BODY, base64_body=base64_body), lambda_context("roomcraft-api"))
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"result": "missing"}


def test_a_webhook_signed_with_another_secret_is_401(api: None) -> None:
    event = webhook_event(BODY, secret=FakeReplicate().webhook_secret)
    response = handler(event, lambda_context("roomcraft-api"))
    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"]["code"] == "webhook_signature_invalid"


def test_a_signed_body_that_is_not_a_prediction_is_422(api: None) -> None:
    response = handler(webhook_event(b'{"hello": "world"}'), lambda_context("roomcraft-api"))
    assert response["statusCode"] == 422
    assert json.loads(response["body"])["error"]["code"] == "validation_failed"
