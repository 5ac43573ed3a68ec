"""The inference provider interface: what the worker asks of a GPU model.

A provider either completes a generation inline (``Completed``) or starts it and returns
``Pending`` with a prediction id; the result then arrives later through a callback or polling.
Pure Python: providers that need a network client import it themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class GenerationRequest:
    design_id: str
    image: bytes
    """The prepared room photo: sRGB JPEG at the model's input size."""
    width: int
    height: int
    room_type: str
    style: str
    palette: tuple[str, ...]
    """Hex colours, ``#rrggbb``; the style's reference palette when the brief gives none."""
    prompt: str
    negative_prompt: str
    variants: int
    seed: int


@dataclass(frozen=True)
class GeneratedImage:
    data: bytes
    content_type: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Completed:
    images: tuple[GeneratedImage, ...]
    provider_seconds: float
    estimated_cost_usd: float = 0.0


@dataclass(frozen=True)
class Pending:
    prediction_id: str


GenerationOutcome = Completed | Pending


class InferenceProvider(Protocol):
    name: str
    typical_seconds: float
    """Used for the ETA shown to users before the provider reports progress."""

    def start(self, request: GenerationRequest) -> GenerationOutcome: ...
