"""`roomcraft demo` (what `make demo` runs) needs no configuration: the local cloud brings its own key."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.cli import main

pytestmark = pytest.mark.e2e


def test_the_demo_stages_the_sample_room_with_zero_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ROOMCRAFT_API_KEY", raising=False)
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Succeeded" in out
    (design_dir,) = tmp_path.iterdir()
    assert (design_dir / "design.json").is_file()
    assert len(list(design_dir.glob("variant-*-full.jpg"))) == 2
