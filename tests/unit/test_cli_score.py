"""``roomcraft score BEFORE AFTER [--json]`` on any two images."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.cli import main
from tests import quality_pairs


def write_pair(tmp_path: Path, make: object) -> tuple[str, str]:
    before, after = quality_pairs.pair(make)  # type: ignore[arg-type]
    (tmp_path / "before.jpg").write_bytes(before)
    (tmp_path / "after.jpg").write_bytes(after)
    return str(tmp_path / "before.jpg"), str(tmp_path / "after.jpg")


def test_prints_the_score(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", *write_pair(tmp_path, quality_pairs.recoloured)]) == 0
    assert float(capsys.readouterr().out) > 0.9


def test_json_prints_every_part(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", *write_pair(tmp_path, quality_pairs.mirrored), "--json"]) == 0
    parts = json.loads(capsys.readouterr().out)
    assert set(parts) == {"score", "recall", "precision", "worst_region", "input_edges", "width", "height"}
    assert parts["score"] < 0.5


def test_a_missing_or_unreadable_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("not an image")
    assert main(["score", str(tmp_path / "nope.jpg"), str(quality_pairs.SAMPLE)]) == 2
    assert "nope.jpg" in capsys.readouterr().err
    assert main(["score", str(tmp_path / "notes.txt"), str(quality_pairs.SAMPLE)]) == 2
    assert "cannot read the image" in capsys.readouterr().err
