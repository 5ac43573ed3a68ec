"""Every file of the hostile corpus ends in a clear error code or a correct model input."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from shared.domain.errors import ImageError
from shared.imaging.prepare import prepare_image
from tests.fuzz.hostile_images import RED, Sample, corpus

CORPUS = corpus()
MAX_BYTES = 25 * 1024 * 1024


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 30
    assert {s.expected for s in CORPUS.values()} >= {
        "ok",
        "image_empty",
        "image_corrupt",
        "image_unsupported_type",
        "image_too_many_pixels",
        "image_too_small",
    }


def close(colour: tuple[int, ...], wanted: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour[:3], wanted, strict=True))


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_prepare_image_gives_a_code_or_a_correct_result(name: str) -> None:
    sample: Sample = CORPUS[name]
    if sample.expected != "ok":
        with pytest.raises(ImageError) as raised:
            prepare_image(sample.data, max_bytes=MAX_BYTES, max_pixels=89_000_000, target_long_edge=1024)
        assert raised.value.code == sample.expected, raised.value.message
        assert raised.value.message  # a sentence a user can act on
        return
    prepared = prepare_image(sample.data, max_bytes=MAX_BYTES, max_pixels=89_000_000, target_long_edge=1024)
    image = Image.open(io.BytesIO(prepared.data))
    assert image.format == "JPEG"
    assert image.mode == "RGB"
    assert image.size == (prepared.width, prepared.height)
    assert prepared.width % 8 == 0
    assert prepared.height % 8 == 0
    assert max(image.size) <= 1024
    assert not image.getexif()
    assert "icc_profile" not in image.info
    if sample.portrait is not None:
        assert (image.height > image.width) is sample.portrait
    if sample.top_left is not None:
        assert close(image.getpixel((4, 4)), RED), image.getpixel((4, 4))  # type: ignore[arg-type]


def test_oversized_files_are_refused_before_decoding() -> None:
    with pytest.raises(ImageError) as raised:
        prepare_image(
            CORPUS["png_text_flood_3mb"].data, max_bytes=1024 * 1024, max_pixels=10**8, target_long_edge=1024
        )
    assert raised.value.code == "image_too_large"


PIPELINE_SUBSET = (
    "png_bomb_30000x30000",
    "jpeg_truncated",
    "gif_js_polyglot",
    "cmyk_jpeg",
    "animated_gif",
    "exif_orientation_6",
    "huge_metadata_jpeg",
    "png_named_jpg",
)


@pytest.mark.parametrize("name", PIPELINE_SUBSET)
def test_the_real_pipeline_ends_each_in_a_clear_state(name: str, aws: dict[str, Any]) -> None:
    from shared.settings import get_settings
    from tests.integration.test_generation_pipeline import CountingProvider, World

    sample = CORPUS[name]
    world = World(get_settings())
    provider = CountingProvider()
    design, message = world.queued_design(sample.data)
    world.pipeline(provider).run(message, receive_count=get_settings().max_attempts)
    stored = world.designs.get("tnt_a", design.design_id)
    if sample.expected == "ok":
        assert stored.status.value == "succeeded", stored.error
        assert provider.calls == 1
        full = stored.outputs[0].variant("full")
        assert full is not None
        body = world.outputs._s3.get_object(Bucket=world.outputs.name, Key=full.key)["Body"].read()
        delivered = Image.open(io.BytesIO(body))
        if sample.top_left is not None:  # the preview restyles colours: red stays the dominant one
            red, green, blue = delivered.convert("RGB").getpixel((4, 4))  # type: ignore[misc]
            assert red > green + 40, (red, green, blue)
            assert red > blue + 40, (red, green, blue)
    else:
        assert stored.status.value == "failed"
        assert stored.error is not None
        assert stored.error.code == sample.expected
        assert provider.calls == 0  # refused before any paid work
