"""The Docker image's entry point (`serve`) run as a plain process, and `roomcraft stage` through it."""

from __future__ import annotations

from tests.inference.conftest import require_inference_group

require_inference_group()

import base64
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.cli import main
from shared.local.cloud import free_port
from tests.inference.conftest import room_photo, wait_until_ready

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def serve_process(tiny_model_dir: Path) -> Iterator[str]:
    """`serve` exactly as SageMaker starts it: the model folder in SM_MODEL_DIR, port from the env."""
    port = free_port()
    env = {**os.environ, "SM_MODEL_DIR": str(tiny_model_dir), "SAGEMAKER_BIND_TO_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "inference" / "serve")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
        # uvicorn shuts down cleanly, then re-raises the signal it caught (exit status -SIGTERM).
        assert process.returncode in (0, -signal.SIGTERM), output.decode(errors="replace")[-2000:]


def test_serve_loads_the_model_folder_and_answers_invocations(serve_process: str) -> None:
    answer = httpx.post(
        f"{serve_process}/invocations",
        json={
            "contract": "roomcraft.inference.v1",
            "image": base64.b64encode(room_photo()).decode(),
            "width": 192,
            "height": 128,
            "prompt": "a warm industrial loft",
            "negative_prompt": "",
            "num_outputs": 2,
            "seed": 1,
            "room_type": "living_room",
            "style": "industrial",
            "palette": [],
        },
        timeout=300,
    )
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["images"]) == 2
    assert "random" in answer.json()["model"]


def test_roomcraft_stage_with_the_selfhosted_provider_end_to_end(
    serve_process: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = tmp_path / "room.jpg"
    photo.write_bytes(room_photo(384, 256))
    code = main(
        [
            "stage",
            str(photo),
            "--provider",
            "selfhosted",
            "--inference-url",
            serve_process,
            "--variants",
            "2",
            "--seed",
            "5",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    said = capsys.readouterr().out
    assert code == 0, said
    assert "(selfhosted provider)" in said
    written = sorted(path.name for path in (tmp_path / "out").rglob("*-full.*"))
    assert len(written) == 2


def test_stage_with_selfhosted_but_no_server_url_exits_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ROOMCRAFT_INFERENCE_URL", raising=False)
    photo = tmp_path / "room.jpg"
    photo.write_bytes(room_photo())
    assert main(["stage", str(photo), "--provider", "selfhosted"]) == 3
    assert "roomcraft inference serve" in capsys.readouterr().out


def test_the_image_runs_this_serve_script_on_sagemakers_port() -> None:
    dockerfile = (ROOT / "inference" / "Dockerfile").read_text()
    assert "install -m 0755 /opt/roomcraft/inference/serve /usr/local/bin/serve" in dockerfile
    assert 'CMD ["serve"]' in dockerfile
    assert "EXPOSE 8080" in dockerfile
    assert "SM_MODEL_DIR=/opt/ml/model" in dockerfile  # the folder test_serve_... loads the same way
    assert os.access(ROOT / "inference" / "serve", os.X_OK)
