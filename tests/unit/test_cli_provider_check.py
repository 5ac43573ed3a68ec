"""``roomcraft stage --provider …`` refuses to start when the provider cannot run here."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared import cli
from tests.conftest import room_photo


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "room.jpg"
    path.write_bytes(room_photo(320, 240))
    return path


@pytest.fixture
def no_cloud(monkeypatch: pytest.MonkeyPatch) -> None:
    import shared.local.cloud

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the local cloud must not start")

    monkeypatch.setattr(shared.local.cloud, "LocalCloud", refuse)


def test_replicate_without_a_token_fails_fast_with_a_clear_message(
    photo: Path, no_cloud: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    monkeypatch.delenv("ROOMCRAFT_REPLICATE_TOKEN_SECRET_ARN", raising=False)
    assert cli.main(["stage", str(photo), "--provider", "replicate"]) == cli.EXIT_ENVIRONMENT
    printed = capsys.readouterr().out
    assert "REPLICATE_API_TOKEN" in printed
    assert "Uploading" not in printed


def test_sagemaker_without_an_endpoint_fails_fast(
    photo: Path, no_cloud: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ROOMCRAFT_SAGEMAKER_ENDPOINT", raising=False)
    assert cli.main(["stage", str(photo), "--provider", "sagemaker"]) == cli.EXIT_ENVIRONMENT
    assert "ROOMCRAFT_SAGEMAKER_ENDPOINT" in capsys.readouterr().out


def test_an_unknown_provider_fails_fast(
    photo: Path, no_cloud: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["stage", str(photo), "--provider", "gpu-magic"]) == cli.EXIT_ENVIRONMENT
    assert "unknown provider" in capsys.readouterr().out


def test_selfhosted_without_a_model_server_url_fails_fast(
    photo: Path, no_cloud: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ROOMCRAFT_INFERENCE_URL", raising=False)
    assert cli.main(["stage", str(photo), "--provider", "selfhosted"]) == cli.EXIT_ENVIRONMENT
    assert "roomcraft inference serve" in capsys.readouterr().out


def test_inference_serve_without_the_group_says_how_to_install_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    assert cli.main(["inference", "serve", "--tiny-random"]) == cli.EXIT_ENVIRONMENT
    assert "make install-inference" in capsys.readouterr().out
