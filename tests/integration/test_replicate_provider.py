"""The Replicate provider with the real ``replicate`` client against a local Replicate-speaking server."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from shared.domain.errors import (
    ProviderCanceled,
    ProviderFailed,
    ProviderNotConfigured,
    ProviderOutputInvalid,
    ProviderUnavailable,
)
from shared.providers.base import Completed, GenerationRequest, Pending
from shared.providers.replicate import (
    PINNED_VERSIONS,
    ReplicateProvider,
    forget_webhook_secret,
    webhook_secret,
)
from shared.providers.retry import RetryPolicy
from shared.settings import Settings
from tests.conftest import room_photo
from tests.fakes.replicate_server import FakeReplicate

DEFAULT_VERSION = PINNED_VERSIONS["adirik/interior-design"]


@pytest.fixture
def fake() -> Iterator[FakeReplicate]:
    with FakeReplicate(webhooks=False) as server:
        yield server


class Made:
    def __init__(self, provider: ReplicateProvider, sleeps: list[float]) -> None:
        self.provider = provider
        self.sleeps = sleeps


Make = Callable[..., Made]


@pytest.fixture
def make(fake: FakeReplicate, monkeypatch: pytest.MonkeyPatch) -> Make:
    monkeypatch.setenv("REPLICATE_API_TOKEN", fake.token)

    def build(**overrides: object) -> Made:
        values: dict[str, object] = {
            "replicate_base_url": fake.url,
            "replicate_output_hosts": ("127.0.0.1",),
            "allow_loopback_urls": True,
            "provider_request_timeout_seconds": 0.5,
            "output_download_timeout_seconds": 2.0,
            "replicate_wait_seconds": 1,
            "api_base_url": "https://api.example.com",
        }
        values.update(overrides)
        sleeps: list[float] = []
        retry = RetryPolicy(
            attempts=3,
            base_seconds=0.01,
            max_backoff_seconds=0.02,
            max_retry_after_seconds=5.0,
            budget_seconds=30.0,
            sleep=sleeps.append,
        )
        return Made(ReplicateProvider(Settings(**values), retry=retry), sleeps)  # type: ignore[arg-type]

    return build


def request(variants: int = 1) -> GenerationRequest:
    return GenerationRequest(
        design_id="dsn_01TEST",
        tenant_id="tnt_default",
        image=room_photo(320, 240),
        width=320,
        height=240,
        room_type="bedroom",
        style="japandi",
        palette=("#efe9e1",),
        prompt="a japandi bedroom",
        negative_prompt="clutter",
        variants=variants,
        seed=11,
    )


# --- the happy paths ----------------------------------------------------------------------------
def test_a_short_prediction_completes_inline_within_the_prefer_wait(fake: FakeReplicate, make: Make) -> None:
    outcome = make().provider.start(request())
    assert isinstance(outcome, Completed)
    assert len(outcome.images) == 1
    assert outcome.images[0].content_type == "image/png"
    assert outcome.images[0].metadata["prediction-id"] == fake.created_ids[0]
    assert outcome.provider_seconds == 4.2
    assert outcome.estimated_cost_usd == pytest.approx(4.2 * 0.000725)
    (create,) = fake.creates
    assert create.path == "/v1/predictions"
    assert create.headers["prefer"] == "wait=1"
    assert create.headers["cancel-after"] == "900s"
    assert create.headers["authorization"] == f"Bearer {fake.token}"
    assert create.body["version"] == DEFAULT_VERSION
    assert create.body["webhook"] == (
        "https://api.example.com/v1/callbacks/replicate?tenant=tnt_default&design=dsn_01TEST"
    )
    assert create.body["webhook_events_filter"] == ["completed"]
    assert create.body["input"]["seed"] == 11
    assert create.body["input"]["image"].startswith("data:image/jpeg;base64,/9j/")


def test_an_official_model_goes_to_the_models_route_and_keeps_prefer_wait(
    fake: FakeReplicate, make: Make
) -> None:
    made = make(
        replicate_model="black-forest-labs/flux-depth-dev",
        replicate_version="",
        replicate_seed_per_variant=False,
    )
    outcome = made.provider.start(request(variants=2))
    assert isinstance(outcome, Completed)
    assert len(outcome.images) == 2
    (create,) = fake.creates
    assert create.path == "/v1/models/black-forest-labs/flux-depth-dev/predictions"
    assert create.headers["prefer"] == "wait=1"
    assert create.headers["cancel-after"] == "900s"
    assert create.body["input"]["num_outputs"] == 2
    assert "version" not in create.body


def test_one_image_models_get_one_prediction_per_variant(fake: FakeReplicate, make: Make) -> None:
    outcome = make().provider.start(request(variants=3))
    assert isinstance(outcome, Completed)
    assert len(outcome.images) == 3
    assert [c.body["input"]["seed"] for c in fake.creates] == [11, 12, 13]
    # Only the last create holds the connection open; the earlier ones are read back once.
    assert ["prefer" in c.headers for c in fake.creates] == [False, False, True]
    assert outcome.provider_seconds == pytest.approx(3 * 4.2)


def test_a_long_prediction_is_pending_then_polled_to_completion(fake: FakeReplicate, make: Make) -> None:
    fake.mode = "hold"
    provider = make().provider
    outcome = provider.start(request(variants=2))
    assert isinstance(outcome, Pending)
    assert outcome.ids == tuple(fake.created_ids)
    assert provider.poll(outcome.ids[0]) == Pending(prediction_id=outcome.ids[0])
    fake.finish(outcome.ids[0], deliver=False)
    done = provider.poll(outcome.ids[0])
    assert isinstance(done, Completed)
    assert len(done.images) == 1


def test_the_photo_can_travel_as_an_uploaded_file(fake: FakeReplicate, make: Make) -> None:
    outcome = make(replicate_image_input="file").provider.start(request())
    assert isinstance(outcome, Completed)
    assert len(fake.calls("POST", "/v1/files")) == 1
    (file_id,) = fake.files
    assert fake.files[file_id].count(b"\xff\xd8\xff") >= 1  # the JPEG went up in the multipart body
    assert fake.creates[0].body["input"]["image"] == f"{fake.url}/v1/files/{file_id}"


def test_cancel_stops_the_prediction_upstream(fake: FakeReplicate, make: Make) -> None:
    fake.mode = "hold"
    provider = make().provider
    pending = provider.start(request())
    assert isinstance(pending, Pending)
    provider.cancel(pending.prediction_id)
    assert fake.predictions[pending.prediction_id]["status"] == "canceled"
    with pytest.raises(ProviderCanceled):
        provider.poll(pending.prediction_id)


def test_the_webhook_secret_is_read_from_replicate_when_not_configured(
    fake: FakeReplicate, make: Make
) -> None:
    forget_webhook_secret()
    settings = Settings(replicate_base_url=fake.url)
    assert webhook_secret(settings) == fake.webhook_secret
    assert webhook_secret(settings) == fake.webhook_secret
    assert len(fake.calls("GET", "/v1/webhooks/default/secret")) == 1  # cached per container
    forget_webhook_secret()


# --- faults on create -------------------------------------------------------------------------
def test_429_with_retry_after_is_waited_out_then_created_once(fake: FakeReplicate, make: Make) -> None:
    fake.fail("create", status=429, retry_after="2")
    made = make()
    assert isinstance(made.provider.start(request()), Completed)
    assert len(fake.creates) == 2
    assert len(fake.predictions) == 1
    assert made.sleeps == [pytest.approx(2.0, abs=0.25)]


def test_a_retry_after_too_long_to_sleep_goes_back_to_the_queue(fake: FakeReplicate, make: Make) -> None:
    fake.fail("create", status=429, retry_after="3600")
    made = make()
    with pytest.raises(ProviderUnavailable) as raised:
        made.provider.start(request())
    assert made.sleeps == []
    assert raised.value.details["retry_after_seconds"] == 3600.0
    assert fake.predictions == {}


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_on_create_is_retried_with_backoff(fake: FakeReplicate, make: Make, status: int) -> None:
    fake.fail("create", status=status, times=2)
    made = make()
    assert isinstance(made.provider.start(request()), Completed)
    assert len(fake.creates) == 3
    assert len(made.sleeps) == 2


def test_a_persistent_outage_ends_in_provider_unavailable_after_bounded_tries(
    fake: FakeReplicate, make: Make
) -> None:
    fake.fail("create", status=503, times=100)
    with pytest.raises(ProviderUnavailable) as raised:
        make().provider.start(request())
    assert len(fake.creates) == 3
    assert raised.value.code == "provider_unavailable"
    assert raised.value.retryable


@pytest.mark.parametrize("kind", ["timeout", "disconnect"])
def test_a_create_left_in_doubt_is_not_retried_inline(fake: FakeReplicate, make: Make, kind: str) -> None:
    fake.fail("create", kind, delay=1.5)
    with pytest.raises(ProviderUnavailable) as raised:
        make(replicate_wait_seconds=0).provider.start(request())
    assert len(fake.creates) == 1  # a second POST might have started a second paid prediction
    assert raised.value.details["in_doubt"] is True


def test_connection_refused_is_retried_then_unavailable(make: Make) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    made = make(replicate_base_url=f"http://127.0.0.1:{closed_port}")
    with pytest.raises(ProviderUnavailable, match="cannot reach Replicate"):
        made.provider.start(request())
    assert len(made.sleeps) == 2


def test_a_bad_token_is_a_configuration_error(
    fake: FakeReplicate, make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_wrong")
    with pytest.raises(ProviderNotConfigured, match="HTTP 401"):
        make().provider.start(request())


def test_a_half_started_fan_out_cancels_what_it_started(fake: FakeReplicate, make: Make) -> None:
    fake.mode = "hold"
    made = make()
    original = fake.create

    def create_then_break(body: dict[str, Any], model: str | None) -> dict[str, Any]:
        created = original(body, model)
        fake.fail("create", status=503, times=100)
        return created

    fake.create = create_then_break  # type: ignore[method-assign]
    with pytest.raises(ProviderUnavailable):
        made.provider.start(request(variants=2))
    (first,) = fake.predictions.values()
    assert first["status"] == "canceled"


# --- faults while checking --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "status"), [("status", 500), ("status", 429), ("timeout", 0), ("disconnect", 0)]
)
def test_a_poll_survives_one_fault(fake: FakeReplicate, make: Make, kind: str, status: int) -> None:
    fake.mode = "hold"
    provider = make().provider
    pending = provider.start(request())
    assert isinstance(pending, Pending)
    fake.finish(pending.prediction_id, deliver=False)
    fake.fail("get", kind, status=status or 503, retry_after="0" if status == 429 else None, delay=1.0)
    assert isinstance(provider.poll(pending.prediction_id), Completed)


def test_the_clients_own_hidden_retries_are_not_used(fake: FakeReplicate, make: Make) -> None:
    """replicate's transport would retry a 503 GET ten times; ours tries exactly `attempts` times."""
    fake.mode = "hold"
    provider = make().provider
    pending = provider.start(request())
    assert isinstance(pending, Pending)
    fake.fail("get", status=503, times=100)
    with pytest.raises(ProviderUnavailable):
        provider.poll(pending.prediction_id)
    assert len(fake.calls("GET", r"/v1/predictions/.+")) == 3


def test_an_unknown_prediction_fails(fake: FakeReplicate, make: Make) -> None:
    with pytest.raises(ProviderFailed, match="404"):
        make().provider.poll("does-not-exist")


def test_when_inline_completion_hits_an_outage_the_predictions_are_kept(
    fake: FakeReplicate, make: Make
) -> None:
    fake.fail("output", status=503, times=100)
    outcome = make().provider.start(request())
    assert outcome == Pending(prediction_id=fake.created_ids[0])  # finished later by callback or poll


# --- upstream results -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("outcome", "error", "code"),
    [
        ("failed", ProviderFailed, "provider_failed"),
        ("canceled", ProviderCanceled, "provider_canceled"),
        ("not_image", ProviderOutputInvalid, "provider_output_invalid"),
        ("oversize", ProviderOutputInvalid, "provider_output_invalid"),
        ("no_output", ProviderOutputInvalid, "provider_output_invalid"),
    ],
)
def test_upstream_results_map_to_terminal_codes(
    fake: FakeReplicate, make: Make, outcome: str, error: type[Exception], code: str
) -> None:
    fake.outcome = outcome
    with pytest.raises(error) as raised:
        make(output_max_bytes=1024 * 1024).provider.start(request())
    assert getattr(raised.value, "code", None) == code
    if outcome == "failed":
        assert "CUDA out of memory" in str(raised.value)


def test_an_output_outage_is_retried(fake: FakeReplicate, make: Make) -> None:
    fake.fail("output", status=502)
    assert isinstance(make().provider.start(request()), Completed)


def test_an_expired_output_is_invalid(fake: FakeReplicate, make: Make) -> None:
    fake.fail("output", status=404, times=2)  # without the token, then with it
    with pytest.raises(ProviderOutputInvalid, match="404"):
        make().provider.start(request())
    first, second = fake.calls("GET", r"/delivery/.+")
    assert "authorization" not in first.headers
    assert second.headers["authorization"] == f"Bearer {fake.token}"


def test_outputs_only_come_from_allowed_hosts(fake: FakeReplicate, make: Make) -> None:
    with pytest.raises(ProviderOutputInvalid, match="not an allowed output host"):
        make(replicate_output_hosts=("replicate.delivery",)).provider.start(request())
    assert fake.calls("GET", r"/delivery/.+") == []
