from __future__ import annotations

import itertools

import pytest

from shared.domain.errors import IllegalTransition
from shared.domain.status import TERMINAL, DesignStatus, can_transition, check_transition, sources_of

S = DesignStatus
HAPPY_PATH = [S.QUEUED, S.PREPARING, S.GENERATING, S.FINALIZING, S.SUCCEEDED]


def test_happy_path_is_allowed_step_by_step() -> None:
    for current, target in itertools.pairwise(HAPPY_PATH):
        check_transition(current, target)


@pytest.mark.parametrize("terminal", sorted(TERMINAL))
def test_terminal_statuses_never_move(terminal: DesignStatus) -> None:
    for target in DesignStatus:
        assert not can_transition(terminal, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.GENERATING, S.PREPARING),  # backwards
        (S.QUEUED, S.SUCCEEDED),  # skipping the work
        (S.QUEUED, S.GENERATING),
        (S.FINALIZING, S.CANCELED),  # too late to cancel
        (S.SUCCEEDED, S.FAILED),
    ],
)
def test_illegal_moves_raise_with_a_stable_code(current: DesignStatus, target: DesignStatus) -> None:
    with pytest.raises(IllegalTransition) as raised:
        check_transition(current, target)
    assert raised.value.code == "illegal_transition"
    assert raised.value.details == {"from": current.value, "to": target.value}


def test_every_non_terminal_status_can_fail() -> None:
    assert sources_of(S.FAILED) == {S.QUEUED, S.PREPARING, S.GENERATING, S.FINALIZING}


def test_cancel_allowed_only_before_finalizing() -> None:
    assert sources_of(S.CANCELED) == {S.QUEUED, S.PREPARING, S.GENERATING}


def test_progress_never_decreases_along_the_happy_path() -> None:
    progress = [s.progress for s in HAPPY_PATH]
    assert progress == sorted(progress)
    assert progress[0] == 0.0
    assert progress[-1] == 1.0
