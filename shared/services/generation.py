"""The generation pipeline the worker runs for one design: prepare → generate → finalize.

Every step starts from the stored status, so a redelivered or resumed message continues where
the last attempt stopped instead of starting again; a lease keeps two workers off one design,
and each step's results are stored before the status moves past it.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from aws_lambda_powertools import Logger
from pydantic import BaseModel

from shared.domain.clock import utcnow
from shared.domain.design import Design, OutputImage, Predictions, StoredVariant
from shared.domain.errors import (
    ConcurrentUpdate,
    DesignBusy,
    DesignNotFound,
    ProviderFailed,
    ProviderOutputInvalid,
    ProviderTimeout,
    RoomcraftError,
)
from shared.domain.events import OutputSummary, stored_status_event, with_status_event
from shared.domain.ids import new_id
from shared.domain.messages import GenerationMessage
from shared.domain.ports import DesignStore, EventSink, ImageFetcher, ObjectStore, OutputStore
from shared.domain.prompts import build_prompt
from shared.domain.quality import OutputQuality
from shared.domain.status import DesignStatus
from shared.domain.styles import get_room_type, get_style
from shared.imaging.prepare import prepare_image
from shared.imaging.variants import render_output
from shared.providers.base import (
    Completed,
    GeneratedImage,
    GenerationRequest,
    InferenceProvider,
    Pending,
    PredictionProvider,
)
from shared.services.quality import QualityGate, Regenerated, wait_for
from shared.settings import Settings

logger = Logger(service="roomcraft", child=True)

ProviderLookup = Callable[[str], InferenceProvider]

SQS_MAX_DELAY_SECONDS = 900
INVOCATION_RESERVE_SECONDS = 15.0
"""Time an invocation keeps after a source fetch to fail the design, publish and settle."""
MIN_FETCH_SECONDS = 1.0

TimeLeft = Callable[[], float]
"""Seconds left in this invocation (Lambda's ``get_remaining_time_in_millis`` / 1000)."""


class CheckQueue(Protocol):
    """Where the polling fallback puts its delayed "check the prediction" messages."""

    def enqueue_later(self, message: GenerationMessage, *, delay_seconds: int) -> None: ...


class RunResult(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    WAITING = "waiting_for_provider"
    ALREADY_DONE = "already_done"
    MISSING = "missing"
    STOPPED = "stopped"
    IGNORED = "ignored"
    """A callback or check that is not (or no longer) about this design's current prediction."""


class StoredGeneration(BaseModel):
    """``work/.../generation.json``: written before the generated images, read when resuming."""

    images: int
    provider_seconds: float
    estimated_cost_usd: float


class _Stop(Exception):
    """The design moved to a terminal status (canceled) under us: nothing more to do."""


@dataclass(frozen=True)
class WorkKeys:
    """Where intermediate results live in the (private) uploads bucket."""

    tenant_id: str
    design_id: str

    @property
    def prepared(self) -> str:
        return f"work/{self.tenant_id}/{self.design_id}/input.jpg"

    def generated(self, index: int) -> str:
        return f"work/{self.tenant_id}/{self.design_id}/generated/{index}"

    @property
    def generation(self) -> str:
        """What the provider reported for the stored images (written before them)."""
        return f"work/{self.tenant_id}/{self.design_id}/generation.json"


def output_key(design: Design, index: int, variant: str, extension: str) -> str:
    return (
        f"designs/{design.tenant_id}/{design.design_id}/{design.storage_token}/{index}/{variant}.{extension}"
    )


def output_summaries(design: Design, url_for: Callable[[str], str]) -> tuple[OutputSummary, ...]:
    summaries = []
    for output in design.outputs:
        full = output.variant("full") or output.variants[0]
        thumb = output.variant("thumb")
        summaries.append(
            OutputSummary(
                index=output.index,
                url=url_for(full.key),
                thumbnail_url=url_for(thumb.key) if thumb else None,
                width=full.width,
                height=full.height,
                structure_score=output.quality.structure_score if output.quality else None,
                structure_ok=output.quality.structure_ok if output.quality else None,
                attempts=output.quality.attempts if output.quality else None,
            )
        )
    return tuple(summaries)


class GenerationPipeline:
    def __init__(
        self,
        *,
        settings: Settings,
        designs: DesignStore,
        work_bucket: ObjectStore,
        outputs: OutputStore,
        events: EventSink,
        fetcher: ImageFetcher,
        providers: ProviderLookup,
        clock: Callable[[], datetime] = utcnow,
        worker_id: str | None = None,
        inbox: ObjectStore | None = None,
        checks: CheckQueue | None = None,
        on_terminal: Callable[[Design], None] | None = None,
        quality: QualityGate | None = None,
    ) -> None:
        self._settings = settings
        self._designs = designs
        self._work = work_bucket
        self._outputs = outputs
        self._events = events
        self._fetcher = fetcher
        self._providers = providers
        self._clock = clock
        self._worker_id = worker_id or f"wrk-{uuid.uuid4().hex[:12]}"
        self._inbox = inbox
        """The S3 inbox bucket, where designs dropped there have their original."""
        self._checks = checks
        self._on_terminal = on_terminal
        self._quality = quality
        """Photo analysis before generation and the structure check after it (None: neither)."""
        self._invocation = threading.local()
        """What the current invocation of ``run`` (one per thread) was given: ``time_left``."""

    def run(
        self, message: GenerationMessage, *, receive_count: int = 1, time_left: TimeLeft | None = None
    ) -> RunResult:
        try:
            design = self._designs.get(message.tenant_id, message.design_id)
        except DesignNotFound:
            logger.warning("design not found; dropping message", extra={"design_id": message.design_id})
            return RunResult.MISSING
        if receive_count > 1 or message.announce:
            self._announce_again(design)
        if design.status.is_terminal:
            if design.status is not DesignStatus.SUCCEEDED and design.predictions is not None:
                # Canceled through the API, or failed by a callback there; the API holds no provider
                # credentials, so predictions still running are stopped here.
                self._cancel_predictions(design.provider, design.predictions.outstanding)
            self._settle(design)  # idempotent: completes a settlement a failed delivery did not finish
            return RunResult.ALREADY_DONE
        if message.check is not None and (
            design.predictions is None or design.predictions.check != message.check
        ):
            return RunResult.IGNORED  # a check from an older polling chain: the current one carries on
        if not self._designs.acquire_lease(
            design, self._worker_id, now=self._clock(), seconds=self._settings.lease_seconds
        ):
            raise DesignBusy(f"design {design.design_id} is being worked on by another worker")
        self._invocation.time_left = time_left  # the quality gate's regenerations stay within it
        try:
            return self._advance(design, receive_count, time_left)
        finally:
            self._invocation.time_left = None
            self._designs.release_lease(design, self._worker_id)

    # --- steps -----------------------------------------------------------------------
    def _advance(self, design: Design, receive_count: int, time_left: TimeLeft | None = None) -> RunResult:
        try:
            if design.status is DesignStatus.QUEUED:
                design = self._move(design, DesignStatus.PREPARING)
            if design.status is DesignStatus.PREPARING:
                design = self._prepare(design, time_left)
            if design.status is DesignStatus.GENERATING:
                design, finished = self._generate(design, resumed=receive_count > 1)
                if not finished:
                    return RunResult.WAITING
            if design.status is DesignStatus.FINALIZING:
                design = self._finalize(design)
            return RunResult.SUCCEEDED if design.status is DesignStatus.SUCCEEDED else RunResult.FAILED
        except _Stop:
            return RunResult.STOPPED
        except RoomcraftError as error:
            if error.retryable and receive_count < self._settings.max_attempts:
                raise
            self._fail(design, error.code, error.message)
            return RunResult.FAILED
        except Exception:
            if receive_count < self._settings.max_attempts:
                raise
            logger.exception("giving up on design after repeated failures")
            self._fail(
                design,
                "internal_error",
                "staging failed on our side; the quota unit was given back unless the model had already run",
            )
            return RunResult.FAILED

    def _fetch_deadline(self, time_left: TimeLeft | None) -> float:
        """The source fetch's whole time: the setting, within what this invocation has left."""
        deadline = self._settings.source_fetch_deadline_seconds
        if time_left is not None:
            deadline = min(deadline, max(MIN_FETCH_SECONDS, time_left() - INVOCATION_RESERVE_SECONDS))
        return deadline

    def _prepare(self, design: Design, time_left: TimeLeft | None = None) -> Design:
        keys = WorkKeys(design.tenant_id, design.design_id)
        source = design.source
        if source.key is not None:
            original = self._work.read(source.key, max_bytes=self._settings.max_upload_bytes)
        elif source.inbox is not None:
            assert self._inbox is not None, "this worker was built without the inbox bucket"
            original = self._inbox.read(source.inbox.key, max_bytes=self._settings.max_upload_bytes)
        else:
            assert source.url is not None
            original = self._fetcher.fetch(
                source.url,
                max_bytes=self._settings.max_upload_bytes,
                deadline_seconds=self._fetch_deadline(time_left),
            )
        prepared = prepare_image(
            original,
            max_bytes=self._settings.max_upload_bytes,
            max_pixels=self._settings.max_pixels,
            target_long_edge=self._settings.model_input_long_edge,
        )
        self._work.write(keys.prepared, prepared.data, content_type="image/jpeg")
        new_source = source.model_copy(
            update={
                "prepared_key": keys.prepared,
                "width": prepared.source_width,
                "height": prepared.source_height,
                "prepared_width": prepared.width,
                "prepared_height": prepared.height,
            }
        )
        checked: dict[str, object] = {}
        if self._quality is not None:
            analysis, brief = self._quality.check_photo(design, prepared.data)  # NotARoom: fails, refunded
            checked = {"analysis": analysis, "brief": brief}
        provider = self._providers(design.provider)
        # Stored with the move to generating, the write before the first (paid) provider call: a
        # later failure of ours is not refunded (docs/tenants.md); no extra write for it.
        return self._move(
            design,
            DesignStatus.GENERATING,
            expected=provider.typical_seconds,
            source=new_source,
            provider_started_at=self._clock(),
            **checked,
        )

    def _generate(self, design: Design, *, resumed: bool = False) -> tuple[Design, bool]:
        if design.predictions is not None or design.prediction_id is not None:
            # Started before (a redelivery, or a delayed check): resume, never start a second one.
            return self._collect(design)
        keys = WorkKeys(design.tenant_id, design.design_id)
        stored = self._stored_generation(keys) if resumed else None
        if stored is not None:
            # An earlier attempt stored the images and died before moving on: never pay twice.
            return self._move(design, DesignStatus.FINALIZING, expected=2.0, **stored), True
        provider = self._providers(design.provider)
        outcome = provider.start(self._generation_request(design, self._prepared(design)))
        if not isinstance(outcome, Completed):
            waiting = self._record_pending(design, outcome)
            return self._schedule_check(waiting), False
        if not outcome.images:
            raise ProviderOutputInvalid(f"the provider made no image; {design.brief.variants} were asked for")
        generation = StoredGeneration(
            images=len(outcome.images),
            provider_seconds=round(outcome.provider_seconds, 3),
            estimated_cost_usd=outcome.estimated_cost_usd,
        )
        self._work.write(
            keys.generation, generation.model_dump_json().encode(), content_type="application/json"
        )
        for index, image in enumerate(outcome.images):
            metadata = {"content-type": image.content_type, **image.metadata}
            self._work.write(
                keys.generated(index), image.data, content_type=image.content_type, metadata=metadata
            )
        design = self._move(
            design,
            DesignStatus.FINALIZING,
            expected=2.0,
            provider_seconds=generation.provider_seconds,
            estimated_cost_usd=generation.estimated_cost_usd,
        )
        return design, True

    def _prepared(self, design: Design) -> bytes:
        assert design.source.prepared_key is not None
        return self._work.read(design.source.prepared_key, max_bytes=self._settings.max_upload_bytes)

    def _generation_request(self, design: Design, prepared: bytes) -> GenerationRequest:
        room_type, style = get_room_type(design.brief.room_type), get_style(design.brief.style)
        palette = design.brief.palette or style.palette
        prompt = build_prompt(
            room_type=room_type, style=style, palette=palette, user_prompt=design.brief.prompt
        )
        return GenerationRequest(
            design_id=design.design_id,
            image=prepared,
            width=design.source.prepared_width or 0,
            height=design.source.prepared_height or 0,
            room_type=room_type.id,
            style=style.id,
            palette=tuple(palette),
            prompt=prompt.positive,
            negative_prompt=prompt.negative,
            variants=design.brief.variants,
            seed=design.brief.seed,
            tenant_id=design.tenant_id,
            guidance=self._settings.generation_guidance,
            steps=self._settings.generation_steps,
        )

    def _stored_generation(self, keys: WorkKeys) -> dict[str, float] | None:
        """The provider's results from an earlier attempt, if every image of it was stored."""
        if self._work.size_of(keys.generation) is None:
            return None
        stored = StoredGeneration.model_validate_json(self._work.read(keys.generation, max_bytes=64 * 1024))
        if stored.images < 1 or any(
            self._work.size_of(keys.generated(i)) is None for i in range(stored.images)
        ):
            return None
        return {"provider_seconds": stored.provider_seconds, "estimated_cost_usd": stored.estimated_cost_usd}

    # --- predictions that complete later (callback or polling) ---------------------------
    def _record_pending(self, design: Design, pending: Pending) -> Design:
        ids = pending.ids
        if len(ids) not in (1, design.brief.variants):
            raise ProviderFailed(
                f"the provider started {len(ids)} predictions for {design.brief.variants} variants"
            )
        now = self._clock()
        waiting = design.model_copy(
            update={
                "prediction_id": pending.prediction_id,
                "predictions": Predictions(ids=ids, started_at=now),
                "version": design.version + 1,
                "updated_at": now,
            }
        )
        try:
            self._save(design, waiting)
        except _Stop:
            self._cancel_predictions(design.provider, ids)  # canceled while we were starting them
            raise
        return waiting

    def _collect(self, design: Design) -> tuple[Design, bool]:
        predictions = self._predictions_of(design)
        provider = self._providers(design.provider)
        if not isinstance(provider, PredictionProvider):
            raise ProviderFailed(f"the {design.provider} provider cannot resume a prediction")
        elapsed = (self._clock() - predictions.started_at).total_seconds()
        if elapsed > self._settings.prediction_timeout_seconds:
            raise ProviderTimeout(
                f"the prediction did not finish within {self._settings.prediction_timeout_seconds} s; "
                "it was canceled"
            )
        for prediction_id in predictions.outstanding:
            outcome = provider.poll(prediction_id)
            if isinstance(outcome, Completed):
                design = self._store_prediction(design, prediction_id, outcome)
        if self._predictions_of(design).outstanding:
            return self._schedule_check(design), False
        return self._move(design, DesignStatus.FINALIZING, expected=2.0), True

    def _store_prediction(self, design: Design, prediction_id: str, outcome: Completed) -> Design:
        """Write one prediction's images to ``work/…/generated/{i}``, then record it as done."""
        predictions = self._predictions_of(design)
        per_prediction = design.brief.variants // len(predictions.ids)
        if not outcome.images:
            raise ProviderOutputInvalid(f"the prediction made no image; {per_prediction} were asked for")
        # Fewer than asked: a safety checker (FLUX's) dropped flagged images. The rest are paid
        # for and kept; _finalize records the missing variants as filtered.
        keys = WorkKeys(design.tenant_id, design.design_id)
        first = predictions.ids.index(prediction_id) * per_prediction
        for offset, image in enumerate(outcome.images[:per_prediction]):
            metadata = {"content-type": image.content_type, **image.metadata}
            self._work.write(
                keys.generated(first + offset), image.data, content_type=image.content_type, metadata=metadata
            )
        updated = design.model_copy(
            update={
                "predictions": predictions.model_copy(update={"done": (*predictions.done, prediction_id)}),
                "provider_seconds": round((design.provider_seconds or 0.0) + outcome.provider_seconds, 3),
                "estimated_cost_usd": round(
                    (design.estimated_cost_usd or 0.0) + outcome.estimated_cost_usd, 6
                ),
                "version": design.version + 1,
                "updated_at": self._clock(),
            }
        )
        self._save(design, updated)
        return updated

    def _schedule_check(self, design: Design) -> Design:
        """The polling fallback: one delayed message checks the prediction again (no idle Lambda)."""
        if self._checks is None:
            logger.warning("no check queue: the prediction completes by callback only")
            return design
        predictions = self._predictions_of(design)
        token = new_id("chk")
        updated = design.model_copy(
            update={
                "predictions": predictions.model_copy(update={"check": token}),
                "version": design.version + 1,
                "updated_at": self._clock(),
            }
        )
        self._save(design, updated)
        delay = self.check_delay(predictions)
        self._checks.enqueue_later(
            GenerationMessage(tenant_id=design.tenant_id, design_id=design.design_id, check=token),
            delay_seconds=delay,
        )
        logger.info("prediction check scheduled", extra={"design_id": design.design_id, "delay": delay})
        return updated

    def check_delay(self, predictions: Predictions) -> int:
        """Half the time waited so far, within [min, max] and ±10 % jitter; the last check lands
        just after the prediction's deadline, so a stuck prediction is canceled on time."""
        settings = self._settings
        elapsed = max(0.0, (self._clock() - predictions.started_at).total_seconds())
        delay = min(
            settings.prediction_check_max_seconds, max(settings.prediction_check_min_seconds, elapsed / 2)
        )
        delay *= 0.9 + 0.2 * random.random()
        until_deadline = settings.prediction_timeout_seconds - elapsed + 1
        return int(max(1, min(delay, until_deadline, SQS_MAX_DELAY_SECONDS)))

    def _predictions_of(self, design: Design) -> Predictions:
        if design.predictions is not None:
            return design.predictions
        assert design.prediction_id is not None
        return Predictions(ids=(design.prediction_id,), started_at=design.updated_at)

    def _cancel_predictions(self, provider_name: str, prediction_ids: tuple[str, ...]) -> None:
        if not prediction_ids:
            return
        try:
            provider = self._providers(provider_name)
            if isinstance(provider, PredictionProvider):
                for prediction_id in prediction_ids:
                    provider.cancel(prediction_id)
        except Exception:
            logger.exception("could not cancel predictions", extra={"prediction_ids": prediction_ids})

    # --- quality gate (docs/quality.md) ---------------------------------------------------
    def _review_structure(
        self, design: Design, made: list[int]
    ) -> tuple[dict[int, OutputQuality], dict[str, object]]:
        """Each stored variant's structure verdict (regenerating those under the threshold), keyed by
        its generated index, and the design changes that count the regenerations and their cost.
        Variants the provider filtered (FLUX's safety checker) are not stored and not reviewed."""
        if self._quality is None:
            return {}, {}
        keys = WorkKeys(design.tenant_id, design.design_id)
        prepared = self._prepared(design)
        # One budget for every regeneration of this invocation: the worker must finish within its
        # timeout, so within what the invocation has left too (less a reserve to store and announce).
        budget = self._settings.structure_retry_budget_seconds
        time_left: TimeLeft | None = getattr(self._invocation, "time_left", None)
        if time_left is not None:
            budget = min(budget, max(0.0, time_left() - INVOCATION_RESERVE_SECONDS))
        deadline = time.monotonic() + budget

        def write_generated(index: int, image: GeneratedImage) -> None:
            metadata = {"content-type": image.content_type, **image.metadata}
            self._work.write(
                keys.generated(index), image.data, content_type=image.content_type, metadata=metadata
            )

        review = self._quality.review(
            design,
            prepared=prepared,
            read_generated=lambda i: self._work.read(
                keys.generated(i), max_bytes=self._settings.max_upload_bytes
            ),
            write_generated=write_generated,
            regenerate=lambda index, seed: self._regenerate(design, prepared, seed, deadline=deadline),
            indices=made,
        )
        changes: dict[str, object] = {"regenerations": review.regenerations}
        if review.regenerations:
            changes["provider_seconds"] = round((design.provider_seconds or 0.0) + review.provider_seconds, 3)
            changes["estimated_cost_usd"] = round(
                (design.estimated_cost_usd or 0.0) + review.estimated_cost_usd, 6
            )
        return {i: verdict.quality for i, verdict in zip(made, review.verdicts, strict=True)}, changes

    def _regenerate(
        self, design: Design, prepared: bytes, seed: int, *, deadline: float
    ) -> Regenerated | None:
        """One more image with ``seed``, if the budget allows; a prediction that completes later is
        waited for until ``deadline`` (monotonic), then canceled (the first image is kept)."""
        if time.monotonic() >= deadline:
            return None
        provider = self._providers(design.provider)
        request = dataclasses.replace(self._generation_request(design, prepared), variants=1, seed=seed)
        outcome = provider.start(request)
        if isinstance(outcome, Pending):
            if not isinstance(provider, PredictionProvider):
                return None
            pending = outcome

            def poll() -> Completed | None:
                polled = provider.poll(pending.prediction_id)
                return polled if isinstance(polled, Completed) else None

            finished = wait_for(poll, until=deadline)
            if not isinstance(finished, Completed):
                self._cancel_predictions(design.provider, pending.ids)
                return None
            outcome = finished
        if not outcome.images:
            return None
        return Regenerated(outcome.images[0], outcome.provider_seconds, outcome.estimated_cost_usd)

    def _finalize(self, design: Design) -> Design:
        keys = WorkKeys(design.tenant_id, design.design_id)
        outputs: list[OutputImage] = []
        made = [i for i in range(design.brief.variants) if self._work.size_of(keys.generated(i)) is not None]
        if not made:
            raise ProviderOutputInvalid("no generated image was stored for this design")
        verdicts, quality_changes = self._review_structure(design, made)
        filtered = design.brief.variants - len(made)
        if filtered:
            logger.warning(
                "the provider filtered some variants",
                extra={"design_id": design.design_id, "filtered": filtered, "made": len(made)},
            )
        for index, generated_index in enumerate(made):
            generated = self._work.read(
                keys.generated(generated_index), max_bytes=self._settings.max_upload_bytes
            )
            preview = design.provider == "preview"
            rendered = render_output(
                generated,
                widths=self._settings.output_widths,
                thumbnail_width=self._settings.thumbnail_width,
                comment=f"roomcraft:{design.provider}:{design.design_id}",
            )
            metadata = {"design-id": design.design_id, "provider": design.provider}
            if filtered:
                metadata["variants-filtered"] = str(filtered)
            if preview:
                metadata["preview"] = "true"
            stored = []
            for variant in rendered.variants:
                key = output_key(design, index, variant.name, variant.extension)
                self._outputs.write(key, variant.data, content_type=variant.content_type, metadata=metadata)
                stored.append(
                    StoredVariant(
                        name=variant.name,
                        key=key,
                        content_type=variant.content_type,
                        width=variant.width,
                        height=variant.height,
                        bytes=len(variant.data),
                    )
                )
            outputs.append(
                OutputImage(
                    index=index,
                    variants=tuple(stored),
                    blurhash=rendered.blurhash,
                    dominant_color=rendered.dominant_color,
                    metadata=metadata,
                    quality=verdicts.get(generated_index),
                )
            )
        return self._move(
            design, DesignStatus.SUCCEEDED, expected=None, outputs=tuple(outputs), **quality_changes
        )

    # --- writes ----------------------------------------------------------------------
    def _move(
        self, design: Design, target: DesignStatus, *, expected: float | None = None, **changes: object
    ) -> Design:
        updated = design.transition(target, now=self._clock(), expected_seconds=expected, **changes)
        outputs = output_summaries(updated, self._outputs.url_for) if target is DesignStatus.SUCCEEDED else ()
        updated, event = with_status_event(updated, design.status, outputs)
        self._save(design, updated)
        try:
            self._events.publish(event)
        finally:
            # Settled even when the publish fails: the stored event is sent again by the next
            # delivery (or by ``_fail`` on the last one), the refund and batch count must not wait.
            if target.is_terminal:
                self._settle(updated)
        logger.info(
            "design moved", extra={"design_id": design.design_id, "from": design.status, "to": target}
        )
        return updated

    def _save(self, previous: Design, updated: Design) -> None:
        try:
            self._designs.save_if_unchanged(previous, updated)
        except ConcurrentUpdate:
            current = self._designs.get(previous.tenant_id, previous.design_id)
            if current.status.is_terminal:
                raise _Stop from None
            raise

    def _fail(self, design: Design, code: str, message: str) -> None:
        current = self._designs.get(design.tenant_id, design.design_id)
        if current.status.is_terminal:
            # Terminal already: this attempt's terminal publish (or another writer's) may have failed
            # after the save, and no delivery follows the last one. Send the stored event again
            # (consumers deduplicate on its id) and settle; both are idempotent.
            self._finish_terminal(current)
            return
        failed, event = with_status_event(current.fail(code, message, now=self._clock()), current.status)
        try:
            self._save(current, failed)
        except _Stop:
            return  # canceled under us: the cancel announced and settled it
        logger.info("design failed", extra={"design_id": design.design_id, "code": code})
        if current.predictions is not None:
            self._cancel_predictions(current.provider, current.predictions.outstanding)
        try:
            self._events.publish(event)
        finally:
            self._settle(failed)

    def _finish_terminal(self, design: Design) -> None:
        try:
            self._announce_again(design)
        finally:
            self._settle(design)

    def _announce_again(self, design: Design) -> None:
        """A redelivery (the last attempt may have died between a status write and its event), or
        a design whose ``design.queued`` the API could not send: send the stored event again;
        consumers deduplicate on its ``event_id``."""
        event = stored_status_event(design)
        if event is not None:
            self._events.publish(event)
            logger.info(
                "status event sent again", extra={"design_id": design.design_id, "event_id": event.event_id}
            )

    def _settle(self, design: Design) -> None:
        """Tell the terminal hook (quota refund for our failures, batch counting) the design finished."""
        if self._on_terminal is not None:
            self._on_terminal(design)
