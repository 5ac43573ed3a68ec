"""Replicate provider logic that needs no server: input mapping, outputs, errors, webhook signatures."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable

import pytest

from shared.domain.errors import (
    CallbackNotConfigured,
    ProviderCanceled,
    ProviderFailed,
    ProviderNotConfigured,
    ProviderOutputInvalid,
    WebhookSignatureInvalid,
)
from shared.providers.base import GenerationRequest, Pending
from shared.providers.registry import missing_configuration
from shared.providers.replicate import (
    GENERIC_PROFILE,
    PINNED_VERSIONS,
    PredictionReport,
    ReplicateHttpError,
    ReplicateProvider,
    _classified,
    model_and_version,
    output_urls,
    profile_for,
    replicate_token,
    verify_webhook,
    webhook_secret,
)
from shared.providers.retry import TransientFailure
from shared.settings import Settings
from tests.fakes.replicate_server import FakeReplicate


def request(**changes: object) -> GenerationRequest:
    values: dict[str, object] = {
        "design_id": "dsn_01ABC",
        "tenant_id": "tnt_default",
        "image": b"\xff\xd8\xff-jpeg-bytes",
        "width": 1024,
        "height": 768,
        "room_type": "living_room",
        "style": "scandinavian",
        "palette": ("#f5f0e6",),
        "prompt": "a scandinavian living room",
        "negative_prompt": "blurry, watermark",
        "variants": 1,
        "seed": 5,
    }
    values.update(changes)
    return GenerationRequest(**values)  # type: ignore[arg-type]


def provider(**settings: object) -> ReplicateProvider:
    return ReplicateProvider(Settings(**settings), client=object())  # type: ignore[arg-type]


def test_default_model_runs_one_prediction_per_variant_with_consecutive_seeds() -> None:
    inputs = provider().inputs_for(request(variants=3))
    assert [one["seed"] for one in inputs] == [5, 6, 7]
    first = inputs[0]
    assert first["image"] == "data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8\xff-jpeg-bytes").decode()
    assert first["prompt"] == "a scandinavian living room"
    assert first["negative_prompt"] == "blurry, watermark"
    assert first["prompt_strength"] == 0.8
    assert "guidance_scale" not in first  # the model's own default
    assert "num_inference_steps" not in first
    assert "num_outputs" not in first


def test_guidance_steps_and_operator_overrides_are_mapped() -> None:
    inputs = provider(replicate_input_overrides={"prompt_strength": 0.65}).inputs_for(
        request(guidance=12.5, steps=30)
    )
    assert inputs == [
        {
            "prompt_strength": 0.65,
            "image": inputs[0]["image"],
            "prompt": "a scandinavian living room",
            "negative_prompt": "blurry, watermark",
            "guidance_scale": 12.5,
            "num_inference_steps": 30,
            "seed": 5,
        }
    ]


def test_a_model_with_num_outputs_makes_every_variant_in_one_prediction_when_batching_is_chosen() -> None:
    inputs = provider(
        replicate_model="black-forest-labs/flux-depth-dev",
        replicate_version="",
        replicate_seed_per_variant=False,
    ).inputs_for(request(variants=4, guidance=7.0))
    assert len(inputs) == 1
    assert inputs[0]["num_outputs"] == 4
    assert inputs[0]["seed"] == 5
    assert inputs[0]["control_image"].startswith("data:image/jpeg;base64,")
    assert inputs[0]["guidance"] == 7.0
    assert "negative_prompt" not in inputs[0]


@pytest.mark.parametrize(
    ("model", "version", "expected"),
    [
        ("adirik/interior-design", "", ("adirik/interior-design", PINNED_VERSIONS["adirik/interior-design"])),
        ("adirik/interior-design:abc123", "", ("adirik/interior-design", "abc123")),
        ("someone/model", "def456", ("someone/model", "def456")),
        ("black-forest-labs/flux-depth-dev", "", ("black-forest-labs/flux-depth-dev", "")),
    ],
)
def test_model_and_version(model: str, version: str, expected: tuple[str, str]) -> None:
    assert model_and_version(Settings(replicate_model=model, replicate_version=version)) == expected


def test_unknown_models_use_the_generic_input_names() -> None:
    assert profile_for("someone/new-model") is GENERIC_PROFILE
    assert profile_for(" Adirik/Interior-Design ").num_outputs is None


def test_webhook_url_names_the_design_and_is_absent_without_a_public_api() -> None:
    assert provider().webhook_url(request()) is None
    url = provider(api_base_url="https://api.example.com/").webhook_url(request(tenant_id="tnt a"))
    assert url == "https://api.example.com/v1/callbacks/replicate?tenant=tnt%20a&design=dsn_01ABC"


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("https://replicate.delivery/a.png", ["https://replicate.delivery/a.png"]),
        (["https://r.d/1.png", "https://r.d/2.png"], ["https://r.d/1.png", "https://r.d/2.png"]),
        ({"images": ["https://r.d/1.png"]}, ["https://r.d/1.png"]),
        ("not a url", []),
        (None, []),
        (42, []),
    ],
)
def test_output_urls(output: object, expected: list[str]) -> None:
    assert output_urls(output) == expected


def test_prediction_seconds_prefer_predict_time_then_timestamps() -> None:
    assert PredictionReport(id="p", status="succeeded", metrics={"predict_time": 3.5}).seconds() == 3.5
    timed = PredictionReport(
        id="p",
        status="succeeded",
        started_at="2026-11-23T12:00:00.000000Z",
        completed_at="2026-11-23T12:00:09.500000Z",
    )
    assert timed.seconds() == 9.5
    assert PredictionReport(id="p", status="succeeded").seconds() == 0.0


@pytest.mark.parametrize(
    ("status", "error"),
    [("failed", ProviderFailed), ("canceled", ProviderCanceled), ("weird", ProviderFailed)],
)
def test_terminal_prediction_statuses_raise_stable_codes(status: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        provider().outcome_of(
            PredictionReport.model_validate({"id": "p1", "status": status, "error": "CUDA out of memory"})
        )


def test_a_running_prediction_is_pending() -> None:
    assert provider().outcome_of(
        PredictionReport.model_validate({"id": "p1", "status": "processing"})
    ) == Pending(prediction_id="p1")


def test_a_success_without_an_image_is_invalid_output() -> None:
    with pytest.raises(ProviderOutputInvalid):
        provider().outcome_of(
            PredictionReport.model_validate({"id": "p1", "status": "succeeded", "output": None})
        )


@pytest.mark.parametrize(
    ("status", "creating", "expected", "code"),
    [
        (429, True, TransientFailure, None),
        (500, True, TransientFailure, None),
        (503, False, TransientFailure, None),
        (401, True, ProviderNotConfigured, "provider_not_configured"),
        (403, False, ProviderNotConfigured, "provider_not_configured"),
        (404, True, ProviderNotConfigured, "provider_not_configured"),
        (404, False, ProviderFailed, "provider_failed"),
        (422, True, ProviderFailed, "provider_failed"),
    ],
)
def test_http_errors_are_sorted_into_retryable_and_terminal(
    status: int, creating: bool, expected: type[Exception], code: str | None
) -> None:
    classified = _classified(ReplicateHttpError(status, "detail", retry_after=2.0), creating=creating)
    assert isinstance(classified, expected)
    if isinstance(classified, TransientFailure):
        assert classified.retry_after == 2.0
    else:
        assert getattr(classified, "code", None) == code


def test_a_placeholder_webhook_secret_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLICATE_WEBHOOK_SECRET", "Xq3placeholder")
    with pytest.raises(CallbackNotConfigured, match="not set"):
        webhook_secret(Settings())
    monkeypatch.setenv("REPLICATE_WEBHOOK_SECRET", FAKE.webhook_secret)
    assert webhook_secret(Settings()) == FAKE.webhook_secret


def test_the_token_is_required_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    with pytest.raises(ProviderNotConfigured, match="REPLICATE_API_TOKEN"):
        replicate_token(Settings())
    assert "REPLICATE_API_TOKEN" in (missing_configuration("replicate", Settings()) or "")
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_abc")
    assert replicate_token(Settings()) == "r8_abc"
    assert missing_configuration("replicate", Settings()) is None
    assert "ROOMCRAFT_SAGEMAKER_ENDPOINT" in (missing_configuration("sagemaker", Settings()) or "")
    assert missing_configuration("preview", Settings()) is None


# --- webhook signatures -----------------------------------------------------------------------
FAKE = FakeReplicate()
BODY = json.dumps({"id": "p1", "status": "succeeded"}).encode()


def signed(body: bytes = BODY, *, timestamp: int | None = None, secret: str | None = None) -> dict[str, str]:
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    return {
        "webhook-id": "msg_1",
        "webhook-timestamp": stamp,
        "webhook-signature": FAKE.sign("msg_1", stamp, body, secret),
    }


def test_a_correctly_signed_webhook_passes() -> None:
    verify_webhook(signed(), BODY, FAKE.webhook_secret, tolerance=300)
    upper = {k.title(): v for k, v in signed().items()}
    verify_webhook(upper, BODY, FAKE.webhook_secret, tolerance=300)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h: (h, BODY.replace(b"succeeded", b"failed")),
        lambda h: ({**h, "webhook-signature": "v1,AAAA"}, BODY),
        lambda h: ({k: v for k, v in h.items() if k != "webhook-id"}, BODY),
        lambda h: ({**h, "webhook-timestamp": "yesterday"}, BODY),
        lambda h: ({**h, "webhook-signature": "garbage"}, BODY),
        lambda h: (h, b""),
        lambda h: (h, b"\xff\xfe not utf-8"),
    ],
)
def test_tampered_or_incomplete_webhooks_are_refused(
    tamper: Callable[[dict[str, str]], tuple[dict[str, str], bytes]],
) -> None:
    headers, body = tamper(signed())
    with pytest.raises(WebhookSignatureInvalid) as raised:
        verify_webhook(headers, body, FAKE.webhook_secret, tolerance=300)
    assert raised.value.code == "webhook_signature_invalid"
    assert raised.value.http_status == 401


def test_an_old_webhook_is_refused_as_a_replay() -> None:
    old = int(time.time()) - 3600
    with pytest.raises(WebhookSignatureInvalid, match="tolerance"):
        verify_webhook(signed(timestamp=old), BODY, FAKE.webhook_secret, tolerance=300)


def test_a_webhook_signed_with_another_secret_is_refused_and_no_secret_is_echoed() -> None:
    other = FakeReplicate().webhook_secret
    with pytest.raises(WebhookSignatureInvalid) as raised:
        verify_webhook(signed(secret=other), BODY, FAKE.webhook_secret, tolerance=300)
    with pytest.raises(WebhookSignatureInvalid) as malformed:
        verify_webhook(signed(), BODY, "whsec_a_b_c", tolerance=300)
    for error in (raised.value, malformed.value):
        assert "whsec_" not in error.message.replace("whsec_…", "")


# --- parameter ranges at startup (issue 14, item 4) ------------------------------------------------
@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {"generation_steps": 501},
            "generation_steps: 501 is outside the model's range for num_inference_steps",
        ),
        ({"generation_guidance": 51.0}, "guidance_scale (1-50)"),
        ({"replicate_input_overrides": {"prompt_strength": 1.5}}, "prompt_strength (0-1)"),
        (
            {"replicate_model": "black-forest-labs/flux-canny-dev", "generation_steps": 51},
            "num_inference_steps (1-50)",
        ),
        (
            {"replicate_model": "black-forest-labs/flux-kontext-pro", "generation_steps": 20},
            "this model has no steps input",
        ),
    ],
)
def test_settings_outside_the_models_ranges_are_a_configuration_error_at_startup(
    settings: dict[str, object], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_x")
    with pytest.raises(ProviderNotConfigured, match=re.escape(expected)):
        provider(**settings)
    problem = missing_configuration("replicate", Settings(**settings))  # type: ignore[arg-type]
    assert problem is not None
    assert expected in problem


def test_settings_inside_the_ranges_start() -> None:
    made = provider(
        generation_steps=500, generation_guidance=1.0, replicate_input_overrides={"prompt_strength": 0}
    )
    assert made.inputs_for(request(steps=500, guidance=1.0))[0]["num_inference_steps"] == 500
