"""Calling the api Lambda with HTTP API events, also from several threads at once."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import boto3

from functions.api.handler import handler
from shared import bootstrap
from shared.settings import get_settings
from tests.conftest import room_photo
from tests.handlers.events import http_api_event, lambda_context


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def code(self) -> str | None:
        return self.body.get("error", {}).get("code") if isinstance(self.body, dict) else None


def call(method: str, path: str, body: Any = None, **options: Any) -> Answer:
    response = handler(http_api_event(method, path, body, **options), lambda_context("roomcraft-api"))
    return Answer(
        response["statusCode"],
        {k.lower(): v for k, v in response["headers"].items()},
        json.loads(response["body"]) if response["body"] else None,
    )


def call_at_once(requests: list[tuple[str, str, Any, dict[str, Any]]]) -> list[Answer]:
    """Each request on its own thread and event loop, as concurrent Lambda invocations would be."""

    def one(request: tuple[str, str, Any, dict[str, Any]]) -> Answer:
        asyncio.set_event_loop(asyncio.new_event_loop())
        try:
            method, path, body, options = request
            return call(method, path, body, **options)
        finally:
            asyncio.get_event_loop().close()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(one, requests))


def new_tenant(tenant_id: str, **limits: int) -> str:
    """A tenant with its own key; returns the key."""
    from shared.domain.tenants import Limits

    admin = bootstrap.tenant_admin()
    admin.create_tenant(tenant_id.removeprefix("tnt_").title(), tenant_id=tenant_id, limits=Limits(**limits))
    return admin.create_key(tenant_id)[1]


def uploaded(api_key: str | None = None, **options: Any) -> str:
    """An upload slot with a photo in it, for the key's tenant."""
    kwargs = {"api_key": api_key} if api_key else {}
    slot = call("POST", "/v1/uploads", {"content_type": "image/jpeg"}, **kwargs, **options).body
    principal = bootstrap.authenticator().authenticate(api_key) if api_key else None
    tenant = principal.tenant_id if principal else get_settings().default_tenant
    key = f"uploads/{tenant}/{slot['upload_id']}"
    boto3.client("s3").put_object(Bucket=get_settings().uploads_bucket, Key=key, Body=room_photo())
    return str(slot["upload_id"])
