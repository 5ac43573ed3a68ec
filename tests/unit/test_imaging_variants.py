"""render_output: the delivered files, their sizes and types, blurhash and dominant colour."""

from __future__ import annotations

import io
import struct

import blurhash
import pytest
from PIL import ExifTags, Image, ImageCms, ImageDraw

from shared.domain.errors import ImageCorrupt, ImageEmpty, ImageUnsupportedType
from shared.imaging.variants import EncodedVariant, RenderedOutput, render_output


def encode(image: Image.Image, fmt: str = "JPEG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def room_like(width: int, height: int) -> Image.Image:
    """Something with structure: a gradient wall, a floor, a window."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height * 2 // 3, width, height), fill=(150, 105, 70))
    draw.rectangle((width // 4, height // 5, width // 2, height // 2), fill=(200, 225, 250))
    return image


def by_name(output: RenderedOutput) -> dict[str, EncodedVariant]:
    return {variant.name: variant for variant in output.variants}


def opened(variant: EncodedVariant) -> Image.Image:
    image = Image.open(io.BytesIO(variant.data))
    assert image.size == (variant.width, variant.height)
    return image


def distance(hex_colour: str, rgb: tuple[int, int, int]) -> int:
    value = int(hex_colour.lstrip("#"), 16)
    got = ((value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF)
    return max(abs(a - b) for a, b in zip(got, rgb, strict=True))


def test_large_image_gets_every_variant() -> None:
    output = render_output(encode(room_like(3000, 2000)))
    assert [variant.name for variant in output.variants] == ["full", "w2048", "w1024", "w512", "thumb"]
    sizes = [(variant.width, variant.height) for variant in output.variants]
    assert sizes == [(3000, 2000), (2048, 1365), (1024, 683), (512, 341), (256, 171)]
    for variant in output.variants:
        image = opened(variant)
        if variant.name == "full":
            assert (variant.content_type, variant.extension, image.format) == ("image/jpeg", "jpg", "JPEG")
        else:
            assert (variant.content_type, variant.extension, image.format) == ("image/webp", "webp", "WEBP")
        assert image.mode == "RGB"


def test_full_is_a_progressive_jpeg_without_exif_and_with_the_comment() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "GPU Model"
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (1.0, 2.0, 3.0)}
    source = encode(room_like(1200, 800), exif=exif.tobytes())
    full = by_name(render_output(source, comment="roomcraft:preview:d_123"))["full"]
    image = opened(full)
    assert image.info.get("progressive") or image.info.get("progression")
    assert image.info["comment"] == b"roomcraft:preview:d_123"
    comment = b"roomcraft:preview:d_123"
    assert b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment in full.data  # a real COM marker
    assert not image.getexif()
    assert b"GPU Model" not in full.data
    assert "icc_profile" not in image.info


def test_no_comment_means_no_com_marker() -> None:
    full = by_name(render_output(encode(room_like(600, 400))))["full"]
    assert "comment" not in opened(full).info


def test_widths_never_upscale() -> None:
    output = render_output(encode(room_like(1500, 1000)))
    assert [(variant.name, variant.width) for variant in output.variants] == [
        ("full", 1500),
        ("w1024", 1024),
        ("w512", 512),
        ("thumb", 256),
    ]


def test_width_equal_to_the_source_is_skipped() -> None:
    names = [variant.name for variant in render_output(encode(room_like(1024, 768))).variants]
    assert names == ["full", "w512", "thumb"]


def test_small_image_keeps_the_smallest_width_at_source_size() -> None:
    output = by_name(render_output(encode(room_like(400, 300))))
    assert list(output) == ["full", "w512", "thumb"]
    assert (output["w512"].width, output["w512"].height) == (400, 300)
    assert (output["thumb"].width, output["thumb"].height) == (256, 192)


def test_thumbnail_is_not_upscaled_either() -> None:
    output = by_name(render_output(encode(room_like(200, 150))))
    assert (output["thumb"].width, output["thumb"].height) == (200, 150)
    assert output["w512"].width == 200


def test_custom_widths_and_thumbnail() -> None:
    output = render_output(encode(room_like(1600, 900)), widths=(800, 1200), thumbnail_width=128)
    assert [(variant.name, variant.width) for variant in output.variants] == [
        ("full", 1600),
        ("w1200", 1200),
        ("w800", 800),
        ("thumb", 128),
    ]


def test_orientation_and_colour_profile_are_applied() -> None:
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    (count,) = struct.unpack(">I", profile[128:132])
    entries = {bytes(profile[132 + 12 * i : 136 + 12 * i]): 132 + 12 * i for i in range(count)}
    red, green = entries[b"rXYZ"], entries[b"gXYZ"]
    profile[red + 4 : red + 12], profile[green + 4 : green + 12] = (
        profile[green + 4 : green + 12],
        profile[red + 4 : red + 12],
    )
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    source = encode(
        Image.new("RGB", (800, 600), (255, 0, 0)), exif=exif.tobytes(), icc_profile=bytes(profile)
    )
    output = by_name(render_output(source))
    assert (output["full"].width, output["full"].height) == (600, 800)
    pixel = opened(output["full"]).getpixel((300, 400))
    assert isinstance(pixel, tuple)
    assert pixel[1] > 200
    assert pixel[0] < 60  # shown in sRGB: the swapped profile's "red" is green


def test_blurhash_has_4x3_components_and_the_right_colour() -> None:
    output = render_output(encode(Image.new("RGB", (800, 600), (255, 0, 0))))
    assert blurhash.components(output.blurhash) == (4, 3)
    assert len(output.blurhash) == 28
    decoded = blurhash.decode(output.blurhash, 4, 3)
    red, green, blue = decoded[1][2]
    assert red > 220
    assert green < 40
    assert blue < 40


def test_blurhash_puts_more_components_along_the_long_side_of_portraits() -> None:
    output = render_output(encode(Image.new("RGB", (600, 800), (0, 0, 255))))
    assert blurhash.components(output.blurhash) == (3, 4)


def test_blurhash_follows_the_picture() -> None:
    top_light = Image.new("RGB", (800, 600), (20, 20, 20))
    top_light.paste((240, 240, 240), (0, 0, 800, 300))
    decoded = blurhash.decode(render_output(encode(top_light)).blurhash, 8, 8)
    assert sum(decoded[0][4]) > sum(decoded[7][4]) + 200


def test_dominant_colour_of_a_pure_red_image() -> None:
    output = render_output(encode(Image.new("RGB", (640, 480), (255, 0, 0))))
    assert output.dominant_color.startswith("#")
    assert len(output.dominant_color) == 7
    assert distance(output.dominant_color, (255, 0, 0)) <= 8


def test_dominant_colour_is_the_largest_area() -> None:
    image = Image.new("RGB", (1000, 600), (30, 60, 200))
    image.paste((240, 220, 40), (700, 0, 1000, 600))  # 30 % yellow, 70 % blue
    output = render_output(encode(image, "PNG"))
    assert distance(output.dominant_color, (30, 60, 200)) <= 12


def test_transparent_png_is_delivered_on_white() -> None:
    image = Image.new("RGBA", (800, 600), (0, 0, 0, 0))
    output = render_output(encode(image, "PNG"))
    assert distance(output.dominant_color, (255, 255, 255)) <= 3


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", ImageEmpty),
        (b"<html>not an image</html>", ImageUnsupportedType),
    ],
)
def test_bad_inputs(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        render_output(data)


def test_truncated_input_is_corrupt() -> None:
    data = encode(Image.effect_noise((800, 600), 40).convert("RGB"))
    with pytest.raises(ImageCorrupt):
        render_output(data[: len(data) // 2])
