"""Replicate as it really behaves (issue 14): the real client against the fake made strict.

Each test names the mismatch it guards: output shapes per model, the FLUX safety checker, pricing
units, seeds, 422/429 bodies, large photos, authenticated outputs, Cancel-After, ``aborted``,
``Prefer: wait`` held then answered as it is, and webhook retries.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator

import pytest
from PIL import Image

from shared.domain.errors import ProviderFailed, ProviderNotConfigured, ProviderTimeout, ProviderUnavailable
from shared.providers.base import Completed, GenerationRequest, Pending
from shared.providers.replicate import ReplicateProvider, throttle_reset_seconds
from shared.providers.retry import RetryPolicy
from shared.settings import Settings
from tests.conftest import room_photo
from tests.fakes.replicate_server import FakeReplicate

FLUX = "black-forest-labs/flux-depth-dev"


@pytest.fixture
def fake() -> Iterator[FakeReplicate]:
    with FakeReplicate(webhooks=False, max_wait_seconds=0.3) as server:
        yield server


Make = Callable[..., tuple[ReplicateProvider, list[float]]]


@pytest.fixture
def make(fake: FakeReplicate, monkeypatch: pytest.MonkeyPatch) -> Make:
    monkeypatch.setenv("REPLICATE_API_TOKEN", fake.token)

    def build(**overrides: object) -> tuple[ReplicateProvider, list[float]]:
        values: dict[str, object] = {
            "replicate_base_url": fake.url,
            "replicate_output_hosts": ("127.0.0.1",),
            "allow_loopback_urls": True,
            "provider_request_timeout_seconds": 2.0,
            "output_download_timeout_seconds": 2.0,
            "replicate_wait_seconds": 1,
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
        return ReplicateProvider(Settings(**values), retry=retry), sleeps  # type: ignore[arg-type]

    return build


def request(variants: int = 1, seed: int = 11, image: bytes | None = None) -> GenerationRequest:
    return GenerationRequest(
        design_id="dsn_01REAL",
        tenant_id="tnt_default",
        image=image if image is not None else room_photo(320, 240),
        width=320,
        height=240,
        room_type="living_room",
        style="japandi",
        palette=("#efe9e1",),
        prompt="a japandi living room",
        negative_prompt="clutter",
        variants=variants,
        seed=seed,
    )


def noisy_jpeg(width: int, height: int) -> bytes:
    """A JPEG that does not compress well: random pixels."""
    import os

    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


# --- 8. outputs as each model returns them -----------------------------------------------------
def test_adirik_answers_one_uri_and_flux_a_list(fake: FakeReplicate, make: Make) -> None:
    make()[0].start(request())
    make(replicate_model=FLUX, replicate_version="")[0].start(request())
    adirik, flux = (fake.public(pid) for pid in fake.created_ids)
    assert isinstance(adirik["output"], str)
    assert isinstance(flux["output"], list)
    assert len(flux["output"]) == 1


# --- 2. the FLUX safety checker drops flagged images -------------------------------------------
def test_a_batch_with_filtered_images_completes_with_the_rest(fake: FakeReplicate, make: Make) -> None:
    fake.filtered = 1
    provider, _ = make(replicate_model=FLUX, replicate_version="", replicate_seed_per_variant=False)
    outcome = provider.start(request(variants=3))
    assert isinstance(outcome, Completed)
    assert len(outcome.images) == 2
    assert outcome.estimated_cost_usd == pytest.approx(2 * 0.025)  # billed for the images made


def test_a_batch_whose_every_image_is_flagged_fails(fake: FakeReplicate, make: Make) -> None:
    fake.filtered = 4
    provider, _ = make(replicate_model=FLUX, replicate_version="", replicate_seed_per_variant=False)
    with pytest.raises(ProviderFailed, match="NSFW"):
        provider.start(request(variants=2))


# --- 3. pricing units ----------------------------------------------------------------------------
def test_official_models_cost_per_image_and_community_models_per_second(
    fake: FakeReplicate, make: Make
) -> None:
    flux = make(replicate_model=FLUX, replicate_version="")[0].start(request(variants=2))
    adirik = make()[0].start(request(variants=2))
    assert isinstance(flux, Completed)
    assert isinstance(adirik, Completed)
    assert flux.estimated_cost_usd == pytest.approx(2 * 0.025)
    assert adirik.estimated_cost_usd == pytest.approx(2 * fake.predict_time * 0.000725)
    priced = make(replicate_model=FLUX, replicate_version="", replicate_price_usd=0.03)[0].start(request())
    assert isinstance(priced, Completed)
    assert priced.estimated_cost_usd == pytest.approx(0.03)
    per_second = make(replicate_pricing_unit="second", replicate_price_usd=0.001)[0].start(request())
    assert isinstance(per_second, Completed)
    assert per_second.estimated_cost_usd == pytest.approx(fake.predict_time * 0.001)


# --- 5. seeds ------------------------------------------------------------------------------------
def test_flux_variants_are_one_prediction_each_so_seed_plus_i_reproduces_alone(
    fake: FakeReplicate, make: Make
) -> None:
    outcome = make(replicate_model=FLUX, replicate_version="")[0].start(request(variants=3, seed=40))
    assert isinstance(outcome, Completed)
    assert len(outcome.images) == 3
    inputs = [create.body["input"] for create in fake.creates]
    assert [one["seed"] for one in inputs] == [40, 41, 42]
    assert [one["num_outputs"] for one in inputs] == [1, 1, 1]


def test_seed_zero_is_never_sent_to_a_model_that_reads_it_as_random(fake: FakeReplicate, make: Make) -> None:
    make(replicate_model=FLUX, replicate_version="")[0].start(request(variants=2, seed=0))
    make()[0].start(request(seed=0))
    flux_first, flux_second, adirik = (create.body["input"]["seed"] for create in fake.creates)
    assert flux_first == 2**32 - 1  # cog-flux: "if not seed" draws a random one
    assert flux_second == 1
    assert adirik == 0  # adirik only randomizes a missing seed


# --- 6. errors and transport ---------------------------------------------------------------------
def test_an_invalid_or_forbidden_version_is_a_configuration_error(fake: FakeReplicate, make: Make) -> None:
    with pytest.raises(ProviderNotConfigured, match="Invalid version or not permitted"):
        make(replicate_version="0" * 64)[0].start(request())


def test_a_429_with_only_a_detail_waits_the_seconds_it_names(fake: FakeReplicate, make: Make) -> None:
    fake.fail("create", status=429, detail="Request was throttled. Your rate limit resets in ~2s.")
    provider, sleeps = make()
    assert isinstance(provider.start(request()), Completed)
    (slept,) = sleeps
    assert 2.0 <= slept <= 2.2
    assert throttle_reset_seconds("Request was throttled. Expected available in 30 seconds.") == 30.0
    assert throttle_reset_seconds("Request was throttled.") is None


def test_a_429_naming_a_long_wait_gives_the_message_back(fake: FakeReplicate, make: Make) -> None:
    fake.fail("create", status=429, times=3)  # "resets in ~30s": over the 5 s this policy sleeps
    provider, sleeps = make()
    with pytest.raises(ProviderUnavailable) as raised:
        provider.start(request())
    assert raised.value.details["retry_after_seconds"] == 30.0
    assert sleeps == []


def test_a_photo_over_256_kb_is_uploaded_as_a_file(fake: FakeReplicate, make: Make) -> None:
    photo = noisy_jpeg(640, 480)
    assert len(photo) > 256 * 1024
    outcome = make()[0].start(request(image=photo))
    assert isinstance(outcome, Completed)
    (create,) = fake.creates
    (file_id,) = fake.files
    assert create.body["input"]["image"] == f"{fake.url}/v1/files/{file_id}"
    assert fake.files[file_id] == photo
    small = make()[0].start(request())
    assert isinstance(small, Completed)
    assert fake.creates[-1].body["input"]["image"].startswith("data:image/jpeg;base64,")


def test_a_large_data_uri_is_refused_by_replicate(fake: FakeReplicate, make: Make) -> None:
    fake.max_request_bytes = 256 * 1024
    with pytest.raises(ProviderFailed, match="413"):
        make(replicate_image_input="data_uri")[0].start(request(image=noisy_jpeg(640, 480)))


def test_outputs_served_only_with_the_token_are_fetched_again_with_it(
    fake: FakeReplicate, make: Make
) -> None:
    fake.outputs_need_auth = True
    assert isinstance(make()[0].start(request()), Completed)
    first, second = fake.calls("GET", r"/delivery/.+")
    assert "authorization" not in first.headers
    assert second.headers["authorization"] == f"Bearer {fake.token}"


def test_every_create_asks_replicate_to_stop_it_after_the_prediction_timeout(
    fake: FakeReplicate, make: Make
) -> None:
    make(prediction_timeout_seconds=600)[0].start(request())
    assert fake.creates[0].headers["cancel-after"] == "600s"
    assert all("cancel-after" not in call.headers for call in fake.calls("GET", r"/v1/predictions/.+"))


# --- 8. Prefer: wait, aborted --------------------------------------------------------------------
def test_prefer_wait_is_held_then_answered_with_the_running_status(fake: FakeReplicate, make: Make) -> None:
    fake.mode = "hold"
    outcome = make(replicate_wait_seconds=30)[0].start(request())
    assert isinstance(outcome, Pending)
    (create,) = fake.creates
    assert create.headers["prefer"] == "wait=30"
    assert fake.public(outcome.prediction_id)["status"] == "processing"


def test_prefer_wait_answers_as_soon_as_the_prediction_finishes(fake: FakeReplicate, make: Make) -> None:
    fake.mode = "hold"
    fake.max_wait_seconds = 30.0
    provider, _ = make(replicate_wait_seconds=30)

    def finish_soon() -> None:
        while not fake.created_ids:
            time.sleep(0.01)
        fake.finish(fake.created_ids[0])

    import threading

    finisher = threading.Thread(target=finish_soon)
    finisher.start()
    outcome = provider.start(request())
    finisher.join()
    assert isinstance(outcome, Completed)


def test_an_aborted_prediction_is_a_timeout(fake: FakeReplicate, make: Make) -> None:
    fake.mode = "hold"
    provider, _ = make()
    pending = provider.start(request())
    assert isinstance(pending, Pending)
    fake.finish(pending.prediction_id, "aborted")
    with pytest.raises(ProviderTimeout, match="aborted"):
        provider.poll(pending.prediction_id)
    fake.mode, fake.outcome = "complete", "aborted"
    with pytest.raises(ProviderTimeout, match="aborted"):  # answered inline to the create
        provider.start(request())
    assert fake.public(fake.created_ids[-1])["started_at"] is None


# --- 8. webhooks ---------------------------------------------------------------------------------
def test_only_the_final_webhook_is_retried_with_backoff_and_a_new_timestamp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = iter([500, 500, 500, 500, 204])
    sent: list[dict[str, str]] = []

    def receiver(url: str, headers: dict[str, str], body: bytes) -> int:
        sent.append(headers)
        return next(answers)

    clock = iter(range(1_700_000_000, 1_700_000_100, 7))
    slept: list[float] = []
    monkeypatch.setattr("tests.fakes.replicate_server.time.sleep", slept.append)
    monkeypatch.setattr("tests.fakes.replicate_server.time.time", lambda: float(next(clock)))
    with FakeReplicate(
        webhook_sender=receiver, background_webhooks=False, webhook_retry_delay=1.0, webhook_attempts=5
    ) as fake:
        prediction = fake.create({"version": "v", "input": {}, "webhook": "https://hooks.example/x"}, None)
        assert fake.deliver(prediction["id"], final=False) == [500]  # a "start" event: sent once
        assert slept == []
        sent.clear()
        assert fake.deliver(prediction["id"]) == [500, 500, 500, 204]
    assert slept == [1.0, 2.0, 4.0]  # exponential backoff between attempts
    assert len({headers["webhook-id"] for headers in sent}) == 1
    stamps = [int(headers["webhook-timestamp"]) for headers in sent]
    assert stamps == sorted(set(stamps))  # a new timestamp, and so a new signature, per attempt
    assert len({headers["webhook-signature"] for headers in sent}) == 4
