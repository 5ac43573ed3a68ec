"""The quality gate's vocabulary: structure scores of outputs and analyses of input photos.

Pure: the numbers come from ``shared.imaging.structure`` and the analysers
(``shared.adapters.bedrock_analysis``, ``shared.imaging.photo_stats``); docs/quality.md.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_STRUCTURE_THRESHOLD = 0.55
"""Below this the output is regenerated, then flagged (calibration: docs/quality.md)."""
DEFAULT_STRUCTURE_RETRIES = 1
MAX_STRUCTURE_RETRIES = 3
DEFAULT_NOT_A_ROOM_CONFIDENCE = 0.8
"""A photo judged not a room with at least this confidence fails the design with ``not_a_room``."""
AUTO_ROOM_TYPE = "auto"
"""``room_type`` that takes the analysed room type (``fallback`` when the analysis cannot tell)."""
FALLBACK_ROOM_TYPE = "living_room"

Score = Annotated[float, Field(ge=0.0, le=1.0)]


class QualityPolicy(BaseModel):
    """A tenant's own quality settings; ``None`` means the deployment's default."""

    model_config = ConfigDict(frozen=True)

    structure_threshold: Score | None = None
    structure_retries: Annotated[int, Field(ge=0, le=MAX_STRUCTURE_RETRIES)] | None = None


class OutputQuality(BaseModel):
    """How one output kept the room: its score, how many generations it took, and the verdict."""

    model_config = ConfigDict(frozen=True)

    structure_score: Score
    structure_ok: bool
    attempts: int = Field(ge=1)
    """Generations of this variant, the first included (``attempts - 1`` were regenerations)."""
    threshold: Score
    seed: int
    """The seed of the kept image."""
    recall: Score | None = None
    precision: Score | None = None
    worst_region: Score | None = None


def next_seed(seed: int, *, variants: int, index: int, attempt: int, max_seed: int) -> int:
    """Seed of regeneration ``attempt`` (1, 2, ...) of variant ``index``; variant ``i`` first used
    ``seed + i``, so ``seed + i + attempt * variants`` never repeats another variant's seed."""
    return (seed + index + attempt * variants) % (max_seed + 1)


class AnalysisSource(StrEnum):
    BEDROCK = "bedrock"
    HEURISTIC = "heuristic"
    NONE = "none"


class PhotoAnalysis(BaseModel):
    """What the analyser said about a room photo, or why it said nothing (``status: skipped``)."""

    model_config = ConfigDict(frozen=True)

    status: Literal["analysed", "skipped"]
    source: AnalysisSource
    is_room: bool | None = None
    room_type: str | None = None
    """A catalogue room type id, or None when the analyser could not tell."""
    furnished: bool | None = None
    too_dark: bool | None = None
    too_blurry: bool | None = None
    confidence: Score = 0.0
    """How sure the analyser is of ``is_room`` (heuristic answers stay low but for degenerate images)."""
    suggestions: tuple[str, ...] = ()
    """``declutter_first`` (furnished), ``retake_brighter``, ``retake_sharper``."""
    reason: str | None = None
    """Why the analysis was skipped (throttled, refused, malformed_output, timeout, ...), or the
    analyser's short explanation."""
    model_id: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_ms: int | None = None
    estimated_cost_usd: float = 0.0

    def refuses(self, threshold: float) -> bool:
        """True when the photo is confidently not a room: the design must not spend GPU on it."""
        return self.status == "analysed" and self.is_room is False and self.confidence >= threshold


def skipped(reason: str, *, source: AnalysisSource, model_id: str | None = None) -> PhotoAnalysis:
    return PhotoAnalysis(status="skipped", source=source, reason=reason, model_id=model_id)


def suggestions_for(
    *, furnished: bool | None, too_dark: bool | None, too_blurry: bool | None
) -> tuple[str, ...]:
    found = []
    if furnished:
        found.append("declutter_first")
    if too_dark:
        found.append("retake_brighter")
    if too_blurry:
        found.append("retake_sharper")
    return tuple(found)
