"""The server's side of ``roomcraft.inference.v1`` (docs/providers.md): parse and check one request.

Pure Python + pydantic + Pillow, no torch: bad input is refused before it reaches the GPU queue.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, ValidationError

CONTRACT_VERSION = "roomcraft.inference.v1"
OPERATIONS = ("restage",)
"""What this model does: restyle the room in the photo, keeping its lines and layout."""
MAX_OUTPUTS = 4
MIN_SIDE = 64
MAX_SIDE = 2048


class RequestRefused(Exception):
    """Bad input: answered with ``status`` and a short text, never reaching the model."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class InvocationBody(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    contract: str = CONTRACT_VERSION
    operation: str = "restage"
    image: str
    width: int
    height: int
    prompt: str
    negative_prompt: str = ""
    num_outputs: int = 1
    seed: int = 0
    guidance_scale: float | None = None
    num_inference_steps: int | None = None
    room_type: str = ""
    style: str = ""
    palette: list[str] = []


@dataclass(frozen=True)
class Invocation:
    """A checked request: the decoded photo and what to make of it."""

    image: Image.Image
    width: int
    height: int
    prompt: str
    negative_prompt: str
    num_outputs: int
    seed: int
    guidance_scale: float | None
    num_inference_steps: int | None


@dataclass(frozen=True)
class Limits:
    max_image_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    max_steps: int = 100


def parse_invocation(body: bytes, limits: Limits) -> Invocation:
    try:
        raw: Any = InvocationBody.model_validate_json(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "body"
        raise RequestRefused(400, f"invalid request: {where}: {first.get('msg', 'invalid')}") from None
    request: InvocationBody = raw
    if request.contract != CONTRACT_VERSION:
        raise RequestRefused(
            400, f"unknown contract version {request.contract[:60]!r}; this server speaks {CONTRACT_VERSION}"
        )
    if request.operation not in OPERATIONS:
        raise RequestRefused(
            400,
            f"operation {request.operation[:60]!r} is not something this model can do "
            f"(it does: {', '.join(OPERATIONS)})",
        )
    if not 1 <= request.num_outputs <= MAX_OUTPUTS:
        raise RequestRefused(400, f"num_outputs must be 1 to {MAX_OUTPUTS}, not {request.num_outputs}")
    for name, side in (("width", request.width), ("height", request.height)):
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise RequestRefused(400, f"{name} must be {MIN_SIDE} to {MAX_SIDE} pixels, not {side}")
    steps = request.num_inference_steps
    if steps is not None and not 1 <= steps <= limits.max_steps:
        raise RequestRefused(400, f"num_inference_steps must be 1 to {limits.max_steps}, not {steps}")
    guidance = request.guidance_scale
    if guidance is not None and not 0.0 <= guidance <= 30.0:
        raise RequestRefused(400, f"guidance_scale must be 0 to 30, not {guidance}")
    return Invocation(
        image=_decode_image(request.image, limits),
        width=request.width,
        height=request.height,
        prompt=request.prompt,
        negative_prompt=request.negative_prompt,
        num_outputs=request.num_outputs,
        seed=request.seed,
        guidance_scale=guidance,
        num_inference_steps=steps,
    )


def _decode_image(encoded: str, limits: Limits) -> Image.Image:
    if len(encoded) > limits.max_image_bytes * 4 // 3 + 4:
        raise RequestRefused(413, f"the image is larger than {limits.max_image_bytes} bytes")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise RequestRefused(400, "image is not base64") from None
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            if width * height > limits.max_image_pixels:
                raise RequestRefused(
                    413, f"the image has {width}x{height} pixels, over {limits.max_image_pixels}"
                )
            probe.load()
            return probe.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError, ValueError):
        raise RequestRefused(400, "image is not a readable image (JPEG, PNG or WebP)") from None
