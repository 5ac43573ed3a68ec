"""The offline preview provider: deterministic, restyled from the photo, and plainly marked."""

from __future__ import annotations

import dataclasses
import io
import math

import pytest
from PIL import Image, ImageDraw, ImageStat

from shared.providers.base import Completed, GenerationRequest, InferenceProvider
from shared.providers.preview import PreviewProvider

WIDTH, HEIGHT = 768, 512
SCANDI = ("#f2efe9", "#c8b8a6", "#5f7a6a", "#2f3a3a")


def encode(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def room_photo() -> bytes:
    """A room-like photo: lit back wall, darker side walls, floor, a bright window, a door."""
    image = Image.new("RGB", (WIDTH, HEIGHT), (200, 195, 185))
    draw = ImageDraw.Draw(image)
    draw.polygon([(0, 0), (220, 120), (220, 380), (0, HEIGHT)], fill=(150, 145, 138))
    draw.polygon([(WIDTH, 0), (548, 120), (548, 380), (WIDTH, HEIGHT)], fill=(120, 116, 110))
    draw.polygon([(0, HEIGHT), (220, 380), (548, 380), (WIDTH, HEIGHT)], fill=(110, 75, 45))
    draw.polygon([(0, 0), (WIDTH, 0), (548, 120), (220, 120)], fill=(235, 233, 228))
    draw.rectangle((270, 160, 420, 300), fill=(245, 250, 255))
    draw.rectangle((600, 170, 660, 400), fill=(60, 50, 45))
    return encode(image)


def request(**changes: object) -> GenerationRequest:
    base = GenerationRequest(
        design_id="d_test",
        image=room_photo(),
        width=WIDTH,
        height=HEIGHT,
        room_type="living_room",
        style="scandinavian",
        palette=SCANDI,
        prompt="a scandinavian living room",
        negative_prompt="",
        variants=1,
        seed=42,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def start(**changes: object) -> Completed:
    outcome = PreviewProvider().start(request(**changes))
    assert isinstance(outcome, Completed)
    return outcome


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return image


def luminance_values(image: Image.Image, rows: tuple[float, float] | None = None) -> list[int]:
    small = image.convert("L").resize((96, 64), Image.Resampling.BOX)
    values = list(small.tobytes())
    if rows is None:
        return values
    low, high = int(rows[0] * 64), int(rows[1] * 64)
    return [value for index, value in enumerate(values) if not low <= index // 96 < high]


def correlation(a: list[int], b: list[int]) -> float:
    mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - mean_a) * (y - mean_b) for x, y in zip(a, b, strict=True))
    var_a = sum((x - mean_a) ** 2 for x in a)
    var_b = sum((y - mean_b) ** 2 for y in b)
    return cov / math.sqrt(var_a * var_b)


def test_is_an_inference_provider() -> None:
    provider: InferenceProvider = PreviewProvider()
    assert provider.name == "preview"
    assert 0 < provider.typical_seconds <= 5


def test_completes_inline_with_one_image_per_variant() -> None:
    outcome = start(variants=3)
    assert len(outcome.images) == 3
    assert outcome.estimated_cost_usd == 0
    assert 0 < outcome.provider_seconds < 10
    for image in outcome.images:
        assert image.content_type == "image/jpeg"
        assert opened(image.data).size == (WIDTH, HEIGHT)


def test_metadata_and_jpeg_comment_mark_it_as_a_preview() -> None:
    outcome = start(variants=2, seed=7)
    assert [image.metadata for image in outcome.images] == [
        {"provider": "preview", "preview": "true", "style": "scandinavian", "seed": "7"},
        {"provider": "preview", "preview": "true", "style": "scandinavian", "seed": "8"},
    ]
    assert opened(outcome.images[0].data).info["comment"] == b"roomcraft:preview"


def test_same_inputs_give_identical_bytes() -> None:
    first = start(variants=2)
    second = PreviewProvider().start(request(variants=2))
    assert isinstance(second, Completed)
    assert [image.data for image in first.images] == [image.data for image in second.images]


def test_variants_differ_and_variant_i_uses_seed_plus_i() -> None:
    images = start(variants=3, seed=100).images
    assert len({image.data for image in images}) == 3
    assert start(seed=102).images[0].data == images[2].data


@pytest.mark.parametrize(
    "change",
    [
        {"seed": 43},
        {"style": "industrial"},
        {"palette": ("#1c1c1c", "#8a8d8f", "#b5651d")},
    ],
)
def test_different_inputs_give_different_images(change: dict[str, object]) -> None:
    assert start(**change).images[0].data != start().images[0].data


def test_empty_palette_still_works_and_depends_on_the_style() -> None:
    a = start(palette=(), style="japandi").images[0].data
    b = start(palette=(), style="bohemian").images[0].data
    assert a != b


def test_palette_pulls_the_colours() -> None:
    source = opened(request().image).convert("RGB")
    blue = opened(start(palette=("#0b1d51", "#2f5d9e", "#9cc3f0")).images[0].data).convert("RGB")
    orange = opened(start(palette=("#4a1c05", "#c2571a", "#f6c38b")).images[0].data).convert("RGB")

    def blue_minus_red(image: Image.Image) -> float:
        red, _, blue_channel = ImageStat.Stat(image).mean
        return blue_channel - red

    assert blue_minus_red(blue) > blue_minus_red(source) + 15
    assert blue_minus_red(orange) < blue_minus_red(source) - 15


def test_output_is_derived_from_the_input_photo() -> None:
    source = opened(request().image)
    output = opened(start().images[0].data)
    banner = (0.38, 0.62)  # leave the "PREVIEW" band out of the comparison
    assert correlation(luminance_values(source, banner), luminance_values(output, banner)) > 0.85

    other = Image.linear_gradient("L").rotate(90).resize((WIDTH, HEIGHT)).convert("RGB")
    unrelated = opened(start(image=encode(other)).images[0].data)
    assert correlation(luminance_values(output, banner), luminance_values(unrelated, banner)) < 0.5


def test_preview_banner_and_caption_are_drawn() -> None:
    flat = encode(Image.new("RGB", (WIDTH, HEIGHT), (128, 128, 128)))
    output = opened(start(image=flat).images[0].data).convert("L")
    centre = (WIDTH // 4, HEIGHT * 45 // 100, WIDTH * 3 // 4, HEIGHT * 55 // 100)
    above = (WIDTH // 4, HEIGHT * 25 // 100, WIDTH * 3 // 4, HEIGHT * 32 // 100)
    caption = (0, HEIGHT * 92 // 100, WIDTH // 3, HEIGHT)
    right_bottom = (WIDTH * 2 // 3, HEIGHT * 92 // 100, WIDTH, HEIGHT)

    def spread(box: tuple[int, int, int, int]) -> float:
        return ImageStat.Stat(output.crop(box)).stddev[0]

    assert spread(centre) > 25  # white letters on a dark band
    assert spread(above) < 6  # the flat photo, only vignette and tone there
    assert spread(caption) > 15
    assert spread(caption) > 3 * spread(right_bottom)


def test_works_with_portrait_and_small_photos() -> None:
    portrait = encode(Image.new("RGB", (384, 640), (90, 120, 150)))
    outcome = start(image=portrait, width=384, height=640, variants=1)
    assert opened(outcome.images[0].data).size == (384, 640)


def test_needs_at_least_one_variant() -> None:
    with pytest.raises(ValueError, match="variant"):
        start(variants=0)
