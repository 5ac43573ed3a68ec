"""Payloads that cross a queue: validated on both sides of it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class GenerationMessage(BaseModel):
    """Body of a message on the generate queue: which design to work on."""

    # Unknown fields are ignored: during a rolling deploy a newer producer may add one (docs/architecture.md).
    model_config = ConfigDict(frozen=True, extra="ignore")

    tenant_id: str
    design_id: str
    check: str | None = None
    """Set on a delayed "check the prediction" message: the token the design expects (stale ones drop)."""
    announce: bool = False
    """Set when the API could not send the design's ``design.queued`` event: the worker sends the
    stored one before it starts (docs/events.md)."""
