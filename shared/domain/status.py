"""The design status machine: queued → preparing → generating → finalizing → succeeded | failed | canceled."""

from __future__ import annotations

from enum import StrEnum

from shared.domain.errors import IllegalTransition


class DesignStatus(StrEnum):
    QUEUED = "queued"
    PREPARING = "preparing"
    GENERATING = "generating"
    FINALIZING = "finalizing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL

    @property
    def progress(self) -> float:
        """Coarse progress shown before the provider reports finer progress."""
        return _PROGRESS[self]


TERMINAL = frozenset({DesignStatus.SUCCEEDED, DesignStatus.FAILED, DesignStatus.CANCELED})

_ALLOWED: dict[DesignStatus, frozenset[DesignStatus]] = {
    DesignStatus.QUEUED: frozenset({DesignStatus.PREPARING, DesignStatus.FAILED, DesignStatus.CANCELED}),
    DesignStatus.PREPARING: frozenset({DesignStatus.GENERATING, DesignStatus.FAILED, DesignStatus.CANCELED}),
    DesignStatus.GENERATING: frozenset({DesignStatus.FINALIZING, DesignStatus.FAILED, DesignStatus.CANCELED}),
    # Finalizing only writes our own outputs: too late to cancel, it finishes in seconds.
    DesignStatus.FINALIZING: frozenset({DesignStatus.SUCCEEDED, DesignStatus.FAILED}),
    DesignStatus.SUCCEEDED: frozenset(),
    DesignStatus.FAILED: frozenset(),
    DesignStatus.CANCELED: frozenset(),
}

_PROGRESS = {
    DesignStatus.QUEUED: 0.0,
    DesignStatus.PREPARING: 0.1,
    DesignStatus.GENERATING: 0.25,
    DesignStatus.FINALIZING: 0.9,
    DesignStatus.SUCCEEDED: 1.0,
    DesignStatus.FAILED: 1.0,
    DesignStatus.CANCELED: 1.0,
}


def can_transition(current: DesignStatus, target: DesignStatus) -> bool:
    return target in _ALLOWED[current]


def check_transition(current: DesignStatus, target: DesignStatus) -> None:
    if not can_transition(current, target):
        raise IllegalTransition(
            f"a design cannot go from {current.value} to {target.value}",
            details={"from": current.value, "to": target.value},
        )


def sources_of(target: DesignStatus) -> frozenset[DesignStatus]:
    """Every status from which ``target`` may be reached: the condition of a conditional write."""
    return frozenset(s for s, allowed in _ALLOWED.items() if target in allowed)
