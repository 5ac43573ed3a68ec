"""The structure score on the calibration pairs (docs/quality.md): margins around the default threshold."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from PIL import Image

from shared.domain.errors import ImageCorrupt
from shared.domain.quality import DEFAULT_STRUCTURE_THRESHOLD
from shared.imaging.structure import structure_score
from tests import quality_pairs

MARGIN = 0.05
"""Every calibration pair sits at least this far from the default threshold, on its side."""


@pytest.mark.parametrize(("name", "make"), quality_pairs.HIGH.items(), ids=list(quality_pairs.HIGH))
def test_pairs_that_keep_the_room_score_high(name: str, make: Callable[[], Image.Image]) -> None:
    result = structure_score(*quality_pairs.pair(make))
    assert result.score >= DEFAULT_STRUCTURE_THRESHOLD + MARGIN, (name, result)


@pytest.mark.parametrize(("name", "make"), quality_pairs.LOW.items(), ids=list(quality_pairs.LOW))
def test_pairs_that_move_the_architecture_score_low(name: str, make: Callable[[], Image.Image]) -> None:
    result = structure_score(*quality_pairs.pair(make))
    assert result.score <= DEFAULT_STRUCTURE_THRESHOLD - MARGIN, (name, result)


def test_a_painted_over_window_shows_in_the_worst_region_not_the_average() -> None:
    result = structure_score(*quality_pairs.pair(quality_pairs.window_painted_over))
    assert result.recall > 0.5  # most of the room is intact ...
    assert result.worst_region < 0.2  # ... but one region lost its structure


def test_parts_are_in_range_and_sizes_do_not_matter() -> None:
    before, after = quality_pairs.pair(quality_pairs.recoloured)
    small = Image.open(io.BytesIO(after)).resize((400, 267))
    buffer = io.BytesIO()
    small.save(buffer, "PNG")
    result = structure_score(before, buffer.getvalue())
    for part in (result.score, result.recall, result.precision, result.worst_region):
        assert 0.0 <= part <= 1.0
    assert result.score >= DEFAULT_STRUCTURE_THRESHOLD + MARGIN
    assert max(result.width, result.height) == 384


def test_a_flat_input_has_nothing_to_keep() -> None:
    flat = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 200, 200)).save(flat, "PNG")
    result = structure_score(flat.getvalue(), quality_pairs.SAMPLE.read_bytes())
    assert (result.score, result.input_edges) == (1.0, 0)


def test_unreadable_bytes_are_refused_clearly() -> None:
    with pytest.raises(ImageCorrupt):
        structure_score(b"not an image", quality_pairs.SAMPLE.read_bytes())
