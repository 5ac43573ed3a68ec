"""prepare_image: the checks on an upload, in order, and the model input it produces."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageCms, ImageFile, ImageOps, JpegImagePlugin, features

from shared.domain.errors import (
    ImageCorrupt,
    ImageEmpty,
    ImageTooLarge,
    ImageTooManyPixels,
    ImageTooSmall,
    ImageUnsupportedType,
)
from shared.imaging.prepare import PreparedImage, accepted_image_types, prepare_image, sniff_image_type

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 50_000_000

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


# --- helpers ------------------------------------------------------------------------------
def encode(image: Image.Image, fmt: str = "JPEG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def prepare(data: bytes, **overrides: int) -> PreparedImage:
    options = {"max_bytes": MAX_BYTES, "max_pixels": MAX_PIXELS, "target_long_edge": 1024, "min_edge": 256}
    options.update(overrides)
    return prepare_image(data, **options)


def decode(prepared: PreparedImage) -> Image.Image:
    image = Image.open(io.BytesIO(prepared.data))
    assert image.format == "JPEG"
    assert image.size == (prepared.width, prepared.height)
    return image


def close(pixel: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


def assert_colours(got: tuple[tuple[int, ...], ...], expected: tuple[tuple[int, ...], ...]) -> None:
    assert len(got) == len(expected)
    assert all(close(a, b) for a, b in zip(got, expected, strict=True)), (got, expected)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def header_only_png(width: int, height: int) -> bytes:
    """A PNG whose IHDR promises width x height RGB pixels, with a tiny IDAT: no GB allocation."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    )


def quadrants(width: int = 512, height: int = 384) -> Image.Image:
    """Top-left red, top-right green, bottom-left blue, bottom-right white."""
    image = Image.new("RGB", (width, height))
    half_w, half_h = width // 2, height // 2
    image.paste(RED, (0, 0, half_w, half_h))
    image.paste(GREEN, (half_w, 0, width, half_h))
    image.paste(BLUE, (0, half_h, half_w, height))
    image.paste(WHITE, (half_w, half_h, width, height))
    return image


def quadrant_colours(image: Image.Image) -> tuple[tuple[int, ...], ...]:
    width, height = image.size
    spots = ((width // 4, height // 4), (3 * width // 4, height // 4), (width // 4, 3 * height // 4))
    spots += ((3 * width // 4, 3 * height // 4),)
    return tuple(image.convert("RGB").getpixel(spot) for spot in spots)  # type: ignore[misc]


def swapped_primaries_profile() -> bytes:
    """The sRGB profile with its red and green colorants exchanged: R=255 means sRGB green."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    (count,) = struct.unpack(">I", data[128:132])
    entries = {bytes(data[132 + 12 * i : 136 + 12 * i]): 132 + 12 * i for i in range(count)}
    red, green = entries[b"rXYZ"], entries[b"gXYZ"]
    data[red + 4 : red + 12], data[green + 4 : green + 12] = (
        data[green + 4 : green + 12],
        data[red + 4 : red + 12],
    )
    return bytes(data)


# --- sniffing ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("JPEG", "JPEG"), ("PNG", "PNG"), ("WEBP", "WEBP"), ("GIF", "GIF"), ("TIFF", "TIFF"), ("BMP", "BMP")],
)
def test_sniff_recognises_pillow_encoded_images(fmt: str, expected: str) -> None:
    assert sniff_image_type(encode(Image.new("RGB", (16, 16), RED), fmt)) == expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIC"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "HEIC"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "AVIF"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif", "AVIF"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", None),  # an MP4 video
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", None),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00", None),
        (b"BMnot really a bitmap header", None),
        (b"", None),
    ],
)
def test_sniff_by_magic_bytes(head: bytes, expected: str | None) -> None:
    assert sniff_image_type(head) == expected


def test_basic_types_are_accepted() -> None:
    assert {"JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP"} <= accepted_image_types()


# --- the checks, in order ---------------------------------------------------------------------
def test_empty_bytes() -> None:
    with pytest.raises(ImageEmpty) as caught:
        prepare(b"")
    assert caught.value.code == "image_empty"


def test_too_many_bytes_is_checked_before_the_type() -> None:
    with pytest.raises(ImageTooLarge) as caught:
        prepare(b"definitely not an image " * 10, max_bytes=100)
    assert caught.value.details["max_bytes"] == 100
    assert "limit" in caught.value.message


def test_oversize_image_is_refused_by_size() -> None:
    data = encode(Image.effect_noise((600, 400), 60).convert("RGB"), quality=95)
    with pytest.raises(ImageTooLarge):
        prepare(data, max_bytes=len(data) - 1)
    assert prepare(data, max_bytes=len(data)).width == 600


@pytest.mark.parametrize(
    ("data", "hint"),
    [
        (b"Hello, this is a text file and not a photo of a room.\n", "not a supported image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "PDF"),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00word/document.xml", "ZIP"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" width="900" height="600"></svg>', "SVG"),
    ],
)
def test_non_images_are_unsupported(data: bytes, hint: str) -> None:
    with pytest.raises(ImageUnsupportedType) as caught:
        prepare(data)
    assert hint in caught.value.message
    assert caught.value.http_status == 415


def heic(image: Image.Image, **options: object) -> bytes:
    """An iPhone-style HEIC, encoded by pillow-heif (HEVC through x265)."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    return encode(image, "HEIF", quality=90, **options)


def test_a_heic_photo_is_prepared_like_any_other() -> None:
    assert "HEIC" in accepted_image_types()
    data = heic(quadrants(640, 480))
    assert sniff_image_type(data) == "HEIC"
    prepared = prepare(data)
    assert (prepared.source_format, prepared.width, prepared.height) == ("HEIC", 640, 480)
    assert_colours(quadrant_colours(decode(prepared)), (RED, GREEN, BLUE, WHITE))


def test_a_heic_photo_taken_sideways_comes_out_upright_once() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # the camera was turned: show rotated 90 degrees clockwise
    prepared = prepare(heic(quadrants(640, 480), exif=exif.tobytes()))
    assert (prepared.width, prepared.height) == (480, 640)
    assert (prepared.source_width, prepared.source_height) == (480, 640)
    # Rotated clockwise: the bottom-left (blue) quadrant is now top-left, red top-right.
    assert_colours(quadrant_colours(decode(prepared)), (BLUE, RED, WHITE, GREEN))


def test_a_heic_brand_over_garbage_is_corrupt_not_a_crash() -> None:
    garbage = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200
    with pytest.raises(ImageCorrupt, match="HEIC"):
        prepare(garbage)


@pytest.mark.skipif(not features.check("avif"), reason="Pillow built without AVIF")
def test_avif_is_accepted_when_pillow_reads_it() -> None:
    prepared = prepare(encode(Image.new("RGB", (320, 320), BLUE), "AVIF", speed=10))
    assert prepared.source_format == "AVIF"
    assert close(decode(prepared).getpixel((10, 10)), BLUE)


def test_decompression_bomb_png_is_refused_without_allocating() -> None:
    bomb = header_only_png(30_000, 30_000)
    assert len(bomb) < 200
    with pytest.raises(ImageTooManyPixels) as caught:
        prepare(bomb, max_pixels=10**12)  # Pillow's own guard still applies above our limit
    assert caught.value.code == "image_too_many_pixels"


def test_pixel_limit_is_checked_from_the_header_before_decoding() -> None:
    # 25 MP promised but no real pixel data: decoding would fail with ImageCorrupt instead.
    with pytest.raises(ImageTooManyPixels, match="5000x5000"):
        prepare(header_only_png(5000, 5000), max_pixels=20_000_000)
    with pytest.raises(ImageCorrupt):
        prepare(header_only_png(5000, 5000), max_pixels=30_000_000)


def test_pillow_bomb_warning_counts_as_too_many_pixels() -> None:
    limit = Image.MAX_IMAGE_PIXELS
    assert limit is not None
    side = int((limit * 1.2) ** 0.5)  # above Pillow's warning threshold, below its error threshold
    with pytest.warns(Image.DecompressionBombWarning), pytest.raises(ImageTooManyPixels):
        prepare(header_only_png(side, side), max_pixels=10**12)


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
def test_pillow_bomb_warning_raised_as_error_is_too_many_pixels() -> None:
    limit = Image.MAX_IMAGE_PIXELS
    assert limit is not None
    side = int((limit * 1.2) ** 0.5)
    with pytest.raises(ImageTooManyPixels):
        prepare(header_only_png(side, side), max_pixels=10**12)


def test_global_pillow_settings_are_left_alone() -> None:
    before = Image.MAX_IMAGE_PIXELS
    prepare(encode(quadrants()), max_pixels=1000 * 1000)
    with pytest.raises(ImageTooManyPixels):
        prepare(header_only_png(2000, 2000), max_pixels=1000 * 1000)
    assert before == Image.MAX_IMAGE_PIXELS
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.parametrize("keep", [0.5, 0.9, -2])
def test_truncated_jpeg_is_corrupt(keep: float) -> None:
    data = encode(Image.effect_noise((800, 600), 40).convert("RGB"))
    cut = data[:keep] if isinstance(keep, int) else data[: int(len(data) * keep)]
    with pytest.raises(ImageCorrupt) as caught:
        prepare(cut)
    assert caught.value.code == "image_corrupt"


def test_truncated_jpeg_is_corrupt_on_the_draft_path_too() -> None:
    data = encode(Image.effect_noise((3000, 2000), 40).convert("RGB"))
    with pytest.raises(ImageCorrupt):
        prepare(data[: len(data) * 2 // 3], target_long_edge=512)


def test_truncated_png_is_corrupt() -> None:
    data = encode(Image.effect_noise((600, 400), 40).convert("RGB"), "PNG")
    with pytest.raises(ImageCorrupt):
        prepare(data[: len(data) // 2])


def test_damaged_header_is_corrupt() -> None:
    data = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR garbage that is not a header"
    with pytest.raises(ImageCorrupt):
        prepare(data)


def test_corrupt_is_reported_before_too_small() -> None:
    data = encode(Image.effect_noise((100, 80), 40).convert("RGB"))
    with pytest.raises(ImageCorrupt):
        prepare(data[: len(data) // 2])


@pytest.mark.parametrize("size", [(200, 600), (600, 255), (64, 64)])
def test_too_small(size: tuple[int, int]) -> None:
    with pytest.raises(ImageTooSmall) as caught:
        prepare(encode(Image.new("RGB", size, RED)))
    assert "256" in caught.value.message
    assert caught.value.details["min_edge"] == 256


def test_min_edge_is_configurable() -> None:
    assert prepare(encode(Image.new("RGB", (200, 150), RED)), min_edge=100).width == 200


# --- geometry -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("size", "target", "expected"),
    [
        ((4000, 3000), 1024, (1024, 768)),
        ((3000, 4000), 1024, (768, 1024)),
        ((1601, 1067), 1024, (1024, 680)),
        ((1001, 667), 768, (768, 504)),
        ((777, 1333), 1024, (592, 1024)),
        ((640, 480), 1024, (640, 480)),  # never upscaled
        ((643, 483), 1024, (640, 480)),  # only trimmed to multiples of 8
        ((300, 300), 1024, (296, 296)),
        ((257, 4000), 1024, (64, 1024)),
    ],
)
def test_output_size(size: tuple[int, int], target: int, expected: tuple[int, int]) -> None:
    prepared = prepare(encode(Image.new("RGB", size, (120, 130, 140))), target_long_edge=target)
    assert (prepared.width, prepared.height) == expected
    assert prepared.width % 8 == 0
    assert prepared.height % 8 == 0
    assert (prepared.source_width, prepared.source_height) == size


def test_aspect_ratio_is_kept_not_stretched() -> None:
    # A centred circle stays a circle: trimming to multiples of 8 crops, it does not squash.
    image = Image.new("RGB", (1603, 1069), WHITE)
    from PIL import ImageDraw

    ImageDraw.Draw(image).ellipse((301, 34, 1301, 1034), fill=(0, 0, 0))
    out = decode(prepare(encode(image, "PNG"), target_long_edge=800)).convert("L")
    bbox = out.point(lambda v: 255 if v < 128 else 0).getbbox()
    assert bbox is not None
    width, height = bbox[2] - bbox[0], bbox[3] - bbox[1]
    assert abs(width - height) <= 2


def test_large_jpeg_uses_draft_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    drafted: list[tuple[int, int]] = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):  # type: ignore[no-untyped-def]
        result = original(self, mode, size)
        drafted.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    prepared = prepare(encode(quadrants(6000, 4000), quality=80), target_long_edge=1024)
    assert drafted == [(1500, 1000)]  # decoded at 1/4 scale, still larger than the output
    assert (prepared.width, prepared.height) == (1024, 680)
    assert (prepared.source_width, prepared.source_height) == (6000, 4000)
    assert_colours(quadrant_colours(decode(prepared)), UPRIGHT[1])


# --- orientation ------------------------------------------------------------------------------
# Where the raw quadrants (TL red, TR green, BL blue, BR white) end up for each EXIF orientation.
UPRIGHT = {
    1: (RED, GREEN, BLUE, WHITE),
    2: (GREEN, RED, WHITE, BLUE),
    3: (WHITE, BLUE, GREEN, RED),
    4: (BLUE, WHITE, RED, GREEN),
    5: (RED, BLUE, GREEN, WHITE),
    6: (BLUE, RED, WHITE, GREEN),
    7: (WHITE, GREEN, BLUE, RED),
    8: (GREEN, WHITE, RED, BLUE),
}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(orientation: int) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    data = encode(quadrants(512, 384), exif=exif.tobytes(), quality=95)
    prepared = prepare(data, target_long_edge=512)
    out = decode(prepared)
    rotated = orientation >= 5
    assert out.size == ((384, 512) if rotated else (512, 384))
    assert (prepared.source_width, prepared.source_height) == out.size
    colours = quadrant_colours(out)
    assert_colours(colours, UPRIGHT[orientation])
    # Same answer as Pillow's reference implementation.
    assert_colours(colours, quadrant_colours(ImageOps.exif_transpose(Image.open(io.BytesIO(data)))))
    assert ExifTags.Base.Orientation not in out.getexif()


def test_orientation_with_downscale() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    prepared = prepare(encode(quadrants(4000, 3000), exif=exif.tobytes()), target_long_edge=1024)
    out = decode(prepared)
    assert out.size == (768, 1024)
    assert (prepared.source_width, prepared.source_height) == (3000, 4000)
    assert_colours(quadrant_colours(out), UPRIGHT[6])


# --- metadata -------------------------------------------------------------------------------
def test_exif_gps_xmp_and_icc_are_stripped() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "RoomCam"
    exif[ExifTags.Base.Model] = "Secret Model 9"
    exif[ExifTags.Base.Orientation] = 1
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (51.0, 30.0, 12.5),
        ExifTags.GPS.GPSLongitudeRef: "W",
        ExifTags.GPS.GPSLongitude: (0.0, 7.0, 39.0),
    }
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description secret="yes"/></rdf:RDF></x:xmpmeta>'
    )
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(quadrants(), exif=exif.tobytes(), xmp=xmp, icc_profile=icc, comment="shot at home")
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the fixture really has GPS

    prepared = prepare(data, target_long_edge=512)
    out = decode(prepared)
    assert not out.getexif()
    for key in ("exif", "xmp", "icc_profile", "comment"):
        assert key not in out.info
    for marker in (b"Exif\x00\x00", b"RoomCam", b"Secret Model", b"xmpmeta", b"ICC_PROFILE", b"shot at home"):
        assert marker not in prepared.data


def test_png_text_and_exif_are_stripped() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "someone private")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "RoomCam"
    prepared = prepare(encode(quadrants(), "PNG", pnginfo=info, exif=exif.tobytes()))
    assert b"someone private" not in prepared.data
    assert b"RoomCam" not in prepared.data


# --- colour and modes ---------------------------------------------------------------------------
def test_cmyk_jpeg_becomes_rgb() -> None:
    cmyk = Image.new("CMYK", (400, 300), (0, 255, 255, 0))  # process red
    data = encode(cmyk)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    out = decode(prepare(data))
    assert out.mode == "RGB"
    assert close(out.getpixel((200, 150)), RED)


def test_sixteen_bit_grayscale_png_is_scaled_not_clipped() -> None:
    ramp = Image.linear_gradient("L").resize((256, 512))  # black at the top, white at the bottom
    sixteen = ramp.convert("I").point(lambda v: v * 257).convert("I;16")
    data = encode(sixteen, "PNG")
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    out = decode(prepare(data, target_long_edge=512))
    assert close(out.getpixel((128, 2)), (0, 0, 0), 6)
    assert close(out.getpixel((128, 256)), (128, 128, 128), 6)
    assert close(out.getpixel((128, 509)), WHITE, 6)


def test_palette_png_transparency_goes_onto_white() -> None:
    image = Image.new("P", (400, 300), 0)
    image.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    image.paste(1, (200, 0, 400, 300))
    data = encode(image, "PNG", transparency=0)
    assert Image.open(io.BytesIO(data)).mode == "P"
    out = decode(prepare(data))
    assert close(out.getpixel((50, 150)), WHITE, 8)
    assert close(out.getpixel((350, 150)), BLUE)


def test_rgba_alpha_is_flattened_onto_white() -> None:
    image = Image.new("RGBA", (600, 300), (0, 0, 0, 0))
    image.paste((0, 255, 0, 255), (200, 0, 400, 300))
    image.paste((255, 0, 0, 128), (400, 0, 600, 300))
    out = decode(prepare(encode(image, "PNG")))
    assert close(out.getpixel((100, 150)), WHITE, 8)
    assert close(out.getpixel((300, 150)), GREEN)
    assert close(out.getpixel((500, 150)), (255, 127, 127), 12)


def test_grey_with_alpha_is_flattened_onto_white() -> None:
    image = Image.new("LA", (400, 300), (0, 0))
    image.paste((0, 255), (200, 0, 400, 300))
    out = decode(prepare(encode(image, "PNG")))
    assert close(out.getpixel((100, 150)), WHITE, 8)
    assert close(out.getpixel((300, 150)), (0, 0, 0), 8)


def test_embedded_icc_profile_is_converted_to_srgb() -> None:
    # Under a profile whose red and green primaries are swapped, RGB (255, 0, 0) *is* green.
    data = encode(Image.new("RGB", (400, 300), RED), "PNG", icc_profile=swapped_primaries_profile())
    out = decode(prepare(data))
    assert close(out.getpixel((200, 150)), GREEN)
    assert "icc_profile" not in out.info


def test_srgb_icc_profile_keeps_colours() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = decode(prepare(encode(Image.new("RGB", (400, 300), (200, 120, 40)), icc_profile=icc)))
    assert close(out.getpixel((200, 150)), (200, 120, 40), 6)


def test_unusable_icc_profile_is_ignored() -> None:
    data = encode(Image.new("RGB", (400, 300), RED), "PNG", icc_profile=b"not a profile" * 20)
    assert close(decode(prepare(data)).getpixel((200, 150)), RED)


def test_lab_tiff_is_converted_with_the_lab_profile() -> None:
    lab = Image.new("LAB", (400, 300), (136, 208, 195))  # L*=53 a*=80 b*=67: sRGB red
    data = encode(lab, "TIFF")
    assert Image.open(io.BytesIO(data)).mode == "LAB"
    assert close(decode(prepare(data)).getpixel((200, 150)), RED, 25)


def test_animated_gif_uses_the_first_frame() -> None:
    frames = [Image.new("RGB", (400, 300), colour) for colour in (RED, BLUE, GREEN)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 3
    prepared = prepare(data)
    assert prepared.source_format == "GIF"
    assert close(decode(prepared).getpixel((200, 150)), RED)


def test_animated_webp_uses_the_first_frame() -> None:
    frames = [Image.new("RGB", (400, 300), colour) for colour in (BLUE, RED)]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, lossless=True)
    assert close(decode(prepare(data)).getpixel((200, 150)), BLUE)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF", "BMP", "GIF"])
def test_other_formats_become_jpeg(fmt: str) -> None:
    prepared = prepare(encode(quadrants(), fmt), target_long_edge=512)
    assert prepared.source_format == fmt
    assert (prepared.width, prepared.height) == (512, 384)
    assert_colours(quadrant_colours(decode(prepared)), UPRIGHT[1])


def test_the_file_name_is_irrelevant(tmp_path: Path) -> None:
    misnamed_png = tmp_path / "holiday.jpg"
    misnamed_png.write_bytes(encode(quadrants(), "PNG"))
    assert prepare(misnamed_png.read_bytes()).source_format == "PNG"

    misnamed_text = tmp_path / "room.jpeg"
    misnamed_text.write_text("just text, even though the name says JPEG")
    with pytest.raises(ImageUnsupportedType):
        prepare(misnamed_text.read_bytes())


def test_output_is_a_plain_srgb_jpeg() -> None:
    prepared = prepare(encode(quadrants(1200, 900), "PNG"))
    assert sniff_image_type(prepared.data) == "JPEG"
    out = decode(prepared)
    assert out.mode == "RGB"
    assert (out.width, out.height) == (1024, 768)
