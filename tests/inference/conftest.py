"""Fixtures of the model-server tests: a tiny random model of the real classes, served over HTTP.

These tests need the ``inference`` dependency group. Where it is not installed they are skipped,
unless ROOMCRAFT_REQUIRE_INFERENCE_TESTS=1 (set by ``make test``, so CI cannot skip them silently).
"""

from __future__ import annotations

import importlib.util
import io
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

INFERENCE_GROUP = ("torch", "diffusers", "transformers", "controlnet_aux", "numpy")


def require_inference_group() -> None:
    """Called at the top of each test module, before it imports the group's packages."""
    missing = [name for name in INFERENCE_GROUP if not importlib.util.find_spec(name)]
    if not missing:
        return
    if os.environ.get("ROOMCRAFT_REQUIRE_INFERENCE_TESTS") == "1":
        pytest.fail(
            "ROOMCRAFT_REQUIRE_INFERENCE_TESTS=1 but the inference group is missing "
            f"({', '.join(missing)}): make install-inference",
            pytrace=False,
        )
    pytest.skip(f"the inference group is not installed ({', '.join(missing)})", allow_module_level=True)


def room_photo(width: int = 192, height: int = 128) -> bytes:
    """A drawn room: ceiling, two walls meeting in a corner, a floor, a window and a sofa."""
    image = Image.new("RGB", (width, height), (232, 228, 220))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, height // 6), fill=(250, 250, 248))
    draw.polygon(
        [(0, height * 2 // 3), (width, height * 2 // 3), (width, height), (0, height)], fill=(150, 110, 70)
    )
    draw.line((width // 2, height // 6, width // 2, height * 2 // 3), fill=(120, 120, 120), width=2)
    draw.rectangle(
        (width // 8, height // 4, width // 3, height // 2), fill=(170, 200, 230), outline=(60, 60, 60)
    )
    draw.rectangle((width // 2 + 10, height // 2, width - 20, height * 3 // 4), fill=(70, 90, 120))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def cpu() -> Any:
    from inference.model import pick_device

    return pick_device("cpu")


@pytest.fixture(scope="session")
def tiny_model(cpu: Any) -> Any:
    """Built in memory with the weight-free control maps, as ``--tiny-random`` does."""
    from inference.tiny import tiny_random_model

    return tiny_random_model(cpu)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, cpu: Any) -> Path:
    """A model folder of the tiny pipeline *and* tiny random annotators, saved with save_pretrained."""
    from inference.tiny import tiny_random_model

    folder = tmp_path_factory.mktemp("tiny-model")
    tiny_random_model(cpu, annotators=True).save(folder)
    return folder


@contextmanager
def serving(server: Any) -> Iterator[str]:
    """Run ``create_app(server)`` with uvicorn on a free port; yields its base URL."""
    import uvicorn

    from inference.server import create_app
    from shared.local.cloud import free_port

    port = free_port()
    config = uvicorn.Config(create_app(server), host="127.0.0.1", port=port, log_level="warning")
    web = uvicorn.Server(config)
    thread = threading.Thread(target=web.run, daemon=True)
    server.start()
    thread.start()
    while not web.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        web.should_exit = True
        thread.join(timeout=10)
        server.stop()


def wait_until_ready(url: str, *, limit: float = 300.0) -> None:
    import httpx

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/ping", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} never became ready")


@pytest.fixture(scope="module")
def model_server(tiny_model: Any) -> Iterator[tuple[Any, str]]:
    """One server over real HTTP around the in-memory tiny model, shared by a test module."""
    from inference.server import ModelServer, ServerConfig

    server = ModelServer(lambda: tiny_model, ServerConfig(queue_size=2, max_body_bytes=2 * 1024 * 1024))
    with serving(server) as url:
        wait_until_ready(url)
        yield server, url


Invoke = Callable[..., Any]
