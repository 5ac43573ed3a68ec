"""The quality gate: photo analysis before any GPU time, and the structure check after it.

The generation pipeline calls it at two points (docs/quality.md):

1. ``check_photo`` once the photo is prepared, before the provider is called: the analysis is
   stored on the design; a photo confidently judged not a room fails the design (``not_a_room``,
   quota refunded); ``room_type: "auto"`` takes the detected type.
2. ``review`` once the images are stored, before they are rendered: each variant is scored against
   the prepared input; below the tenant's threshold it is regenerated with the next seed, up to the
   tenant's retry count, and the best image is kept, flagged ``structure_ok: false`` if still below.

A variant's verdict is written to ``work/.../quality/{i}.json`` before the next one is reviewed, so a
redelivered message never pays for the same regeneration twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from aws_lambda_powertools import Logger
from pydantic import BaseModel

from shared.domain.design import MAX_SEED, Brief, Design
from shared.domain.errors import NotARoom, RoomcraftError, TenantNotFound
from shared.domain.ports import ObjectStore, TenantStore
from shared.domain.quality import (
    AUTO_ROOM_TYPE,
    FALLBACK_ROOM_TYPE,
    AnalysisSource,
    OutputQuality,
    PhotoAnalysis,
    QualityPolicy,
    next_seed,
    skipped,
)
from shared.imaging.structure import StructureScore, structure_score
from shared.providers.base import GeneratedImage
from shared.settings import Settings

logger = Logger(service="roomcraft", child=True)


class PhotoAnalyser(Protocol):
    def analyse(self, image: bytes) -> PhotoAnalysis: ...


@dataclass(frozen=True)
class Regenerated:
    image: GeneratedImage
    provider_seconds: float
    estimated_cost_usd: float


Regenerate = Callable[[int, int], Regenerated | None]
"""``(variant index, seed)`` -> a new image for that variant, or None when none could be made."""


class VariantVerdict(BaseModel):
    """``work/.../quality/{i}.json``: the verdict on one variant and what its regenerations cost."""

    quality: OutputQuality
    provider_seconds: float = 0.0
    estimated_cost_usd: float = 0.0


@dataclass(frozen=True)
class Review:
    verdicts: tuple[VariantVerdict, ...]

    @property
    def regenerations(self) -> int:
        return sum(v.quality.attempts - 1 for v in self.verdicts)

    @property
    def provider_seconds(self) -> float:
        return sum(v.provider_seconds for v in self.verdicts)

    @property
    def estimated_cost_usd(self) -> float:
        return sum(v.estimated_cost_usd for v in self.verdicts)


def verdict_key(design: Design, index: int) -> str:
    return f"work/{design.tenant_id}/{design.design_id}/quality/{index}.json"


class QualityGate:
    def __init__(
        self,
        *,
        settings: Settings,
        analyser: PhotoAnalyser,
        tenants: TenantStore,
        work_bucket: ObjectStore,
        score: Callable[[bytes, bytes], StructureScore] = structure_score,
    ) -> None:
        self._settings = settings
        self._analyser = analyser
        self._tenants = tenants
        self._work = work_bucket
        self._score = score

    # --- 1. before generation ------------------------------------------------------------
    def analyse(self, prepared: bytes) -> PhotoAnalysis:
        """The analyser's answer; a failure of the analyser itself is a skipped analysis, never an error."""
        try:
            return self._analyser.analyse(prepared)
        except Exception:
            logger.exception("photo analyser failed")
            return skipped("analyser_error", source=AnalysisSource.NONE)

    def check_photo(self, design: Design, prepared: bytes) -> tuple[PhotoAnalysis, Brief]:
        """The analysis and the brief to generate with; raises ``NotARoom`` for a confident refusal."""
        analysis = self.analyse(prepared)
        threshold = self._settings.not_a_room_confidence
        if analysis.refuses(threshold):
            because = f": {analysis.reason}" if analysis.reason else ""
            raise NotARoom(
                f"the photo does not look like an interior room ({analysis.source.value}, confidence "
                f"{analysis.confidence:.2f} >= {threshold:.2f}){because}; the quota unit was not used"
            )
        brief = design.brief
        if brief.room_type == AUTO_ROOM_TYPE:
            brief = brief.model_copy(update={"room_type": analysis.room_type or FALLBACK_ROOM_TYPE})
        return analysis, brief

    # --- 2. after generation -------------------------------------------------------------
    def policy_for(self, tenant_id: str) -> tuple[float, int]:
        """``(threshold, retries)``: the tenant's own, else the deployment's defaults."""
        try:
            own = self._tenants.get(tenant_id).quality
        except TenantNotFound:  # designs of a tenant deleted since: the deployment's defaults
            own = QualityPolicy()
        threshold = own.structure_threshold
        retries = own.structure_retries
        return (
            self._settings.structure_threshold if threshold is None else threshold,
            self._settings.structure_retries if retries is None else retries,
        )

    def review(
        self,
        design: Design,
        *,
        prepared: bytes,
        read_generated: Callable[[int], bytes],
        write_generated: Callable[[int, GeneratedImage], None],
        regenerate: Regenerate,
        indices: Sequence[int] | None = None,
    ) -> Review:
        """Verdicts on the variants ``indices`` (all of the brief's by default), in that order."""
        threshold, retries = self.policy_for(design.tenant_id)
        verdicts = []
        for index in range(design.brief.variants) if indices is None else indices:
            key = verdict_key(design, index)
            if self._work.size_of(key) is not None:  # reviewed by an earlier attempt
                verdicts.append(VariantVerdict.model_validate_json(self._work.read(key, max_bytes=64 * 1024)))
                continue
            verdict = self._review_variant(
                design,
                index,
                prepared,
                read_generated(index),
                threshold,
                retries,
                write_generated,
                regenerate,
            )
            self._work.write(key, verdict.model_dump_json().encode(), content_type="application/json")
            verdicts.append(verdict)
        return Review(tuple(verdicts))

    def _review_variant(
        self,
        design: Design,
        index: int,
        prepared: bytes,
        generated: bytes,
        threshold: float,
        retries: int,
        write_generated: Callable[[int, GeneratedImage], None],
        regenerate: Regenerate,
    ) -> VariantVerdict:
        best = self._scored(prepared, generated)
        best_seed = design.brief.seed + index
        attempts, seconds, cost = 1, 0.0, 0.0
        while best is not None and best.score < threshold and attempts <= retries:
            seed = next_seed(
                design.brief.seed,
                variants=design.brief.variants,
                index=index,
                attempt=attempts,
                max_seed=MAX_SEED,
            )
            try:
                fresh = regenerate(index, seed)
            except RoomcraftError as error:  # the first image stays; the flag says it was not fixed
                logger.warning(
                    "regeneration failed", extra={"design_id": design.design_id, "code": error.code}
                )
                fresh = None
            if fresh is None:
                break
            attempts += 1
            seconds += fresh.provider_seconds
            cost += fresh.estimated_cost_usd
            scored = self._scored(prepared, fresh.image.data)
            if scored is not None and scored.score > best.score:
                write_generated(index, fresh.image)
                best, best_seed = scored, seed
        if best is None:  # the output could not be read: it fails later, in rendering
            best = StructureScore(0.0, 0.0, 0.0, 0.0, 0, 0, 0)
        logger.info(
            "structure reviewed",
            extra={"design_id": design.design_id, "index": index, "score": best.score, "attempts": attempts},
        )
        return VariantVerdict(
            quality=OutputQuality(
                structure_score=best.score,
                structure_ok=best.score >= threshold,
                attempts=attempts,
                threshold=threshold,
                seed=best_seed,
                recall=best.recall,
                precision=best.precision,
                worst_region=best.worst_region,
            ),
            provider_seconds=round(seconds, 3),
            estimated_cost_usd=round(cost, 6),
        )

    def _scored(self, prepared: bytes, generated: bytes) -> StructureScore | None:
        try:
            return self._score(prepared, generated)
        except RoomcraftError:
            return None


def wait_for(poll: Callable[[], object], *, until: float, interval: float = 2.0) -> object | None:
    """Poll until ``poll`` returns something other than None or the monotonic deadline passes."""
    while True:
        result = poll()
        if result is not None:
            return result
        if time.monotonic() + interval > until:
            return None
        time.sleep(interval)
