"""The offline photo analyser: cheap image statistics, answering only what statistics can tell.

- too dark: mean luminance and the bright end of the histogram;
- too blurry: the variance of the Laplacian at a fixed analysis size (few sharp transitions);
- not a photo at all: a handful of flat colours and almost no texture (a drawing, a logo, a blank
  frame) is judged not a room *confidently*: no photo of a room looks like that;
- anything else is "probably a room" with a low confidence (0.3): statistics cannot tell a kitchen
  from a car park, so the room type and furnished/empty stay unknown (``None``).

It never pretends to be a model: ``source`` is ``heuristic`` and the ``reason`` says what it measured.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps

from shared.domain.quality import AnalysisSource, PhotoAnalysis, skipped, suggestions_for

ANALYSIS_LONG_EDGE = 512
DARK_MEAN = 55.0
"""Mean luminance (0-255) under which a photo is too dark to stage well."""
DARK_BRIGHT_END = 110.0
"""... or its 95th percentile luminance is under this (no lit surface at all)."""
BLURRY_LAPLACIAN_VARIANCE = 12.0
FLAT_COLOURS = 3
"""At most this many colours (5 bits per channel) cover 98 % of a flat graphic's pixels."""
FLAT_TEXTURE = 4.0
"""Median absolute Laplacian under which there is no photographic texture (noise, grain)."""
PHOTO_CONFIDENCE = 0.3
GRAPHIC_CONFIDENCE = 0.9


def _grey_and_colour(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    opened = Image.open(io.BytesIO(data))
    opened.draft("RGB", (ANALYSIS_LONG_EDGE * 2, ANALYSIS_LONG_EDGE * 2))
    image = ImageOps.exif_transpose(opened).convert("RGB")
    image.thumbnail((ANALYSIS_LONG_EDGE, ANALYSIS_LONG_EDGE), Image.Resampling.BOX)
    colour = np.asarray(image, dtype=np.uint8)
    grey = np.asarray(image.convert("L"), dtype=np.float32)
    return grey, colour


def _stretched(grey: np.ndarray) -> np.ndarray:
    """Contrast stretched to 0-255 (1st-99th percentile), so darkness does not read as blur."""
    low, high = np.percentile(grey, (1, 99))
    return np.clip((grey - low) * (255.0 / max(float(high - low), 1.0)), 0, 255)


def _laplacian(grey: np.ndarray) -> np.ndarray:
    return grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:] - 4 * grey[1:-1, 1:-1]


def _colours_covering(colour: np.ndarray, share: float) -> int:
    quantised = (colour >> 3).astype(np.int32)
    codes = (quantised[..., 0] << 10) | (quantised[..., 1] << 5) | quantised[..., 2]
    counts = np.sort(np.bincount(codes.ravel()))[::-1]
    covered = np.cumsum(counts) / counts.sum()
    return int(np.searchsorted(covered, share) + 1)


class HeuristicPhotoAnalyser:
    """The local cloud's analyser and the fallback when no model is configured."""

    def analyse(self, image: bytes) -> PhotoAnalysis:
        try:
            grey, colour = _grey_and_colour(image)
        except (OSError, ValueError, Image.DecompressionBombError):
            return skipped("unreadable_image", source=AnalysisSource.HEURISTIC)
        laplacian = _laplacian(_stretched(grey))
        sharpness = float(laplacian.var())
        texture = float(np.median(np.abs(laplacian)))
        colours = _colours_covering(colour, 0.98)
        mean = float(grey.mean())
        too_dark = mean < DARK_MEAN or float(np.percentile(grey, 95)) < DARK_BRIGHT_END
        flat_graphic = colours <= FLAT_COLOURS and texture < FLAT_TEXTURE
        too_blurry = not flat_graphic and sharpness < BLURRY_LAPLACIAN_VARIANCE
        measured = (
            f"mean luminance {mean:.0f}, Laplacian variance {sharpness:.1f}, "
            f"{colours} colours cover 98 % of pixels"
        )
        if flat_graphic:
            return PhotoAnalysis(
                status="analysed",
                source=AnalysisSource.HEURISTIC,
                is_room=False,
                confidence=GRAPHIC_CONFIDENCE,
                too_dark=too_dark,
                too_blurry=False,
                suggestions=suggestions_for(furnished=None, too_dark=too_dark, too_blurry=False),
                reason=f"a flat graphic, not a photograph ({measured})",
            )
        return PhotoAnalysis(
            status="analysed",
            source=AnalysisSource.HEURISTIC,
            is_room=True,
            confidence=PHOTO_CONFIDENCE,
            too_dark=too_dark,
            too_blurry=too_blurry,
            suggestions=suggestions_for(furnished=None, too_dark=too_dark, too_blurry=too_blurry),
            reason=f"not a flat graphic; statistics cannot tell a room from other photos ({measured})",
        )
