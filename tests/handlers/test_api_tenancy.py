"""The API's keys, limits, idempotency and batches, through the api Lambda handler (moto)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from shared import bootstrap
from shared.domain.tenants import TenantStatus
from shared.services.designs import DesignService
from tests.conftest import TEST_API_KEY
from tests.handlers.api import call, call_at_once, new_tenant, uploaded


def brief(upload_id: str, style: str = "japandi") -> dict[str, Any]:
    return {"upload_id": upload_id, "room_type": "bedroom", "style": style}


# --- authentication --------------------------------------------------------------------
def test_no_key_is_401_with_a_bearer_challenge(aws: dict[str, Any]) -> None:
    answer = call("GET", "/v1/designs", api_key=None)
    assert (answer.status, answer.code) == (401, "unauthenticated")
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.body["error"]["request_id"]


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        ("Basic dXNlcjpwYXNz", "unauthenticated"),
        ("Bearer", "unauthenticated"),
        ("Bearer not-a-key", "invalid_api_key"),
        ("Bearer rc_01JD3F8Y3W2Q9Z5T6V7X8Y9Z0A_" + "x" * 43, "invalid_api_key"),
        (f"Bearer {TEST_API_KEY[:-1]}X", "invalid_api_key"),
    ],
)
def test_bad_credentials_are_401(aws: dict[str, Any], authorization: str, code: str) -> None:
    answer = call("GET", "/v1/designs", api_key=None, headers={"Authorization": authorization})
    assert (answer.status, answer.code) == (401, code)


def test_health_and_styles_need_no_key(aws: dict[str, Any]) -> None:
    assert call("GET", "/v1/health", api_key=None).status == 200
    assert call("GET", "/v1/styles", api_key=None).status == 200


def test_a_revoked_key_is_refused_from_the_next_request(aws: dict[str, Any]) -> None:
    key = new_tenant("tnt_acme")
    assert call("GET", "/v1/designs", api_key=key).status == 200
    key_id = bootstrap.tenant_admin().list_keys("tnt_acme")[0].key_id
    bootstrap.tenant_admin().revoke_key(key_id)
    answer = call("GET", "/v1/designs", api_key=key)
    assert (answer.status, answer.code) == (401, "api_key_revoked")


def test_a_disabled_tenant_is_403(aws: dict[str, Any]) -> None:
    key = new_tenant("tnt_acme")
    bootstrap.tenant_admin().update_tenant("tnt_acme", status=TenantStatus.DISABLED)
    answer = call("GET", "/v1/designs", api_key=key)
    assert (answer.status, answer.code) == (403, "tenant_disabled")


# --- limits ----------------------------------------------------------------------------
@pytest.fixture
def mid_minute(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Metering on a stopped clock, 30 s into a minute: a slow test cannot straddle two windows."""
    from shared.adapters.dynamodb_tenancy import TenantRepository, UsageCounterTable
    from shared.services.metering import Metering
    from shared.settings import get_settings

    settings = get_settings()
    now = datetime.now(UTC).replace(second=30)
    frozen = Metering(
        settings=settings,
        counters=UsageCounterTable(settings),
        tenants=TenantRepository(settings),
        clock=lambda: now,
    )
    monkeypatch.setattr(bootstrap, "metering", lambda: frozen)


def test_past_the_request_rate_is_429_with_retry_after(mid_minute: None) -> None:
    key = new_tenant("tnt_acme", requests_per_minute=3)
    assert [call("GET", "/v1/designs", api_key=key).status for _ in range(3)] == [200, 200, 200]
    answer = call("GET", "/v1/designs", api_key=key)
    assert (answer.status, answer.code) == (429, "rate_limited")
    assert answer.headers["retry-after"] == "30"
    assert answer.body["error"]["details"]["limit"] == 3


def test_past_the_daily_quota_is_429_and_usage_says_so(aws: dict[str, Any]) -> None:
    key = new_tenant("tnt_acme", daily_designs=1)
    upload_id = uploaded(key)
    assert call("POST", "/v1/designs", brief(upload_id), api_key=key).status == 202
    answer = call("POST", "/v1/designs", brief(upload_id), api_key=key)
    assert (answer.status, answer.code) == (429, "daily_quota_exceeded")
    assert int(answer.headers["retry-after"]) == answer.body["error"]["details"]["retry_after"] > 0
    usage = call("GET", "/v1/usage", api_key=key).body
    assert usage["designs"] | {"period_start": None, "resets_at": None} == {
        "used": 1,
        "limit": 1,
        "remaining": 0,
        "period_start": None,
        "resets_at": None,
    }
    assert usage["tenant_id"] == "tnt_acme"


def test_the_global_cap_is_429_with_its_own_code(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROOMCRAFT_GLOBAL_DAILY_DESIGN_CAP", "1")
    bootstrap.reset()
    upload_id = uploaded()
    assert call("POST", "/v1/designs", brief(upload_id)).status == 202
    answer = call("POST", "/v1/designs", brief(upload_id))
    assert (answer.status, answer.code) == (429, "global_daily_cap_reached")
    assert "retry-after" in answer.headers


def test_parallel_requests_start_exactly_the_quota(aws: dict[str, Any]) -> None:
    key = new_tenant("tnt_acme", daily_designs=5)
    upload_id = uploaded(key)
    answers = call_at_once([("POST", "/v1/designs", brief(upload_id), {"api_key": key})] * 12)
    assert sorted(a.status for a in answers) == [202] * 5 + [429] * 7
    assert {a.code for a in answers if a.status == 429} == {"daily_quota_exceeded"}
    assert len(call("GET", "/v1/designs", api_key=key).body["data"]) == 5
    assert call("GET", "/v1/usage", api_key=key).body["designs"]["used"] == 5


# --- idempotency -----------------------------------------------------------------------
def test_a_retried_post_returns_the_first_response(aws: dict[str, Any]) -> None:
    upload_id = uploaded()
    first = call("POST", "/v1/designs", brief(upload_id), headers={"Idempotency-Key": "order-42"})
    again = call("POST", "/v1/designs", brief(upload_id), headers={"Idempotency-Key": "order-42"})
    assert (first.status, again.status) == (202, 202)
    assert again.body == first.body
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert len(call("GET", "/v1/designs").body["data"]) == 1
    assert call("GET", "/v1/usage").body["designs"]["used"] == 1


def test_the_same_key_with_another_body_is_422(aws: dict[str, Any]) -> None:
    upload_id = uploaded()
    call("POST", "/v1/designs", brief(upload_id), headers={"Idempotency-Key": "k"})
    answer = call("POST", "/v1/designs", brief(upload_id, "coastal"), headers={"Idempotency-Key": "k"})
    assert (answer.status, answer.code) == (422, "idempotency_key_reused")


def test_keys_are_scoped_to_the_tenant_and_the_path(aws: dict[str, Any]) -> None:
    other = new_tenant("tnt_acme")
    mine, theirs = uploaded(), uploaded(other)
    a = call("POST", "/v1/designs", brief(mine), headers={"Idempotency-Key": "same"})
    b = call("POST", "/v1/designs", brief(theirs), headers={"Idempotency-Key": "same"}, api_key=other)
    assert (a.status, b.status) == (202, 202)
    assert a.body["id"] != b.body["id"]
    upload = call("POST", "/v1/uploads", {"content_type": "image/png"}, headers={"Idempotency-Key": "same"})
    assert upload.status == 201


def test_a_failed_request_is_not_kept_and_may_be_retried(aws: dict[str, Any]) -> None:
    slot = call("POST", "/v1/uploads", {"content_type": "image/jpeg"}).body
    body = brief(slot["upload_id"])
    early = call("POST", "/v1/designs", body, headers={"Idempotency-Key": "retry-me"})
    assert (early.status, early.code) == (409, "upload_incomplete")
    import boto3

    from shared.settings import get_settings
    from tests.conftest import room_photo

    boto3.client("s3").put_object(
        Bucket=get_settings().uploads_bucket,
        Key=f"uploads/tnt_default/{slot['upload_id']}",
        Body=room_photo(),
    )
    later = call("POST", "/v1/designs", body, headers={"Idempotency-Key": "retry-me"})
    assert later.status == 202


def test_a_duplicate_while_the_first_still_runs_is_409(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    upload_id = uploaded()
    inside, release = threading.Event(), threading.Event()
    submit = DesignService.submit

    def slow_submit(self: DesignService, design: Any) -> None:
        inside.set()
        release.wait(timeout=30)
        submit(self, design)

    monkeypatch.setattr(DesignService, "submit", slow_submit)
    request = ("POST", "/v1/designs", brief(upload_id), {"headers": {"Idempotency-Key": "slow"}})
    results: list[Any] = []
    first = threading.Thread(target=lambda: results.extend(call_at_once([request])))
    first.start()
    assert inside.wait(timeout=30)
    duplicate = call_at_once([request])[0]
    release.set()
    first.join()
    assert (duplicate.status, duplicate.code) == (409, "idempotency_request_in_progress")
    assert duplicate.headers["retry-after"] == "1"
    assert results[0].status == 202


def test_an_unusable_idempotency_key_is_422(aws: dict[str, Any]) -> None:
    answer = call(
        "POST", "/v1/uploads", {"content_type": "image/jpeg"}, headers={"Idempotency-Key": "x" * 256}
    )
    assert (answer.status, answer.code) == (422, "idempotency_key_invalid")


def test_an_idempotency_key_without_an_api_key_is_still_401(aws: dict[str, Any]) -> None:
    answer = call(
        "POST", "/v1/uploads", {"content_type": "image/jpeg"}, api_key=None, headers={"Idempotency-Key": "k"}
    )
    assert (answer.status, answer.code) == (401, "unauthenticated")


# --- batches ---------------------------------------------------------------------------
def test_a_batch_of_one_photo_in_several_styles(aws: dict[str, Any]) -> None:
    upload_id = uploaded()
    body = {
        "defaults": {"upload_id": upload_id, "room_type": "living_room"},
        "designs": [{"style": s} for s in ("japandi", "coastal", "industrial", "scandinavian")],
    }
    created = call("POST", "/v1/batches", body, headers={"Idempotency-Key": "batch-1"})
    assert created.status == 202
    assert created.headers["location"] == f"/v1/batches/{created.body['id']}"
    assert (created.body["status"], created.body["total"], created.body["finished"]) == ("running", 4, 0)
    assert created.body["counts"]["queued"] == 4
    assert [d["brief"]["style"] for d in created.body["designs"]] == [
        "japandi",
        "coastal",
        "industrial",
        "scandinavian",
    ]
    assert {d["batch_id"] for d in created.body["designs"]} == {created.body["id"]}
    replay = call("POST", "/v1/batches", body, headers={"Idempotency-Key": "batch-1"})
    assert replay.body["id"] == created.body["id"]
    got = call("GET", created.headers["location"])
    assert got.status == 200
    assert got.body["eta"] is not None
    assert call("GET", "/v1/usage").body["designs"]["used"] == 4


def test_a_batch_of_several_photos(aws: dict[str, Any]) -> None:
    photos = [uploaded() for _ in range(3)]
    body = {
        "defaults": {"room_type": "bedroom", "style": "coastal"},
        "designs": [{"upload_id": p} for p in photos],
    }
    created = call("POST", "/v1/batches", body)
    assert created.status == 202
    assert [d["source"]["upload_id"] for d in created.body["designs"]] == photos


def test_a_batch_of_51_is_refused(aws: dict[str, Any]) -> None:
    body = {
        "defaults": {"upload_id": "u", "room_type": "bedroom", "style": "japandi"},
        "designs": [{"style": "coastal"}] * 51,
    }
    answer = call("POST", "/v1/batches", body)
    assert (answer.status, answer.code) == (422, "batch_too_large")
    assert answer.body["error"]["details"]["limit"] == 50


def test_a_bad_item_names_its_index_and_nothing_starts(aws: dict[str, Any]) -> None:
    upload_id = uploaded()
    body = {
        "defaults": {"upload_id": upload_id, "room_type": "bedroom"},
        "designs": [{"style": "japandi"}, {"style": "vaporwave"}],
    }
    answer = call("POST", "/v1/batches", body)
    assert (answer.status, answer.code) == (422, "unknown_style")
    assert answer.body["error"]["details"]["item"] == 1
    assert call("GET", "/v1/designs").body["data"] == []


def test_a_batch_past_the_quota_starts_nothing(aws: dict[str, Any]) -> None:
    key = new_tenant("tnt_acme", daily_designs=3)
    upload_id = uploaded(key)
    body = {
        "defaults": {"upload_id": upload_id, "room_type": "bedroom"},
        "designs": [{"style": "japandi"}] * 4,
    }
    answer = call("POST", "/v1/batches", body, api_key=key)
    assert (answer.status, answer.code) == (429, "daily_quota_exceeded")
    assert answer.body["error"]["details"]["requested"] == 4
    assert call("GET", "/v1/designs", api_key=key).body["data"] == []


def test_an_empty_batch_is_a_validation_error(aws: dict[str, Any]) -> None:
    answer = call("POST", "/v1/batches", {"designs": []})
    assert (answer.status, answer.code) == (422, "validation_failed")


def test_replays_count_against_the_request_rate(mid_minute: None) -> None:
    key = new_tenant("tnt_acme", requests_per_minute=3)
    headers = {"Idempotency-Key": "again"}
    answers = [
        call("POST", "/v1/uploads", {"content_type": "image/jpeg"}, api_key=key, headers=headers)
        for _ in range(4)
    ]
    assert [a.status for a in answers] == [201, 201, 201, 429]
    assert answers[1].headers["idempotent-replayed"] == "true"
    assert (answers[3].code, answers[3].headers["retry-after"]) == ("rate_limited", "30")
