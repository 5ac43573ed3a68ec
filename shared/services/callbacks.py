"""Provider callbacks: verify who sent them, then hand the design to the worker.

The signature (and its timestamp tolerance) is checked before the body is even parsed. The API
only decides whether the report concerns the design's own, unfinished prediction; the worker then
collects it (with the provider token and the bucket rights the API does not hold) exactly as its
polling fallback would. The design's own state is the replay guard: a prediction already stored,
or a design past ``generating``, makes a repeated or late callback a no-op.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum
from typing import Protocol

from pydantic import ValidationError

from shared.domain.design import Design
from shared.domain.errors import CallbacksNotInUse, DesignBusy, DesignNotFound, ValidationFailed
from shared.domain.messages import GenerationMessage
from shared.domain.ports import JobQueue
from shared.domain.status import DesignStatus
from shared.observability import logger
from shared.providers.registry import uses_callbacks
from shared.settings import Settings


class CallbackResult(StrEnum):
    QUEUED = "queued"
    """The worker collects the prediction now (and finalizes the design if it was the last one)."""
    ALREADY_DONE = "already_done"
    """A replay, or a late report for a design that has finished."""
    IGNORED = "ignored"
    """Not the design's prediction, or not a final report."""
    MISSING = "missing"
    """No such design (deleted, or never ours): acknowledged so the provider stops retrying."""


FINAL_STATUSES = frozenset({"succeeded", "failed", "canceled"})


class DesignLookup(Protocol):
    def get(self, tenant_id: str, design_id: str) -> Design: ...


class PredictionCallbacks:
    """Turns a verified "prediction finished" report into at most one job for the worker."""

    def __init__(self, *, settings: Settings, designs: DesignLookup, jobs: JobQueue) -> None:
        self._settings = settings
        self._designs = designs
        self._jobs = jobs

    def receive_replicate(
        self, tenant_id: str, design_id: str, headers: Mapping[str, str], body: bytes
    ) -> CallbackResult:
        """A Replicate webhook: signature first, then the body, then ``prediction_finished``."""
        # Imported on the callback path only: the API's cold start never loads replicate.
        from shared.providers.replicate import PredictionReport, verify_webhook, webhook_secret

        settings = self._settings
        if not uses_callbacks(settings):
            # Nothing here sends callbacks: to the internet the route does not exist (no 5xx for
            # scanners to find, no alarm for the operator).
            raise CallbacksNotInUse("Not Found")
        verify_webhook(
            headers, body, webhook_secret(settings), tolerance=settings.replicate_webhook_tolerance_seconds
        )
        try:
            report = PredictionReport.model_validate(json.loads(body))
        except (ValueError, ValidationError):
            raise ValidationFailed("the callback body is not a Replicate prediction") from None
        return self.prediction_finished(tenant_id, design_id, report.id, report.status)

    def prediction_finished(
        self, tenant_id: str, design_id: str, prediction_id: str, status: str
    ) -> CallbackResult:
        if status not in FINAL_STATUSES:
            return CallbackResult.IGNORED
        try:
            design = self._designs.get(tenant_id, design_id)
        except DesignNotFound:
            return CallbackResult.MISSING
        if design.status.is_terminal:
            return CallbackResult.ALREADY_DONE
        predictions = design.predictions
        if predictions is None:
            if design.status in (DesignStatus.QUEUED, DesignStatus.PREPARING, DesignStatus.GENERATING):
                # The worker is still creating or recording it: the provider asks again later.
                raise DesignBusy(f"design {design_id} has not recorded its prediction yet")
            return CallbackResult.IGNORED
        if prediction_id not in predictions.ids:
            logger.warning(
                "callback for a prediction that is not the design's",
                extra={"design_id": design_id, "prediction_id": prediction_id},
            )
            return CallbackResult.IGNORED
        if prediction_id in predictions.done or design.status is not DesignStatus.GENERATING:
            return CallbackResult.ALREADY_DONE
        # No check token: this job is not part of the polling chain, and never superseded by it.
        self._jobs.enqueue(GenerationMessage(tenant_id=tenant_id, design_id=design_id))
        return CallbackResult.QUEUED
