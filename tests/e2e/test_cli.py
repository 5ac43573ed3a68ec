"""The ``roomcraft`` command as a user runs it: stage, its exit codes, and dev's clean shutdown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from shared.cli import main
from shared.local.cloud import free_port
from tests.conftest import room_photo

pytestmark = pytest.mark.e2e


def test_stage_writes_results_and_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photo = tmp_path / "my room.png"
    photo.write_bytes(room_photo(900, 600, fmt="PNG"))
    code = main(
        [
            "stage",
            str(photo),
            "--room-type",
            "bedroom",
            "--style",
            "japandi",
            "--palette",
            "#f5f0e6,#8a9a5b",
            "--variants",
            "2",
            "--seed",
            "7",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    [design_dir] = (tmp_path / "out").iterdir()
    design = json.loads((design_dir / "design.json").read_text())
    assert design["status"] == "succeeded"
    assert design["brief"]["palette"] == ["#f5f0e6", "#8a9a5b"]
    assert (design_dir / "variant-0-full.jpg").is_file()
    assert (design_dir / "variant-1-thumb.webp").is_file()
    assert "PREVIEW" in printed
    assert str(design_dir / "variant-0-full.jpg") in printed


def test_stage_of_a_non_image_exits_one_with_the_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = tmp_path / "notes.jpg"
    photo.write_text("definitely not a photo")
    assert main(["stage", str(photo), "--out", str(tmp_path / "out")]) == 1
    assert "image_unsupported_type" in capsys.readouterr().out


def test_stage_of_a_missing_file_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stage", str(tmp_path / "nope.jpg")]) == 2
    assert "no such photo" in capsys.readouterr().out


def test_unknown_style_exits_one_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photo = tmp_path / "room.jpg"
    photo.write_bytes(room_photo())
    assert main(["stage", str(photo), "--style", "vaporwave", "--out", str(tmp_path / "out")]) == 1
    assert "unknown_style" in capsys.readouterr().out


def test_several_styles_are_one_batch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photo = tmp_path / "room.jpg"
    photo.write_bytes(room_photo())
    code = main(
        ["stage", str(photo), "--style", "japandi, coastal", "--seed", "3", "--out", str(tmp_path / "out")]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    [batch_dir] = (tmp_path / "out").iterdir()
    batch = json.loads((batch_dir / "batch.json").read_text())
    assert (batch["status"], batch["total"], batch["counts"]["succeeded"]) == ("completed", 2, 2)
    assert sorted(d["brief"]["style"] for d in batch["designs"]) == ["coastal", "japandi"]
    for view in batch["designs"]:
        assert (batch_dir / view["id"] / "variant-0-full.jpg").is_file()
    assert "2/2 finished" in printed


def test_a_batch_with_a_bad_photo_keeps_the_good_results_and_exits_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good.jpg", tmp_path / "bad.jpg"
    good.write_bytes(room_photo())
    bad.write_text("a text file named like a photo")
    code = main(
        ["stage", str(good), str(bad), "--style", "industrial,bohemian", "--out", str(tmp_path / "out")]
    )
    printed = capsys.readouterr().out
    assert code == 1, printed
    [batch_dir] = (tmp_path / "out").iterdir()
    batch = json.loads((batch_dir / "batch.json").read_text())
    assert (batch["counts"]["succeeded"], batch["counts"]["failed"]) == (2, 2)
    written = sorted(p.name for p in batch_dir.iterdir() if p.is_dir())
    assert written == sorted(d["id"] for d in batch["designs"] if d["status"] == "succeeded")
    assert printed.count("failed: image_unsupported_type") == 2
    assert "2 of 4 designs did not succeed" in printed


def test_more_than_fifty_designs_exit_two_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = tmp_path / "room.jpg"
    photo.write_bytes(room_photo())
    styles = ",".join(["japandi"] * 51)
    assert main(["stage", str(photo), "--style", styles]) == 2
    assert "over 50 designs" in capsys.readouterr().out


def test_dev_serves_the_api_and_docs_then_stops_cleanly_on_ctrl_c() -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shared.cli",
            "dev",
            "--port",
            str(port),
            "--emulator-port",
            str(free_port()),
            "--cdn-port",
            str(free_port()),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 240  # generous: CI machines are shared and slow to boot moto
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "roomcraft dev did not come up"
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/docs").status_code == 200
        assert "/v1/designs" in httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()["paths"]
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert f"http://127.0.0.1:{port}/docs" in output
    assert "API key  rc_" in output  # the development tenant's key, nothing to configure
    assert "nothing is kept across restarts" in output  # said plainly (issue 13, item 11)
    assert "Stopping" in output
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1)
