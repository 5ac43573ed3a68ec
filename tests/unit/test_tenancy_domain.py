"""API keys, tenant ids, quota windows, refundable failures: the pure rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.domain.errors import InvalidApiKey, InvalidTenantId
from shared.domain.quotas import design_window, is_refundable, refundable_codes, request_window
from shared.domain.tenants import check_tenant_id, hash_api_key, key_id_of, key_matches, new_api_key


def test_a_new_key_names_its_id_and_is_stored_only_as_a_hash() -> None:
    new = new_api_key()
    assert new.token.startswith("rc_")
    assert new.key_id == f"key_{new.token[3:29]}"
    assert key_id_of(new.token) == new.key_id
    stored = hash_api_key(new.token)
    assert len(stored) == 64
    assert new.token not in stored
    assert key_matches(new.token, stored)
    assert not key_matches(new.token[:-1] + ("A" if new.token[-1] != "A" else "B"), stored)


def test_keys_are_unique() -> None:
    assert len({new_api_key().token for _ in range(200)}) == 200


@pytest.mark.parametrize(
    "token",
    [
        "",
        "rc_",
        "sk_live_abc",
        "rc_01JD3F8Y3W2Q9Z5T6V7X8Y9Z0A",  # no secret
        "rc_01JD3F8Y3W2Q9Z5T6V7X8Y9Z0A_short",  # secret too short
        "rc_01jd3f8y3w2q9z5t6v7x8y9z0a_" + "x" * 43,  # lowercase id
        "rc_01JD3F8Y3W2Q9Z5T6V7X8Y9Z0A_" + "x" * 42 + "!",  # not url-safe
        "rc_01JD3F8Y3W2Q9Z5T6V7X8Y9Z0A_" + "x" * 200,  # too long
    ],
)
def test_malformed_keys_are_refused_before_any_lookup(token: str) -> None:
    with pytest.raises(InvalidApiKey):
        key_id_of(token)


@pytest.mark.parametrize("tenant_id", ["tnt_default", "tnt_acme-homes", "tnt_01JD3F8Y3W2Q9Z5T6V7X8Y9Z0A"])
def test_valid_tenant_ids(tenant_id: str) -> None:
    assert check_tenant_id(tenant_id) == tenant_id


@pytest.mark.parametrize("tenant_id", ["acme", "tnt_", "tnt_a/b", "tnt_a b", "tnt_" + "a" * 65, "global"])
def test_tenant_ids_that_could_not_be_storage_key_segments_are_refused(tenant_id: str) -> None:
    with pytest.raises(InvalidTenantId):
        check_tenant_id(tenant_id)


def test_design_window_is_the_utc_day() -> None:
    window = design_window(datetime(2026, 11, 23, 23, 59, 30, tzinfo=UTC))
    assert window.period == "designs#2026-11-23"
    assert window.end == datetime(2026, 11, 24, tzinfo=UTC)
    assert window.seconds_left(datetime(2026, 11, 23, 23, 59, 30, tzinfo=UTC)) == 30
    assert window.seconds_left(datetime(2026, 11, 24, 0, 0, 1, tzinfo=UTC)) == 1  # never 0 or negative


def test_request_window_is_the_utc_minute() -> None:
    moment = datetime(2026, 11, 23, 12, 34, 50, 500000, tzinfo=UTC)
    window = request_window(moment)
    assert window.period == "requests#2026-11-23T12:34"
    assert window.seconds_left(moment) == 10


@pytest.mark.parametrize(
    "code",
    ["internal_error", "provider_unavailable", "provider_not_configured", "design_busy"],
)
def test_failures_of_ours_give_the_unit_back(code: str) -> None:
    assert is_refundable(code)


@pytest.mark.parametrize(
    "code",
    ["image_corrupt", "image_too_large", "image_too_many_pixels", "source_fetch_failed", "unknown_style"],
)
def test_failures_of_the_input_do_not(code: str) -> None:
    assert not is_refundable(code)


@pytest.mark.parametrize(
    "code",
    ["provider_error", "provider_failed", "provider_timeout", "provider_output_invalid", "provider_canceled"],
)
def test_provider_failures_after_the_gpu_ran_are_not_refunded(code: str) -> None:
    assert not is_refundable(code)


def test_new_provider_errors_are_not_refunded_unless_they_say_the_gpu_never_ran() -> None:
    from shared.domain.errors import ProviderError

    class ProviderTimedOut(ProviderError):
        code = "provider_timed_out_for_this_test"

    class ProviderQuotaRefused(ProviderError):
        code = "provider_refused_for_this_test"
        gpu_may_have_run = False

    assert "provider_timed_out_for_this_test" not in refundable_codes()
    assert "provider_refused_for_this_test" in refundable_codes()


def test_storage_keys_carry_the_tenant_and_an_unguessable_token() -> None:
    from shared.domain.design import Brief, Design, SourceImage
    from shared.domain.ids import new_secret_token
    from shared.services.generation import output_key

    tokens = {new_secret_token() for _ in range(100)}
    assert len(tokens) == 100
    assert min(len(t) for t in tokens) >= 22  # 128 random bits
    moment = datetime(2026, 11, 23, tzinfo=UTC)
    design = Design(
        design_id="dsn_1",
        tenant_id="tnt_a",
        source=SourceImage(upload_id="u"),
        brief=Brief(room_type="bedroom", style="japandi", seed=1),
        provider="preview",
        storage_token=tokens.pop(),
        created_at=moment,
        updated_at=moment,
    )
    assert output_key(design, 0, "full", "jpg").startswith(f"designs/tnt_a/dsn_1/{design.storage_token}/")
