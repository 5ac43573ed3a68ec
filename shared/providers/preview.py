"""The offline ``preview`` provider: a deterministic, clearly marked stand-in for the GPU model.

It restyles the room photo toward the brief's palette so the whole pipeline (and a demo) can run
without a model or a network: the photo's luminance is mapped onto a gradient built from the
palette and blended with the original, then given a gentle seed-dependent tone and vignette.
Every image carries a semi-transparent "PREVIEW" banner, a "roomcraft preview · <style>" caption,
the JPEG comment ``roomcraft:preview`` and ``preview=true`` metadata, so it can never pass for a
real staging. Same (photo, style, palette, seed) -> same bytes; variant ``i`` uses ``seed + i``.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import random
import time
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

from shared.imaging.normalize import apply_orientation, read_orientation, to_srgb
from shared.imaging.prepare import load_image, open_image
from shared.providers.base import Completed, GeneratedImage, GenerationRequest

JPEG_COMMENT = "roomcraft:preview"
JPEG_QUALITY = 90
MAX_LONG_EDGE = 2048
"""Larger inputs are scaled down first; the worker sends the prepared (model-size) photo."""

_MAX_INPUT_BYTES = 64 * 1024 * 1024
_MAX_INPUT_PIXELS = 64_000_000

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class _Look:
    """The seed-, style- and palette-dependent parameters of one variant."""

    palette_weight: float
    warmth: float
    contrast: float
    brightness: float
    saturation: float
    vignette: float


class PreviewProvider:
    """Implements ``InferenceProvider``; completes inline in well under a second per variant."""

    name = "preview"
    typical_seconds = 2.0

    def start(self, request: GenerationRequest) -> Completed:
        started = time.perf_counter()
        if request.variants < 1:
            raise ValueError("a generation needs at least one variant")
        photo = _decode(request.image)
        palette = _palette_colours(request.palette, request.style)
        images = tuple(
            _render_variant(photo, style=request.style, palette=palette, seed=request.seed + index)
            for index in range(request.variants)
        )
        return Completed(
            images=images, provider_seconds=time.perf_counter() - started, estimated_cost_usd=0.0
        )


def _decode(data: bytes) -> Image.Image:
    image, _ = open_image(data, max_bytes=_MAX_INPUT_BYTES, max_pixels=_MAX_INPUT_PIXELS)
    if image.format == "JPEG":
        image.draft("RGB", (MAX_LONG_EDGE, MAX_LONG_EDGE))
    load_image(image)
    orientation = read_orientation(image)
    photo = apply_orientation(to_srgb(image), orientation)
    photo.thumbnail((MAX_LONG_EDGE, MAX_LONG_EDGE), Image.Resampling.LANCZOS)
    return photo


def _render_variant(photo: Image.Image, *, style: str, palette: list[RGB], seed: int) -> GeneratedImage:
    look = _look_for(style, palette, seed)
    restyled = _restyle(photo, palette, look)
    marked = _watermark(restyled, style)
    buffer = io.BytesIO()
    marked.save(buffer, "JPEG", quality=JPEG_QUALITY, comment=JPEG_COMMENT)
    return GeneratedImage(
        data=buffer.getvalue(),
        content_type="image/jpeg",
        metadata={"provider": "preview", "preview": "true", "style": style, "seed": str(seed)},
    )


def _look_for(style: str, palette: list[RGB], seed: int) -> _Look:
    # hashlib, not hash(): str hashes change between processes, the preview must not.
    key = f"{style}|{','.join(_hex(colour) for colour in palette)}|{seed}"
    rng = random.Random(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big"))
    return _Look(
        palette_weight=rng.uniform(0.42, 0.6),
        warmth=rng.uniform(-14.0, 14.0),
        contrast=rng.uniform(0.94, 1.12),
        brightness=rng.uniform(0.97, 1.06),
        saturation=rng.uniform(0.9, 1.25),
        vignette=rng.uniform(0.12, 0.32),
    )


def _restyle(photo: Image.Image, palette: list[RGB], look: _Look) -> Image.Image:
    # Luminance-preserving colour mapping: dark pixels take the palette's darkest colour (deepened),
    # light pixels its lightest (lifted toward white), so the room's structure stays readable.
    luminance = ImageOps.autocontrast(photo.convert("L"), cutoff=1)
    lut_red, lut_green, lut_blue = _gradient_luts(palette)
    mapped = Image.merge(
        "RGB", (luminance.point(lut_red), luminance.point(lut_green), luminance.point(lut_blue))
    )
    picture = Image.blend(photo, mapped, look.palette_weight)

    warm = look.warmth
    red, green, blue = picture.split()
    red = red.point([_clamp(value + warm) for value in range(256)])
    blue = blue.point([_clamp(value - warm) for value in range(256)])
    picture = Image.merge("RGB", (red, green, blue))
    picture = ImageEnhance.Contrast(picture).enhance(look.contrast)
    picture = ImageEnhance.Brightness(picture).enhance(look.brightness)
    picture = ImageEnhance.Color(picture).enhance(look.saturation)

    # Vignette: darken toward the corners; radial_gradient is 0 at the centre, 255 at the edge.
    mask = Image.radial_gradient("L").resize(picture.size, Image.Resampling.BILINEAR)
    mask = mask.point([_clamp((value - 90) * 1.6 * look.vignette) for value in range(256)])
    darker = ImageEnhance.Brightness(picture).enhance(0.35)
    return Image.composite(darker, picture, mask)


def _gradient_luts(palette: list[RGB]) -> tuple[list[int], list[int], list[int]]:
    ordered = sorted(palette, key=_luma)
    shadow = _mix(ordered[0], (0, 0, 0), 0.7)
    highlight = _mix(ordered[-1], (255, 255, 255), 0.7)
    stops: list[tuple[float, RGB]] = [(0.0, shadow)]
    count = len(ordered)
    for position, colour in enumerate(ordered):
        stops.append((0.2 + 0.6 * (position / (count - 1) if count > 1 else 0.5), colour))
    stops.append((1.0, highlight))
    red, green, blue = [], [], []
    for value in range(256):
        level = value / 255
        for (start, low), (end, high) in itertools.pairwise(stops):
            if level <= end:
                colour = _mix(low, high, (level - start) / (end - start) if end > start else 1.0)
                break
        else:  # pragma: no cover - the last stop is at 1.0
            colour = stops[-1][1]
        red.append(colour[0])
        green.append(colour[1])
        blue.append(colour[2])
    return red, green, blue


def _watermark(picture: Image.Image, style: str) -> Image.Image:
    width, height = picture.size
    overlay = Image.new("RGBA", picture.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)

    # A band across the middle with "PREVIEW" in large letters.
    band_height = max(24, height // 6)
    band_top = (height - band_height) // 2
    draw.rectangle((0, band_top, width, band_top + band_height), fill=(20, 20, 24, 96))
    title_font = _font(max(16, int(band_height * 0.68)))
    title = "PREVIEW"
    left, top, right, bottom = draw.textbbox((0, 0), title, font=title_font)
    draw.text(
        ((width - (right - left)) / 2 - left, band_top + (band_height - (bottom - top)) / 2 - top),
        title,
        font=title_font,
        fill=(255, 255, 255, 190),
        stroke_width=max(1, band_height // 40),
        stroke_fill=(0, 0, 0, 120),
    )

    # A caption in the bottom-left corner.
    caption = f"roomcraft preview \u00b7 {style}"
    caption_font = _font(max(11, height // 36))
    left, top, right, bottom = draw.textbbox((0, 0), caption, font=caption_font)
    margin = max(6, height // 80)
    padding = max(3, margin // 2)
    box_bottom = height - margin
    box_top = box_bottom - (bottom - top) - 2 * padding
    draw.rectangle((margin, box_top, margin + (right - left) + 2 * padding, box_bottom), fill=(0, 0, 0, 120))
    draw.text(
        (margin + padding - left, box_top + padding - top),
        caption,
        font=caption_font,
        fill=(255, 255, 255, 230),
    )

    return Image.alpha_composite(picture.convert("RGBA"), overlay).convert("RGB")


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _palette_colours(palette: tuple[str, ...], style: str) -> list[RGB]:
    colours = [colour for colour in (_parse_hex(value) for value in palette) if colour is not None]
    if colours:
        return colours
    # No usable palette: derive three stable colours from the style name.
    digest = hashlib.sha256(style.encode()).digest()
    return [(digest[index], digest[index + 1], digest[index + 2]) for index in (0, 3, 6)]


def _parse_hex(value: str) -> RGB | None:
    text = value.strip().lstrip("#")
    if len(text) == 3:
        text = "".join(character * 2 for character in text)
    if len(text) != 6:
        return None
    try:
        number = int(text, 16)
    except ValueError:
        return None
    return (number >> 16) & 0xFF, (number >> 8) & 0xFF, number & 0xFF


def _hex(colour: RGB) -> str:
    return f"{colour[0]:02x}{colour[1]:02x}{colour[2]:02x}"


def _luma(colour: RGB) -> float:
    return 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]


def _mix(low: RGB, high: RGB, amount: float) -> RGB:
    return (
        round(low[0] + (high[0] - low[0]) * amount),
        round(low[1] + (high[1] - low[1]) * amount),
        round(low[2] + (high[2] - low[2]) * amount),
    )


def _clamp(value: float) -> int:
    return max(0, min(255, round(value)))
