"""Structure-preservation score: does a generated image keep the room's architecture?

Both images are reduced to a small grey analysis size (the output is resized to the input's), lightly
blurred, and turned into oriented edge maps (Sobel; four orientation bins). An input edge pixel is
*kept* when the output has an edge of a compatible orientation within ``tolerance`` of it, so small
shifts from the model's resampling do not count, and a moved wall, a shifted frame or a mirrored
room does.

Where furniture goes: staging adds furniture on the floor and against the walls up to about
sofa-back height, which hides the lower part of the architecture and adds edges of its own. In an
eye-level photo that is the band below the horizon, across the whole width (sideboards stand by
side walls too), not just the lower middle. So edges below ``furniture_line`` count only lightly
(``furniture_weight``) in the recall and not at all in the precision; the walls, openings and
ceiling above it carry the score. Tall furniture (wardrobes, shelves, floor lamps) still costs a
little there; that is why the recall is tolerant and the threshold not too strict.

Parts (all in [0, 1]):
- ``recall``: weighted share of the input's strong edges kept in the output (architecture kept);
- ``precision``: share of the output's strong edges above the furniture line that have some input
  gradient near them (no walls or openings invented there; pictures on walls cost a little);
- ``worst_region``: the lowest recall among the regions above the furniture line that have enough
  structure (a 4 x 2 grid): a window painted over or a door removed shows here even when the
  rest of the room is intact;
- ``score = F2(recall, precision) * sqrt(worst_region)``; F2 weights recall above precision.

Calibration pairs and their scores: docs/quality.md (tests/unit/test_structure_score.py).
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from shared.domain.errors import ImageCorrupt

ANALYSIS_LONG_EDGE = 384
"""Long edge (px) both images are compared at; keeps the score well under 300 ms at 2048 px."""
TOLERANCE = 0.011
"""How far (share of the long edge) an edge may move and still count as kept: 4 px at 384."""
FURNITURE_LINE = 0.58
"""Share of the height below which furniture is expected (from the top)."""
FURNITURE_WEIGHT = 0.25
STRONG_PERCENTILE = 90.0
"""An image's strong edges: its top 10 % gradient magnitudes (contrast-independent)."""
WEAK_PERCENTILE = 78.0
"""Edges a strong edge of the other image may be matched to."""
MIN_MAGNITUDE = 24.0
"""Sobel magnitude (0-255 grey scale) under which nothing is an edge: noise, flat paint."""
GRID = (4, 2)
MIN_REGION_SHARE = 0.02
"""A region counts towards ``worst_region`` when this share of its pixels are strong input edges."""
_BINS = 4


@dataclass(frozen=True)
class StructureScore:
    score: float
    recall: float
    precision: float
    worst_region: float
    input_edges: int
    """Strong edge pixels of the input at the analysis size (0: nothing to compare; score 1)."""
    width: int
    height: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _grey(data: bytes, size: tuple[int, int] | None) -> np.ndarray:
    try:
        opened = Image.open(io.BytesIO(data))
        target = size or (ANALYSIS_LONG_EDGE, ANALYSIS_LONG_EDGE)
        opened.draft("L", (target[0] * 2, target[1] * 2))  # JPEG: decode at a reduced scale
        image = ImageOps.exif_transpose(opened).convert("L")
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise ImageCorrupt(f"cannot read the image: {error}") from error
    if size is None:
        scale = ANALYSIS_LONG_EDGE / max(image.size)
        size = (max(16, round(image.width * scale)), max(16, round(image.height * scale)))
    image = image.resize(size, Image.Resampling.BOX if image.width >= size[0] else Image.Resampling.BILINEAR)
    image = image.filter(ImageFilter.GaussianBlur(1.0))
    return np.asarray(image, dtype=np.float32)


def _gradients(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sobel magnitude (scaled to a 0-255 step) and orientation in [0, pi), same shape as ``grey``."""
    padded = np.pad(grey, 1, mode="edge")
    gx = (
        padded[:-2, 2:] + 2 * padded[1:-1, 2:] + padded[2:, 2:]
        - padded[:-2, :-2] - 2 * padded[1:-1, :-2] - padded[2:, :-2]
    )  # fmt: skip
    gy = (
        padded[2:, :-2] + 2 * padded[2:, 1:-1] + padded[2:, 2:]
        - padded[:-2, :-2] - 2 * padded[:-2, 1:-1] - padded[:-2, 2:]
    )  # fmt: skip
    magnitude = np.hypot(gx, gy) / 4.0
    angle = np.mod(np.arctan2(gy, gx), np.pi)
    return magnitude, angle


def _edges(magnitude: np.ndarray, percentile: float) -> np.ndarray:
    threshold = max(MIN_MAGNITUDE, float(np.percentile(magnitude, percentile)))
    return magnitude >= threshold


def _nearest_bin(angle: np.ndarray) -> np.ndarray:
    return np.round(angle / (np.pi / _BINS)).astype(np.int8) % _BINS


def _bin_masks(edges: np.ndarray, angle: np.ndarray) -> list[np.ndarray]:
    """Per orientation bin, the edges within 35 degrees of it (an edge may be in two bins)."""
    masks = []
    for index in range(_BINS):
        centre = index * np.pi / _BINS
        distance = np.abs(np.mod(angle - centre + np.pi / 2, np.pi) - np.pi / 2)
        masks.append(edges & (distance <= np.radians(35)))
    return masks


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation by a (2r+1) square, separably with shifted ORs."""
    out = mask.copy()
    for shift in range(1, radius + 1):
        out[shift:, :] |= mask[:-shift, :]
        out[:-shift, :] |= mask[shift:, :]
    rows = out.copy()
    for shift in range(1, radius + 1):
        out[:, shift:] |= rows[:, :-shift]
        out[:, :-shift] |= rows[:, shift:]
    return out


def _kept(strong: np.ndarray, strong_angle: np.ndarray, near: list[np.ndarray]) -> np.ndarray:
    """Strong edge pixels that have a compatible edge of the other image near them."""
    bins = _nearest_bin(strong_angle)
    kept = np.zeros_like(strong)
    for index in range(_BINS):
        kept |= strong & (bins == index) & near[index]
    return kept


def structure_score(before: bytes, after: bytes) -> StructureScore:
    """How well ``after`` keeps the architecture of ``before`` (any sizes; ``after`` is resized)."""
    grey_before = _grey(before, None)
    height, width = grey_before.shape
    grey_after = _grey(after, (width, height))
    radius = max(1, round(TOLERANCE * max(width, height)))

    mag_b, ang_b = _gradients(grey_before)
    mag_a, ang_a = _gradients(grey_after)
    strong_b = _edges(mag_b, STRONG_PERCENTILE)
    strong_a, weak_a = _edges(mag_a, STRONG_PERCENTILE), _edges(mag_a, WEAK_PERCENTILE)
    near_a = [_dilate(mask, radius) for mask in _bin_masks(weak_a, ang_a)]
    near_b = _dilate(mag_b >= MIN_MAGNITUDE / 2, radius)

    line = round(FURNITURE_LINE * height)
    weights = np.ones((height, 1), dtype=np.float32)
    weights[line:] = FURNITURE_WEIGHT

    kept_b = _kept(strong_b, ang_b, near_a)
    input_edges = int(strong_b.sum())
    if input_edges == 0:
        return StructureScore(1.0, 1.0, 1.0, 1.0, 0, width, height)
    recall = float((kept_b * weights).sum() / max((strong_b * weights).sum(), 1e-9))

    upper_a = strong_a[:line]
    found_a = upper_a & near_b[:line]
    precision = float(found_a.sum() / upper_a.sum()) if upper_a.any() else 0.0

    worst = 1.0
    columns, rows = GRID
    for row in range(rows):
        for column in range(columns):
            y0, y1 = row * line // rows, (row + 1) * line // rows
            x0, x1 = column * width // columns, (column + 1) * width // columns
            region = strong_b[y0:y1, x0:x1]
            if region.sum() >= MIN_REGION_SHARE * region.size:
                worst = min(worst, float(kept_b[y0:y1, x0:x1].sum() / region.sum()))

    beta2 = 4.0
    denominator = beta2 * precision + recall
    f2 = (1 + beta2) * precision * recall / denominator if denominator > 0 else 0.0
    score = f2 * np.sqrt(worst)
    return StructureScore(
        score=round(float(min(1.0, max(0.0, score))), 4),
        recall=round(recall, 4),
        precision=round(precision, 4),
        worst_region=round(worst, 4),
        input_edges=input_edges,
        width=width,
        height=height,
    )
