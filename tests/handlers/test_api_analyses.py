"""``POST /v1/analyses`` through the api Lambda handler, against moto: no quota, tenant-scoped."""

from __future__ import annotations

import io
from typing import Any

import boto3
from PIL import Image, ImageDraw

from shared import bootstrap
from shared.settings import get_settings
from tests.handlers.api import call, new_tenant, uploaded


def usage() -> int:
    tenant = bootstrap.tenant_admin().get_tenant(get_settings().default_tenant)
    return bootstrap.metering().usage(tenant).designs.used


def put_upload(upload_id: str, body: bytes, tenant: str = "tnt_default") -> None:
    boto3.client("s3").put_object(
        Bucket=get_settings().uploads_bucket, Key=f"uploads/{tenant}/{upload_id}", Body=body
    )


def test_an_uploaded_room_is_analysed_offline_without_spending_quota(aws: dict[str, Any]) -> None:
    upload_id = uploaded()
    answer = call("POST", "/v1/analyses", {"upload_id": upload_id})
    assert answer.status == 200, answer.body
    assert answer.body["status"] == "analysed"
    assert answer.body["source"] == "heuristic"
    assert answer.body["is_room"] is True
    assert answer.body["confidence"] <= 0.3
    assert answer.body["stageable"] is True
    assert answer.body["not_a_room_confidence"] == 0.8
    assert usage() == 0


def test_a_flat_graphic_is_not_stageable(aws: dict[str, Any]) -> None:
    upload_id = uploaded()
    image = Image.new("RGB", (800, 600), (30, 80, 200))
    ImageDraw.Draw(image).ellipse((300, 200, 500, 400), fill=(250, 220, 40))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    put_upload(upload_id, buffer.getvalue())
    answer = call("POST", "/v1/analyses", {"upload_id": upload_id})
    assert answer.status == 200
    assert (answer.body["is_room"], answer.body["stageable"]) == (False, False)


def test_another_tenants_upload_is_not_found(aws: dict[str, Any]) -> None:
    other_key = new_tenant("tnt_other")
    upload_id = uploaded(other_key)
    answer = call("POST", "/v1/analyses", {"upload_id": upload_id})
    assert answer.status == 404
    assert answer.code == "upload_not_found"
    assert call("POST", "/v1/analyses", {"upload_id": upload_id}, api_key=other_key).status == 200


def test_an_empty_upload_slot_is_a_409(aws: dict[str, Any]) -> None:
    slot = call("POST", "/v1/uploads", {"content_type": "image/jpeg"}).body
    answer = call("POST", "/v1/analyses", {"upload_id": slot["upload_id"]})
    assert (answer.status, answer.code) == (409, "upload_incomplete")


def test_bytes_that_are_not_an_image_are_a_415(aws: dict[str, Any]) -> None:
    upload_id = uploaded()
    put_upload(upload_id, b"%PDF-1.7 not a photo")
    answer = call("POST", "/v1/analyses", {"upload_id": upload_id})
    assert answer.status == 415
    assert answer.code == "image_unsupported_type"
    assert answer.body["error"]["request_id"]


def test_a_body_without_upload_id_is_a_422(aws: dict[str, Any]) -> None:
    answer = call("POST", "/v1/analyses", {"image": "x"})
    assert (answer.status, answer.code) == (422, "validation_failed")


def test_a_design_view_carries_analysis_and_quality(aws: dict[str, Any]) -> None:
    upload_id = uploaded()
    created = call(
        "POST", "/v1/designs", {"upload_id": upload_id, "room_type": "auto", "style": "japandi", "seed": 3}
    )
    assert created.status == 202, created.body
    assert created.body["brief"]["room_type"] == "auto"
    assert created.body["structure_ok"] is None
    assert created.body["regenerations"] == 0
