"""The offline (heuristic) photo analyser: honest about what image statistics can tell."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from shared.domain.quality import DEFAULT_NOT_A_ROOM_CONFIDENCE, AnalysisSource
from shared.imaging.photo_stats import HeuristicPhotoAnalyser
from tests import quality_pairs
from tests.conftest import room_photo

analyser = HeuristicPhotoAnalyser()


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_a_blue_image_with_a_yellow_circle_is_confidently_not_a_room() -> None:
    image = Image.new("RGB", (1200, 800), (30, 80, 200))
    ImageDraw.Draw(image).ellipse((450, 250, 750, 550), fill=(250, 220, 40))
    analysis = analyser.analyse(jpeg(image))
    assert (analysis.is_room, analysis.source) == (False, AnalysisSource.HEURISTIC)
    assert analysis.refuses(DEFAULT_NOT_A_ROOM_CONFIDENCE)
    assert analysis.reason is not None
    assert "flat graphic" in analysis.reason


def test_a_blank_frame_is_not_a_room() -> None:
    assert analyser.analyse(jpeg(Image.new("RGB", (640, 480), "white"))).refuses(
        DEFAULT_NOT_A_ROOM_CONFIDENCE
    )


def test_a_room_photo_is_probably_a_room_with_low_confidence_and_no_invented_details() -> None:
    analysis = analyser.analyse(quality_pairs.SAMPLE.read_bytes())
    assert (analysis.status, analysis.is_room) == ("analysed", True)
    assert analysis.confidence <= 0.3
    assert (analysis.room_type, analysis.furnished) == (None, None)  # statistics cannot tell
    assert (analysis.too_dark, analysis.too_blurry) == (False, False)
    assert not analysis.refuses(0.0)


def test_the_test_suites_drawn_room_is_not_refused() -> None:
    assert not analyser.analyse(room_photo()).refuses(DEFAULT_NOT_A_ROOM_CONFIDENCE)


def test_a_dark_photo_is_too_dark_but_not_blurry() -> None:
    dark = ImageEnhance.Brightness(quality_pairs.sample()).enhance(0.2)
    analysis = analyser.analyse(jpeg(dark))
    assert (analysis.too_dark, analysis.too_blurry) == (True, False)
    assert analysis.suggestions == ("retake_brighter",)


def test_a_blurred_photo_is_too_blurry() -> None:
    blurred = quality_pairs.sample().filter(ImageFilter.GaussianBlur(8))
    analysis = analyser.analyse(jpeg(blurred))
    assert (analysis.too_blurry, analysis.too_dark) == (True, False)
    assert analysis.suggestions == ("retake_sharper",)


def test_unreadable_bytes_skip_the_analysis() -> None:
    analysis = analyser.analyse(b"garbage")
    assert (analysis.status, analysis.reason) == ("skipped", "unreadable_image")
