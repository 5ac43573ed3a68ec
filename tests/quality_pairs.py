"""Calibration pairs for the structure score: the bundled sample room and what a model might do to it.

``python -m tests.quality_pairs`` prints the table that docs/quality.md shows.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from shared.local import make_sample_room as room
from shared.providers.base import GenerationRequest
from shared.providers.preview import PreviewProvider
from tests.conftest import room_photo

SAMPLE = Path(room.__file__).with_name("sample_room.jpg")


def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def sample() -> Image.Image:
    return Image.open(SAMPLE).convert("RGB")


def recoloured() -> Image.Image:
    """Warmer, brighter walls: a repaint."""
    image = sample()
    r, g, b = image.split()
    return Image.merge("RGB", (r.point(lambda v: min(255, v + 18)), g, b.point(lambda v: int(v * 0.8))))


def restyled_preview() -> Image.Image:
    """What the preview provider makes of the room (palette transfer, tone, vignette)."""
    photo = SAMPLE.read_bytes()
    outcome = PreviewProvider().start(
        GenerationRequest(
            design_id="dsg_calibration",
            image=photo,
            width=1600,
            height=1067,
            room_type="living_room",
            style="japandi",
            palette=("#d9cbb5", "#6b705c", "#2f2f2f"),
            prompt="",
            negative_prompt="",
            variants=1,
            seed=7,
            tenant_id="tnt_calibration",
        )
    )
    return Image.open(io.BytesIO(outcome.images[0].data)).convert("RGB")


def restyled_moody() -> Image.Image:
    """Darker, more contrasty, desaturated, re-encoded at a lower quality and a different size."""
    image = ImageEnhance.Color(sample()).enhance(0.4)
    image = ImageEnhance.Contrast(image).enhance(1.4)
    image = ImageEnhance.Brightness(image).enhance(0.7)
    image = image.resize((1024, 683), Image.Resampling.LANCZOS)
    return Image.open(io.BytesIO(_jpeg(image, quality=70)))


def _furnish(image: Image.Image) -> Image.Image:
    draw = ImageDraw.Draw(image)
    p = room.project
    # A sofa against the back wall, seat and back, with cushions.
    draw.polygon(
        [p((-1.9, 0, 5.3)), p((0.9, 0, 5.3)), p((0.9, 0.45, 5.3)), p((-1.9, 0.45, 5.3))], fill=(70, 82, 96)
    )
    draw.polygon(
        [p((-1.9, 0.45, 6.1)), p((0.9, 0.45, 6.1)), p((0.9, 0.9, 6.1)), p((-1.9, 0.9, 6.1))],
        fill=(60, 72, 86),
    )
    draw.polygon(
        [p((-1.9, 0.45, 5.3)), p((0.9, 0.45, 5.3)), p((0.9, 0.45, 6.1)), p((-1.9, 0.45, 6.1))],
        fill=(84, 96, 110),
    )
    for x in (-1.6, -0.9, -0.2):
        draw.ellipse([*p((x, 0.85, 6.0)), *p((x + 0.5, 0.5, 6.0))], fill=(190, 150, 90))
    # A rug, a coffee table, an armchair by the right wall, a sideboard by the left wall.
    draw.polygon(
        [p((-1.6, 0, 2.4)), p((1.2, 0, 2.4)), p((1.2, 0, 4.9)), p((-1.6, 0, 4.9))], fill=(205, 196, 180)
    )
    draw.polygon(
        [p((-0.8, 0.4, 3.4)), p((0.5, 0.4, 3.4)), p((0.5, 0.4, 4.2)), p((-0.8, 0.4, 4.2))], fill=(120, 84, 50)
    )
    draw.polygon(
        [p((-0.8, 0, 3.4)), p((0.5, 0, 3.4)), p((0.5, 0.4, 3.4)), p((-0.8, 0.4, 3.4))], fill=(100, 70, 40)
    )
    draw.polygon(
        [p((1.9, 0, 3.2)), p((2.7, 0, 3.2)), p((2.7, 0.85, 3.2)), p((1.9, 0.85, 3.2))], fill=(150, 60, 45)
    )
    draw.polygon(
        [p((-2.4, 0, 2.0)), p((-1.95, 0, 2.0)), p((-1.95, 0.8, 2.0)), p((-2.4, 0.8, 2.0))], fill=(90, 60, 35)
    )
    draw.polygon(
        [p((-1.95, 0, 2.0)), p((-1.95, 0.8, 2.0)), p((-1.95, 0.8, 3.4)), p((-1.95, 0, 3.4))],
        fill=(110, 75, 45),
    )
    # A floor lamp and a framed picture on the back wall, a plant.
    draw.line([p((1.2, 0, 5.6)), p((1.2, 1.6, 5.6))], fill=(30, 30, 30), width=4)
    draw.polygon(
        [p((1.0, 1.55, 5.6)), p((1.4, 1.55, 5.6)), p((1.3, 1.85, 5.6)), p((1.1, 1.85, 5.6))],
        fill=(240, 225, 190),
    )
    draw.rectangle(
        [*p((0.6, 1.9, 6.2)), *p((1.5, 1.3, 6.2))], fill=(60, 90, 120), outline=(20, 20, 20), width=3
    )
    draw.ellipse([*p((2.3, 1.1, 5.2)), *p((2.8, 0.4, 5.2))], fill=(60, 110, 50))
    return image  # fmt: skip


def furnished() -> Image.Image:
    return _furnish(sample())


def furnished_restyled() -> Image.Image:
    return _furnish(restyled_preview())


def shifted() -> Image.Image:
    """The frame moved 4 % to the right (the model re-framed the room)."""
    image = sample()
    dx = round(image.width * 0.04)
    return ImageOps.pad(image.crop((0, 0, image.width - dx, image.height)), image.size, centering=(1, 0.5))


def rotated() -> Image.Image:
    """Rotated 3 degrees and zoomed just enough to hide the corners (a tilted camera)."""
    image = sample()
    turned = image.rotate(3, resample=Image.Resampling.BICUBIC)
    margin_x, margin_y = round(image.width * 0.05), round(image.height * 0.05)
    return turned.crop((margin_x, margin_y, image.width - margin_x, image.height - margin_y)).resize(
        image.size
    )


def cropped() -> Image.Image:
    """The central 85 % of the frame, scaled back up (a zoom)."""
    image = sample()
    mx, my = round(image.width * 0.075), round(image.height * 0.075)
    return image.crop((mx, my, image.width - mx, image.height - my)).resize(image.size)


def mirrored() -> Image.Image:
    return ImageOps.mirror(sample())


def window_painted_over() -> Image.Image:
    """The window (and its reveals and sill) painted over in the back wall's colour."""
    image = sample()
    draw = ImageDraw.Draw(image)
    p = room.project
    draw.polygon(
        [p((-1.9, 0.6, 6.2)), p((0.4, 0.6, 6.2)), p((0.4, 2.45, 6.2)), p((-1.9, 2.45, 6.2))],
        fill=(222, 215, 203),
    )
    return image.filter(ImageFilter.GaussianBlur(0.6))  # fmt: skip


def different_room() -> Image.Image:
    """Another room entirely (the test suite's drawn room), at the sample's size."""
    return Image.open(io.BytesIO(room_photo(1600, 1067))).convert("RGB")


def different_room_restyled_noise() -> Image.Image:
    """A busy texture with edges everywhere: a model that painted over the room."""
    noise = Image.effect_noise((400, 267), 90).convert("RGB").resize((1600, 1067), Image.Resampling.NEAREST)
    return noise


HIGH: dict[str, Callable[[], Image.Image]] = {
    "identical": sample,
    "recoloured walls": recoloured,
    "restyled (preview provider)": restyled_preview,
    "restyled (moody grade, 1024 px, JPEG q70)": restyled_moody,
    "furniture composited in": furnished,
    "furniture composited in, restyled": furnished_restyled,
}
LOW: dict[str, Callable[[], Image.Image]] = {
    "shifted 4 %": shifted,
    "rotated 3 degrees": rotated,
    "cropped to 85 %": cropped,
    "mirrored": mirrored,
    "window painted over": window_painted_over,
    "a different room": different_room,
    "busy texture over the room": different_room_restyled_noise,
}


def pair(make: Callable[[], Image.Image]) -> tuple[bytes, bytes]:
    return SAMPLE.read_bytes(), _jpeg(make())


if __name__ == "__main__":
    from shared.imaging.structure import structure_score

    print("| pair | expected | score | recall | precision | worst region |")
    print("|---|---|---|---|---|---|")
    for expected, pairs in (("high", HIGH), ("low", LOW)):
        for name, make in pairs.items():
            result = structure_score(*pair(make))
            print(
                f"| {name} | {expected} | {result.score:.3f} | {result.recall:.3f} | "
                f"{result.precision:.3f} | {result.worst_region:.3f} |"
            )
