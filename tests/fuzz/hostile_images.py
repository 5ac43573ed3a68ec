"""A corpus of malformed and hostile image files, built by code (nothing binary is committed).

Each entry is (bytes, expected): ``expected`` is an error code from ``shared.domain.errors`` or
``"ok"``, possibly with the upright size the prepared image must have (``"ok:portrait"``), and for
EXIF orientations the colour that must end up in the top-left corner.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageDraw

RED, BLUE = (230, 20, 20), (20, 20, 230)


@dataclass(frozen=True)
class Sample:
    data: bytes
    expected: str
    """``ok`` or an error code."""
    top_left: tuple[int, int, int] | None = None
    """For orientation samples: the colour the upright image has in its top-left corner."""
    portrait: bool | None = None


def _save(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _scene(width: int = 640, height: int = 480, mode: str = "RGB") -> Image.Image:
    image = Image.new("RGB", (width, height), (180, 170, 150))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, int(height * 0.6), width, height), fill=(110, 80, 60))
    draw.rectangle((0, 0, width // 4, height // 4), fill=RED)  # marks the upright top-left
    draw.rectangle((width * 3 // 4, height * 3 // 4, width, height), fill=BLUE)
    return image if mode == "RGB" else image.convert(mode)


def _half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def _png_bomb(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    row = b"\x00" + b"\x00" * width
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(64)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", body)
        + _png_chunk(b"IEND", b"")
    )


def _jpeg_with_size(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) claims another size."""
    data = bytearray(_save(_scene(64, 64), "JPEG"))
    marker = data.index(b"\xff\xc0")
    data[marker + 5 : marker + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _gif_with_screen(width: int, height: int) -> bytes:
    data = bytearray(_save(_scene(64, 64, "P"), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def _oriented(orientation: int) -> Sample:
    """Stored pixels + EXIF orientation such that the upright image has RED in its top-left."""
    upright = _scene(640, 480)
    inverse = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_90,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_270,
    }
    stored = upright.transpose(inverse[orientation]) if orientation in inverse else upright
    exif = Image.Exif()
    exif[0x0112] = orientation
    return Sample(_save(stored, "JPEG", exif=exif.tobytes()), "ok", top_left=RED, portrait=False)


def _animated(fmt: str) -> bytes:
    frames = [_scene(400, 300)] + [
        Image.new("RGB", (400, 300), colour) for colour in ((0, 90, 0), (0, 0, 90))
    ]
    return _save(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


def _huge_metadata() -> bytes:
    exif = Image.Exif()
    exif[0x010E] = "x" * 60_000  # ImageDescription
    exif[0x0112] = 1
    icc = b"\x00" * 200_000  # not a valid profile: must be ignored, not fatal
    return _save(_scene(), "JPEG", exif=exif.tobytes(), icc_profile=icc, comment=b"c" * 60_000)


def _png_text_flood() -> bytes:
    raw = _save(_scene(), "PNG")
    chunks = b"".join(_png_chunk(b"tEXt", b"k%d\x00" % n + b"v" * 50_000) for n in range(60))
    return raw[:33] + chunks + raw[33:]


def _sixteen_bit_grey() -> bytes:
    image = Image.new("I;16", (400, 300))
    image.paste(30000, (0, 0, 200, 300))
    return _save(image, "PNG")


def _float_tiff() -> bytes:
    return _save(_scene(400, 300, "L").convert("F"), "TIFF")


def _multipage_tiff() -> bytes:
    return _save(_scene(400, 300), "TIFF", save_all=True, append_images=[_scene(300, 300)])


def _bad_exif() -> bytes:
    data = bytearray(_save(_scene(), "JPEG", exif=Image.Exif().tobytes() or b"Exif\x00\x00MM\x00*"))
    soi_end = 2
    broken = b"\xff\xe1" + struct.pack(">H", 20) + b"Exif\x00\x00MM\x00*\xff\xff\xff\xff\x00\x00"
    return bytes(data[:soi_end] + broken + data[soi_end:])


def _invalid_orientation() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 9
    return _save(_scene(), "JPEG", exif=exif.tobytes())


BUILDERS: dict[str, Callable[[], Sample]] = {
    "empty": lambda: Sample(b"", "image_empty"),
    "random_bytes": lambda: Sample(bytes(range(256)) * 64, "image_unsupported_type"),
    "pdf": lambda: Sample(b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "image_unsupported_type"),
    "zip": lambda: Sample(b"PK\x03\x04" + b"\x00" * 200, "image_unsupported_type"),
    "svg": lambda: Sample(b'<svg xmlns="http://www.w3.org/2000/svg" width="9e9"/>', "image_unsupported_type"),
    "html_named_jpg": lambda: Sample(b"<html><script>alert(1)</script></html>", "image_unsupported_type"),
    "heic_brand_over_garbage": lambda: Sample(
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64, "image_corrupt"
    ),
    "jpeg_truncated": lambda: Sample(_half(_save(_scene(), "JPEG")), "image_corrupt"),
    "png_truncated": lambda: Sample(_half(_save(_scene(), "PNG")), "image_corrupt"),
    "jpeg_header_then_garbage": lambda: Sample(b"\xff\xd8\xff\xe0" + b"\x13" * 500, "image_corrupt"),
    "gif_js_polyglot": lambda: Sample(
        b"GIF89a/*\x00\x00*/=alert(document.domain);//" + b"\x00" * 40, "image_corrupt"
    ),
    "jpeg_zip_polyglot": lambda: Sample(_save(_scene(), "JPEG") + b"PK\x03\x04" + b"\x00" * 500, "ok"),
    "png_bomb_30000x30000": lambda: Sample(_png_bomb(30000, 30000), "image_too_many_pixels"),
    "jpeg_claims_65000x65000": lambda: Sample(_jpeg_with_size(65000, 65000), "image_too_many_pixels"),
    "gif_claims_65535x65535": lambda: Sample(_gif_with_screen(65535, 65535), "image_too_many_pixels"),
    "tiny_1x1": lambda: Sample(_save(Image.new("RGB", (1, 1)), "PNG"), "image_too_small"),
    "strip_5000x100": lambda: Sample(_save(_scene(5000, 100), "JPEG"), "image_too_small"),
    "cmyk_jpeg": lambda: Sample(_save(_scene(mode="CMYK"), "JPEG"), "ok"),
    "sixteen_bit_grey_png": lambda: Sample(_sixteen_bit_grey(), "ok"),
    "float_tiff": lambda: Sample(_float_tiff(), "ok"),
    "one_bit_png": lambda: Sample(_save(_scene(mode="1"), "PNG"), "ok"),
    "palette_png_with_transparency": lambda: Sample(_save(_scene(mode="P"), "PNG", transparency=0), "ok"),
    "rgba_png": lambda: Sample(_save(_scene(mode="RGBA"), "PNG"), "ok"),
    "la_png": lambda: Sample(_save(_scene(mode="LA"), "PNG"), "ok"),
    "animated_gif": lambda: Sample(_animated("GIF"), "ok"),
    "animated_webp": lambda: Sample(_animated("WEBP"), "ok"),
    "animated_png": lambda: Sample(_animated("PNG"), "ok"),
    "multipage_tiff": lambda: Sample(_multipage_tiff(), "ok"),
    "bmp": lambda: Sample(_save(_scene(), "BMP"), "ok"),
    "webp_lossless": lambda: Sample(_save(_scene(), "WEBP", lossless=True), "ok"),
    "progressive_jpeg": lambda: Sample(_save(_scene(), "JPEG", progressive=True), "ok"),
    "png_named_jpg": lambda: Sample(_save(_scene(), "PNG"), "ok"),
    "huge_metadata_jpeg": lambda: Sample(_huge_metadata(), "ok"),
    "png_text_flood_3mb": lambda: Sample(_png_text_flood(), "ok"),
    "broken_exif_segment": lambda: Sample(_bad_exif(), "ok"),
    "exif_orientation_9": lambda: Sample(_invalid_orientation(), "ok", top_left=RED),
    **{f"exif_orientation_{n}": (lambda n=n: _oriented(n)) for n in range(1, 9)},  # type: ignore[misc]
}


def corpus() -> dict[str, Sample]:
    return {name: build() for name, build in BUILDERS.items()}
