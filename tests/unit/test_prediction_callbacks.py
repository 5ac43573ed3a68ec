"""What a verified "prediction finished" report does: at most one job for the worker, or nothing."""

from __future__ import annotations

import pytest

from shared.domain.design import Design, Predictions
from shared.domain.errors import DesignBusy, DesignNotFound
from shared.domain.messages import GenerationMessage
from shared.domain.status import DesignStatus
from shared.services.callbacks import CallbackResult, PredictionCallbacks
from shared.settings import Settings
from tests.unit.test_design import T0, make_design


class Designs:
    def __init__(self, *designs: Design) -> None:
        self._designs = {d.design_id: d for d in designs}

    def get(self, tenant_id: str, design_id: str) -> Design:
        design = self._designs.get(design_id)
        if design is None or design.tenant_id != tenant_id:
            raise DesignNotFound(f"design {design_id} not found")
        return design


class Jobs:
    def __init__(self) -> None:
        self.sent: list[GenerationMessage] = []

    def enqueue(self, message: GenerationMessage) -> None:
        self.sent.append(message)


def generating(*, done: tuple[str, ...] = (), status: DesignStatus = DesignStatus.GENERATING) -> Design:
    return make_design(
        status=status, predictions=Predictions(ids=("p1", "p2"), done=done, started_at=T0, check="chk_1")
    )


def finished(
    design: Design, prediction_id: str = "p1", status: str = "succeeded"
) -> tuple[CallbackResult, Jobs]:
    jobs = Jobs()
    callbacks = PredictionCallbacks(settings=Settings(), designs=Designs(design), jobs=jobs)
    return callbacks.prediction_finished(design.tenant_id, design.design_id, prediction_id, status), jobs


@pytest.mark.parametrize("status", ["succeeded", "failed", "canceled"])
def test_a_final_report_of_the_designs_prediction_hands_the_design_to_the_worker(status: str) -> None:
    design = generating()
    result, jobs = finished(design, status=status)
    assert result is CallbackResult.QUEUED
    # No check token: the job is not part of the polling chain, so the chain cannot supersede it.
    assert jobs.sent == [GenerationMessage(tenant_id="tnt_a", design_id=design.design_id)]


@pytest.mark.parametrize("status", ["starting", "processing", "weird"])
def test_a_report_that_is_not_final_changes_nothing(status: str) -> None:
    result, jobs = finished(generating(), status=status)
    assert (result, jobs.sent) == (CallbackResult.IGNORED, [])


def test_another_prediction_is_ignored_and_a_stored_one_already_done() -> None:
    assert finished(generating(), prediction_id="p9")[0] is CallbackResult.IGNORED
    result, jobs = finished(generating(done=("p1",)))
    assert (result, jobs.sent) == (CallbackResult.ALREADY_DONE, [])
    assert finished(generating(), prediction_id="p2")[0] is CallbackResult.QUEUED


@pytest.mark.parametrize("status", [DesignStatus.FINALIZING, DesignStatus.SUCCEEDED, DesignStatus.CANCELED])
def test_a_design_past_generating_is_already_done(status: DesignStatus) -> None:
    result, jobs = finished(generating(status=status))
    assert (result, jobs.sent) == (CallbackResult.ALREADY_DONE, [])


@pytest.mark.parametrize("status", [DesignStatus.QUEUED, DesignStatus.PREPARING, DesignStatus.GENERATING])
def test_a_report_before_the_prediction_is_recorded_asks_to_be_retried(status: DesignStatus) -> None:
    with pytest.raises(DesignBusy):
        finished(make_design(status=status))


def test_an_unknown_design_or_another_tenants_is_missing() -> None:
    jobs = Jobs()
    callbacks = PredictionCallbacks(settings=Settings(), designs=Designs(generating()), jobs=jobs)
    assert callbacks.prediction_finished("tnt_a", "dsn_gone", "p1", "succeeded") is CallbackResult.MISSING
    assert callbacks.prediction_finished("tnt_b", "dsn_1", "p1", "succeeded") is CallbackResult.MISSING
    assert jobs.sent == []
