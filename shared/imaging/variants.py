"""Render a generated image into the files users get: full JPEG, WebP widths, thumbnail.

Also computes a blurhash (a 20-30 character placeholder clients paint before the image loads)
and a dominant colour. Everything leaves as sRGB without EXIF; widths are never upscaled.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import blurhash
from PIL import Image

from shared.imaging.normalize import apply_orientation, read_orientation, to_srgb
from shared.imaging.prepare import load_image, open_image

FULL_JPEG_QUALITY = 90
WEBP_QUALITY = 82
WEBP_METHOD = 4
"""libwebp effort 0-6: 4 is close to 6 in size at about half the encode time."""
BLURHASH_COMPONENTS = (4, 3)
BLURHASH_SIZE = 32
DOMINANT_SAMPLE_SIZE = 64
DOMINANT_COLOURS = 8

# Generated images are ours (or our provider's), but they are still parsed defensively.
_MAX_OUTPUT_BYTES = 64 * 1024 * 1024
_MAX_OUTPUT_PIXELS = 64_000_000


@dataclass(frozen=True)
class EncodedVariant:
    name: str
    """``full``, ``w<width>`` (e.g. ``w1024``) or ``thumb``."""
    content_type: str
    extension: str
    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class RenderedOutput:
    variants: tuple[EncodedVariant, ...]
    blurhash: str
    dominant_color: str
    """``#rrggbb``."""


def render_output(
    image_bytes: bytes,
    *,
    widths: tuple[int, ...] = (2048, 1024, 512),
    thumbnail_width: int = 256,
    comment: str | None = None,
) -> RenderedOutput:
    """Encode ``image_bytes`` (any accepted image type) into the delivered variants.

    Variants, in order: ``full`` (progressive JPEG at the source size, with ``comment`` as a JPEG
    COM marker), one ``w<width>`` WebP per requested width narrower than the source (widest
    first; when none is narrower, the smallest requested name is kept at the source width, so a
    client can always count on it), and ``thumb`` (WebP, ``thumbnail_width`` wide at most).
    """
    image, _ = open_image(image_bytes, max_bytes=_MAX_OUTPUT_BYTES, max_pixels=_MAX_OUTPUT_PIXELS)
    load_image(image)
    orientation = read_orientation(image)
    picture = apply_orientation(to_srgb(image), orientation)

    variants = [_encode_jpeg(picture, "full", comment)]
    requested = sorted({width for width in widths if width > 0}, reverse=True)
    chosen = [width for width in requested if width < picture.width] or requested[-1:]
    current = picture
    for width in chosen:  # widest first, each from the previous: cheaper, and still >= 2x steps
        current = _scale_to_width(current, width, picture.size)
        variants.append(_encode_webp(current, f"w{width}"))
    thumbnail = _scale_to_width(current, thumbnail_width, picture.size)
    variants.append(_encode_webp(thumbnail, "thumb"))

    return RenderedOutput(
        variants=tuple(variants),
        blurhash=_blurhash(thumbnail),
        dominant_color=_dominant_colour(thumbnail),
    )


def _scale_to_width(image: Image.Image, width: int, original_size: tuple[int, int]) -> Image.Image:
    """``image`` narrowed to ``width`` (never widened); the height follows the original's aspect."""
    if width >= image.width:
        return image
    original_width, original_height = original_size
    height = max(1, (2 * original_height * width + original_width) // (2 * original_width))  # half up
    return image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode_jpeg(image: Image.Image, name: str, comment: str | None) -> EncodedVariant:
    buffer = io.BytesIO()
    options: dict[str, object] = {"quality": FULL_JPEG_QUALITY, "progressive": True}
    if comment:
        options["comment"] = comment
    image.save(buffer, "JPEG", **options)
    return EncodedVariant(name, "image/jpeg", "jpg", buffer.getvalue(), image.width, image.height)


def _encode_webp(image: Image.Image, name: str) -> EncodedVariant:
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
    return EncodedVariant(name, "image/webp", "webp", buffer.getvalue(), image.width, image.height)


def _blurhash(image: Image.Image) -> str:
    tiny = image.copy()
    tiny.thumbnail((BLURHASH_SIZE, BLURHASH_SIZE), Image.Resampling.BILINEAR)
    raw = tiny.tobytes()
    stride = tiny.width * 3
    rows = [
        [list(raw[offset : offset + 3]) for offset in range(row * stride, (row + 1) * stride, 3)]
        for row in range(tiny.height)
    ]
    components_x, components_y = BLURHASH_COMPONENTS
    if tiny.height > tiny.width:  # more components along the longer side
        components_x, components_y = components_y, components_x
    return str(blurhash.encode(rows, components_x=components_x, components_y=components_y))


def _dominant_colour(image: Image.Image) -> str:
    sample = image.copy()
    sample.thumbnail((DOMINANT_SAMPLE_SIZE, DOMINANT_SAMPLE_SIZE), Image.Resampling.BILINEAR)
    quantized = sample.quantize(colors=DOMINANT_COLOURS, method=Image.Quantize.MEDIANCUT)
    counts = quantized.getcolors() or [(1, 0)]
    _, index = max(counts)
    assert isinstance(index, int)  # a palette image counts palette indexes
    palette = quantized.getpalette() or [0, 0, 0]
    red, green, blue = palette[index * 3 : index * 3 + 3]
    return f"#{red:02x}{green:02x}{blue:02x}"
