"""What Roomcraft knows about each Replicate model: input names, parameter ranges, seeds, pricing.

Pure (no client import): the worker, the settings check at startup and ``cdk synth`` all read it.
Ranges and prices come from each model's published schema and pricing page (docs/providers.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

PricingUnit = Literal["image", "second"]

A40_LARGE_USD_PER_SECOND = 0.000725
"""Replicate's list price of the Nvidia A40 (Large) GPU that runs adirik/interior-design."""


@dataclass(frozen=True)
class ModelProfile:
    """How a model's inputs are named and what it can do; None means the model has no such input."""

    image: str = "image"
    prompt: str = "prompt"
    negative_prompt: str | None = "negative_prompt"
    seed: str | None = "seed"
    guidance: str | None = "guidance_scale"
    steps: str | None = "num_inference_steps"
    num_outputs: str | None = "num_outputs"
    """None: one image per prediction, so one prediction per variant."""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    skip_outputs: int = 0
    """Leading outputs that are not results (some ControlNet models return the control map first)."""
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    """Inclusive bounds of numeric inputs, by input name: the model refuses anything outside."""
    pricing_unit: PricingUnit = "second"
    """Official models are billed per output image; community models per second of GPU time."""
    price_usd: float = A40_LARGE_USD_PER_SECOND
    """USD per ``pricing_unit``."""
    seed_zero_is_random: bool = False
    """The model draws a random seed when given 0 (cog-flux: ``if not seed``)."""
    seed_draws_batch: bool = False
    """One seed draws the noise of all ``num_outputs`` images together: output i of a batch is not
    what seed + i gives alone."""


FLUX_CONTROL = ModelProfile(
    image="control_image",
    negative_prompt=None,
    guidance="guidance",
    defaults={"output_format": "png"},
    ranges={"num_inference_steps": (1, 50), "guidance": (0, 100), "num_outputs": (1, 4)},
    pricing_unit="image",
    price_usd=0.025,
    seed_zero_is_random=True,
    seed_draws_batch=True,
)
"""FLUX.1 depth and canny (cog-flux): the same inputs, ranges, price and seed rules."""

PROFILES: dict[str, ModelProfile] = {
    # Realistic Vision + MLSD and segmentation ControlNets: keeps walls, windows and perspective.
    "adirik/interior-design": ModelProfile(
        num_outputs=None,
        defaults={"prompt_strength": 0.8},
        ranges={"num_inference_steps": (1, 500), "guidance_scale": (1, 50), "prompt_strength": (0, 1)},
    ),
    # FLUX.1 with a depth (or edge) map of the photo as the control image (cog-flux).
    "black-forest-labs/flux-depth-dev": FLUX_CONTROL,
    "black-forest-labs/flux-canny-dev": FLUX_CONTROL,
    # Instruction-following image editing: one image per run, no negative prompt or steps.
    "black-forest-labs/flux-kontext-pro": ModelProfile(
        image="input_image",
        negative_prompt=None,
        guidance=None,
        steps=None,
        num_outputs=None,
        defaults={"output_format": "png"},
        pricing_unit="image",
        price_usd=0.04,
    ),
}
GENERIC_PROFILE = ModelProfile()


def profile_for(model: str) -> ModelProfile:
    return PROFILES.get(model.strip().lower().partition(":")[0], GENERIC_PROFILE)


def parameter_problems(
    profile: ModelProfile,
    *,
    guidance: float | None,
    steps: int | None,
    overrides: Mapping[str, Any] | None = None,
) -> list[str]:
    """Why these generation settings are outside what the model accepts (empty: they fit).

    ``guidance``/``steps`` are Roomcraft's names; ``overrides`` are raw model inputs.
    """
    named: dict[str, tuple[str, Any]] = {}
    if guidance is not None:
        if profile.guidance is None:
            return ["generation_guidance: this model has no guidance input; leave it unset"]
        named[profile.guidance] = ("generation_guidance", guidance)
    if steps is not None:
        if profile.steps is None:
            return ["generation_steps: this model has no steps input; leave it unset"]
        named[profile.steps] = ("generation_steps", steps)
    for name, value in (overrides or {}).items():
        named[name] = (f"replicate_input_overrides[{name!r}]", value)
    problems = []
    for input_name, (setting, value) in named.items():
        bounds = profile.ranges.get(input_name)
        if bounds is None or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        low, high = bounds
        if not low <= value <= high:
            problems.append(
                f"{setting}: {value} is outside the model's range for {input_name} ({low:g}-{high:g})"
            )
    return problems


def model_seed(profile: ModelProfile, seed: int) -> int:
    """The seed to send: a model that treats 0 as "random" gets 2**32 - 1 instead, so every seed
    Roomcraft records is one the model reproduces (documented in docs/providers.md)."""
    if seed == 0 and profile.seed_zero_is_random:
        return 2**32 - 1
    return seed
