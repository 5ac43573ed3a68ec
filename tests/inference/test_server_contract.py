"""The model server's contract over real HTTP: SageMaker's container rules and roomcraft.inference.v1.

The client side is the worker's own ``SelfHostedProvider`` (httpx) where a request is well formed,
and plain httpx where the test sends what a provider never would.
"""

from __future__ import annotations

from tests.inference.conftest import require_inference_group

require_inference_group()

import base64
import io
import json
import threading
from dataclasses import replace
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from shared.domain.errors import ProviderFailed, ProviderUnavailable
from shared.providers.base import GenerationRequest
from shared.providers.retry import RetryPolicy
from shared.settings import Settings
from tests.inference.conftest import room_photo, serving, wait_until_ready


def body(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "contract": "roomcraft.inference.v1",
        "image": base64.b64encode(room_photo()).decode(),
        "width": 192,
        "height": 128,
        "prompt": "a japandi bedroom",
        "negative_prompt": "",
        "num_outputs": 1,
        "seed": 3,
        "room_type": "bedroom",
        "style": "japandi",
        "palette": ["#f5f0e6"],
    }
    document.update(changes)
    return document


def generation(variants: int = 2, seed: int = 9) -> GenerationRequest:
    return GenerationRequest(
        design_id="dsn_1",
        image=room_photo(),
        width=192,
        height=128,
        room_type="living_room",
        style="scandinavian",
        palette=("#f5f0e6",),
        prompt="a scandinavian living room",
        negative_prompt="clutter",
        variants=variants,
        seed=seed,
        tenant_id="tnt_a",
    )


def provider(url: str, attempts: int = 1) -> Any:
    from shared.providers.selfhosted import SelfHostedProvider

    settings = Settings(inference_url=url, provider_attempts=attempts)
    quick = replace(RetryPolicy.from_settings(settings), sleep=lambda _: None)
    return SelfHostedProvider(settings, retry=quick)


def test_ping_answers_200_once_the_model_is_loaded(model_server: tuple[Any, str]) -> None:
    _, url = model_server
    answer = httpx.get(f"{url}/ping", timeout=5)
    assert answer.status_code == 200
    assert "tiny-random" in answer.text
    assert "float32" in answer.text


def test_the_provider_gets_num_outputs_images_in_seed_order(model_server: tuple[Any, str]) -> None:
    _server, url = model_server
    completed = provider(url).start(generation(variants=2, seed=9))
    assert len(completed.images) == 2
    assert completed.provider_seconds > 0
    for image in completed.images:
        assert image.content_type == "image/png"
        assert image.metadata["provider"] == "selfhosted"
        assert "random" in image.metadata["model"]  # the tiny model says what it is
    alone = provider(url).start(generation(variants=1, seed=10)).images[0]
    second = np.asarray(Image.open(io.BytesIO(completed.images[1].data)), dtype=np.float64)
    assert np.abs(second - np.asarray(Image.open(io.BytesIO(alone.data)), dtype=np.float64)).max() <= 2


def test_the_variants_of_one_request_run_as_one_batched_pass(model_server: tuple[Any, str]) -> None:
    server, url = model_server
    batches: list[int] = []
    handle = server.model.pipe.unet.register_forward_pre_hook(
        lambda module, args: batches.append(int(args[0].shape[0]))
    )
    try:
        answer = httpx.post(f"{url}/invocations", json=body(num_outputs=4), timeout=120)
    finally:
        handle.remove()
    assert answer.status_code == 200
    assert len(answer.json()["images"]) == 4
    assert batches == [8, 8]  # 2 steps, 4 variants x classifier-free guidance, one call each


@pytest.mark.parametrize(
    ("changes", "status", "text"),
    [
        ({"image": "not base64!"}, 400, "not base64"),
        ({"image": base64.b64encode(b"GIF89a but not really").decode()}, 400, "not a readable image"),
        ({"num_outputs": 0}, 400, "num_outputs must be 1 to 4"),
        ({"num_outputs": 5}, 400, "num_outputs must be 1 to 4"),
        ({"operation": "remove_furniture"}, 400, "not something this model can do"),
        ({"contract": "roomcraft.inference.v9"}, 400, "unknown contract version"),
        ({"width": 10}, 400, "width must be"),
        ({"num_inference_steps": 1000}, 400, "num_inference_steps must be"),
        ({"prompt": None}, 400, "invalid request: prompt"),
    ],
)
def test_bad_input_is_a_4xx_with_a_short_text(
    model_server: tuple[Any, str], changes: dict[str, Any], status: int, text: str
) -> None:
    _, url = model_server
    answer = httpx.post(f"{url}/invocations", json=body(**changes), timeout=30)
    assert answer.status_code == status
    assert text in answer.text
    assert len(answer.text) < 200


def test_a_body_that_is_not_json_is_a_400(model_server: tuple[Any, str]) -> None:
    _, url = model_server
    answer = httpx.post(f"{url}/invocations", content=b"\x00\x01 not json", timeout=30)
    assert answer.status_code == 400
    assert "invalid request" in answer.text


def test_an_oversize_body_is_a_413_before_it_is_read(model_server: tuple[Any, str]) -> None:
    _, url = model_server
    huge = json.dumps(body(image="A" * (3 * 1024 * 1024))).encode()
    answer = httpx.post(f"{url}/invocations", content=huge, timeout=30)
    assert answer.status_code == 413
    assert "larger than" in answer.text


def test_an_image_with_too_many_pixels_is_a_413(model_server: tuple[Any, str]) -> None:
    _server, url = model_server
    buffer = io.BytesIO()
    Image.new("L", (8000, 6000)).save(buffer, format="PNG")  # 48 MP, compresses to ~50 KB
    answer = httpx.post(
        f"{url}/invocations", json=body(image=base64.b64encode(buffer.getvalue()).decode()), timeout=30
    )
    assert answer.status_code == 413
    assert "pixels" in answer.text


def test_the_server_keeps_working_after_bad_input(model_server: tuple[Any, str]) -> None:
    _, url = model_server
    assert httpx.post(f"{url}/invocations", json=body(num_outputs=9), timeout=30).status_code == 400
    assert httpx.post(f"{url}/invocations", json=body(), timeout=120).status_code == 200


def test_a_refused_request_fails_the_design_with_the_servers_reason(model_server: tuple[Any, str]) -> None:
    _, url = model_server
    with pytest.raises(ProviderFailed, match=r"refused the request \(400\): width must be 64 to 2048"):
        provider(url).start(replace(generation(variants=1), width=10))


def test_a_request_over_its_time_is_a_504_and_the_worker_goes_on(model_server: tuple[Any, str]) -> None:
    server, url = model_server
    configured = server.config.request_timeout_seconds
    server.config.request_timeout_seconds = 0.0  # every step is past the deadline
    try:
        answer = httpx.post(f"{url}/invocations", json=body(), timeout=60)
    finally:
        server.config.request_timeout_seconds = configured
    assert answer.status_code == 504
    assert "took longer than" in answer.text
    assert httpx.post(f"{url}/invocations", json=body(), timeout=120).status_code == 200


def test_a_full_queue_is_a_503_with_retry_after(tiny_model: Any) -> None:
    from inference.server import ModelServer, ServerConfig

    release = threading.Event()
    entered = threading.Event()

    def hold(module: Any, args: Any) -> None:
        entered.set()
        release.wait(60)

    server = ModelServer(lambda: tiny_model, ServerConfig(queue_size=1))
    handle = tiny_model.pipe.unet.register_forward_pre_hook(hold)
    answers: list[int] = []
    try:
        with serving(server) as url:
            wait_until_ready(url)
            busy = [
                threading.Thread(
                    target=lambda: answers.append(
                        httpx.post(f"{url}/invocations", json=body(), timeout=120).status_code
                    )
                )
                for _ in range(2)
            ]
            busy[0].start()
            assert entered.wait(60)  # the worker holds the first request
            busy[1].start()  # the second waits in the queue (size 1)
            while server._jobs.qsize() < 1:
                threading.Event().wait(0.05)
            refused = httpx.post(f"{url}/invocations", json=body(), timeout=30)
            release.set()
            for thread in busy:
                thread.join(120)
    finally:
        release.set()
        handle.remove()
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "5"
    assert "busy" in refused.text
    assert answers == [200, 200]


def test_ping_and_invocations_answer_503_while_the_model_loads(tiny_model: Any) -> None:
    from inference.server import ModelServer

    loaded = threading.Event()

    def slow_loader() -> Any:
        loaded.wait(120)
        return tiny_model

    server = ModelServer(slow_loader)
    with serving(server) as url:
        ping = httpx.get(f"{url}/ping", timeout=5)
        invocation = httpx.post(f"{url}/invocations", json=body(), timeout=30)
        with pytest.raises(ProviderUnavailable, match="503: loading the model"):
            provider(url, attempts=2).start(generation(variants=1))
        loaded.set()
        wait_until_ready(url)
        after = httpx.post(f"{url}/invocations", json=body(), timeout=120)
    assert (ping.status_code, ping.text) == (503, "loading the model")
    assert invocation.status_code == 503
    assert after.status_code == 200


def test_a_model_that_fails_to_load_makes_ping_a_500_with_the_reason() -> None:
    from inference.server import ModelServer

    def broken() -> Any:
        raise FileNotFoundError("/opt/ml/model holds no pipeline/model_index.json")

    server = ModelServer(broken)
    with serving(server) as url:
        while server.health()[0] == 503:
            threading.Event().wait(0.05)
        ping = httpx.get(f"{url}/ping", timeout=5)
        invocation = httpx.post(f"{url}/invocations", json=body(), timeout=30)
    assert ping.status_code == 500
    assert "model_index.json" in ping.text
    assert invocation.status_code == 500


def test_an_unreachable_server_is_provider_unavailable() -> None:
    from shared.local.cloud import free_port

    with pytest.raises(ProviderUnavailable, match="cannot be reached"):
        provider(f"http://127.0.0.1:{free_port()}", attempts=2).start(generation(variants=1))


def test_the_sagemaker_provider_can_use_the_same_server_over_http(
    model_server: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.providers.sagemaker import SageMakerProvider

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    _, url = model_server
    settings = Settings(
        sagemaker_endpoint="roomcraft-test-staging",
        sagemaker_mode="realtime",
        sagemaker_runtime_endpoint_url=url,
        sagemaker_invoke_timeout_seconds=120,
    )
    completed = SageMakerProvider(settings).start(generation(variants=2))
    assert len(completed.images) == 2
    assert all(image.content_type == "image/png" for image in completed.images)
