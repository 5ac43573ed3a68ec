"""Check an uploaded room photo and turn it into the model input.

The checks run cheapest first and never trust the file name: empty, too many bytes, magic bytes
of an accepted image type, pixel count from the header (before any decoding), full decode
(truncated files are refused, not padded with grey), smallest side. Then the photo is decoded
at a reduced JPEG scale when that is enough (``Image.draft``), flattened (first frame, alpha onto
white, 8 bits), resized to the model's long edge (never up), turned to sRGB with its ICC profile,
rotated upright from its EXIF orientation, and written as a JPEG with no metadata at all (no EXIF,
GPS, XMP or ICC): dimensions are multiples of 8, as diffusion models want.

Pillow's own decompression-bomb guard (``Image.MAX_IMAGE_PIXELS``, process-wide) is left as it
is and never changed per call (that would race between threads): the per-call ``max_pixels`` is
checked here from the header, and Pillow's guard stays as a second line. An image above Pillow's
warning threshold is refused too, so the effective limit is ``min(max_pixels, MAX_IMAGE_PIXELS)``.
``ImageFile.LOAD_TRUNCATED_IMAGES`` must stay ``False`` (Pillow's default); this module never sets it.
"""

from __future__ import annotations

import importlib.util
import io
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageFile

from shared.domain.errors import (
    ImageCorrupt,
    ImageEmpty,
    ImageTooLarge,
    ImageTooManyPixels,
    ImageTooSmall,
    ImageUnsupportedType,
)
from shared.imaging.normalize import apply_orientation, convert_to_srgb, flatten, read_orientation, swaps_axes

JPEG_QUALITY = 92

# Sniffed type -> the Pillow plugin allowed to open it (opening is restricted to that one plugin,
# so bytes can never reach an unexpected decoder such as EPS through Pillow's guessing).
_PILLOW_FORMAT = {
    "JPEG": "JPEG",
    "PNG": "PNG",
    "WEBP": "WEBP",
    "GIF": "GIF",
    "TIFF": "TIFF",
    "BMP": "BMP",
    "AVIF": "AVIF",
    "HEIC": "HEIF",  # through pillow-heif, registered on first use
}

_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_AVIF_BRANDS = {b"avif", b"avis"}
_HEIF_GENERIC_BRANDS = {b"mif1", b"msf1"}
_BMP_HEADER_SIZES = {12, 16, 40, 52, 56, 64, 108, 124}

# A few well-known non-images, only to make the refusal message more helpful.
_OTHER_SIGNATURES = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an office document)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"<svg", "an SVG drawing"),
    (b"<?xml", "an XML document"),
)


@dataclass(frozen=True)
class PreparedImage:
    data: bytes
    """sRGB JPEG without metadata, upright, ``width`` x ``height``."""
    width: int
    height: int
    source_format: str
    """The type found by magic bytes: ``JPEG``, ``PNG``, ``WEBP``, ``GIF``, ``TIFF``, ``BMP``, ``AVIF``,
    ``HEIC``."""
    source_width: int
    """Upright (after EXIF orientation) size of the original photo."""
    source_height: int


def sniff_image_type(data: bytes) -> str | None:
    """The image type from the magic bytes, or ``None`` when the bytes are not a known image.

    Returns ``JPEG``, ``PNG``, ``WEBP``, ``GIF``, ``TIFF``, ``BMP``, ``AVIF`` or ``HEIC``. Knowing
    the type does not mean it is accepted: see ``accepted_image_types``.
    """
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head[:2] == b"BM" and len(head) >= 18 and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES:
        return "BMP"
    if head[4:8] == b"ftyp":
        return _sniff_heif_family(data)
    return None


def accepted_image_types() -> frozenset[str]:
    """Sniffed types this process can decode (AVIF depends on the Pillow build, HEIC on pillow-heif)."""
    Image.init()
    kinds = {kind for kind, pillow_format in _PILLOW_FORMAT.items() if pillow_format in Image.OPEN}
    if "HEIC" not in kinds and _heif_plugin_installed():
        kinds.add("HEIC")  # registered when the first HEIC arrives: see _register_heif
    return frozenset(kinds)


@cache
def _heif_plugin_installed() -> bool:
    return importlib.util.find_spec("pillow_heif") is not None


@cache
def _register_heif() -> None:
    """Teach Pillow HEIC (iPhone photos) through pillow-heif. Imported on the first HEIC only: it
    costs about 150 ms, which no other photo should pay at cold start."""
    from pillow_heif import register_heif_opener

    # libheif applies the container's rotation and mirroring while decoding and pillow-heif then
    # resets the EXIF orientation, so read_orientation never turns a HEIC photo a second time.
    register_heif_opener(thumbnails=False)


def open_image(data: bytes, *, max_bytes: int, max_pixels: int) -> tuple[ImageFile.ImageFile, str]:
    """Run the checks that need no decoding; return the opened (header-only) image and its type.

    Raises ``ImageEmpty``, ``ImageTooLarge``, ``ImageUnsupportedType``, ``ImageTooManyPixels`` or
    ``ImageCorrupt`` (a recognised signature whose header Pillow cannot parse).
    """
    if not data:
        raise ImageEmpty("the image is empty (0 bytes)")
    if len(data) > max_bytes:
        raise ImageTooLarge(
            f"the image is {_mebibytes(len(data))}; the limit is {_mebibytes(max_bytes)}",
            details={"bytes": len(data), "max_bytes": max_bytes},
        )
    kind = sniff_image_type(data)
    accepted = accepted_image_types()
    if kind is None or kind not in accepted:
        raise ImageUnsupportedType(_unsupported_message(data, kind, accepted), details={"detected": kind})
    if kind == "HEIC":
        _register_heif()
    try:
        image = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMAT[kind]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard (the warning arrives as an exception when warnings are errors).
        raise ImageTooManyPixels(
            "the image has too many pixels to process safely", details={"max_pixels": max_pixels}
        ) from None
    except Exception:  # Pillow raises many types for malformed headers
        # Not Pillow's text: it names Python objects (``<_io.BytesIO object at 0x…>``), not the photo.
        raise ImageCorrupt(
            f"the {kind} image could not be read: its header is damaged or not a valid {kind} file"
        ) from None
    if not isinstance(image, ImageFile.ImageFile):  # pragma: no cover - Image.open always gives one
        raise ImageCorrupt(f"the {kind} image could not be read")
    width, height = image.size
    limit = max_pixels if Image.MAX_IMAGE_PIXELS is None else min(max_pixels, Image.MAX_IMAGE_PIXELS)
    if width * height > limit:
        raise ImageTooManyPixels(
            f"the image is {width}x{height} ({width * height / 1e6:.1f} MP); "
            f"the limit is {limit / 1e6:.1f} MP",
            details={"width": width, "height": height, "max_pixels": limit},
        )
    if width < 1 or height < 1:
        raise ImageCorrupt(f"the {kind} image declares no pixels ({width}x{height})")
    return image, kind


def load_image(image: ImageFile.ImageFile) -> None:
    """Decode every pixel of the current frame now; ``ImageCorrupt`` when the data is truncated or bad."""
    try:
        image.load()
    except Image.DecompressionBombError:
        raise ImageTooManyPixels("the image has too many pixels to process safely") from None
    except Exception:  # Pillow's text names its internals, never something a customer can act on
        raise ImageCorrupt("the image data is truncated or damaged") from None


def prepare_image(
    data: bytes, *, max_bytes: int, max_pixels: int, target_long_edge: int, min_edge: int = 256
) -> PreparedImage:
    """Check ``data`` and return the model input: upright sRGB JPEG, long edge <= ``target_long_edge``.

    Raises, in this order: ``ImageEmpty``, ``ImageTooLarge``, ``ImageUnsupportedType``,
    ``ImageTooManyPixels``, ``ImageCorrupt``, ``ImageTooSmall``. The photo is only ever scaled
    down; both output dimensions are floored to multiples of 8 by trimming at most 7 pixels'
    worth of the source, centred (no stretching).
    """
    if target_long_edge < 8:
        raise ValueError("target_long_edge must be at least 8")
    image, kind = open_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    header_width, header_height = image.size
    out_width, out_height, scale = _output_geometry(header_width, header_height, target_long_edge)
    if kind == "JPEG":
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the result still covers the output.
        image.draft(image.mode, (out_width, out_height))
    load_image(image)

    orientation = read_orientation(image)
    upright_width, upright_height = (
        (header_height, header_width) if swaps_axes(orientation) else (header_width, header_height)
    )
    if min(header_width, header_height) < min_edge:
        raise ImageTooSmall(
            f"the image is {upright_width}x{upright_height} px; "
            f"its shorter side must be at least {min_edge} px",
            details={"width": upright_width, "height": upright_height, "min_edge": min_edge},
        )

    icc_profile = image.info.get("icc_profile")
    pixels = flatten(image)  # first frame only: Image.open leaves multi-frame files on frame 0
    pixels = _resize(pixels, (header_width, header_height), (out_width, out_height), scale)
    pixels = convert_to_srgb(pixels, icc_profile)
    pixels = apply_orientation(pixels, orientation)

    buffer = io.BytesIO()
    pixels.info.clear()  # nothing from the source travels into the output
    pixels.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return PreparedImage(
        data=buffer.getvalue(),
        width=pixels.width,
        height=pixels.height,
        source_format=kind,
        source_width=upright_width,
        source_height=upright_height,
    )


def _output_geometry(width: int, height: int, target_long_edge: int) -> tuple[int, int, float]:
    """Output size and scale: long edge down (never up) to ``target_long_edge``, both sides floored
    to multiples of 8. The scale is the exact source-to-output factor, before flooring."""
    long_edge = max(width, height)
    out_long = min(target_long_edge, long_edge)
    scaled_width = width * out_long // long_edge
    scaled_height = height * out_long // long_edge
    out_width = max(8, scaled_width - scaled_width % 8)
    out_height = max(8, scaled_height - scaled_height % 8)
    return out_width, out_height, out_long / long_edge


def _resize(
    image: Image.Image, source_size: tuple[int, int], out_size: tuple[int, int], scale: float
) -> Image.Image:
    """Resize the decoded (maybe drafted) ``image`` to ``out_size``, taking the centred source box.

    The output keeps the source's aspect ratio exactly: flooring to multiples of 8 trims the
    matching sliver of the source (at most 7 output pixels) rather than stretching it.
    """
    source_width, source_height = source_size
    out_width, out_height = out_size
    if image.size == out_size:
        return image
    if scale == 1.0 and image.size == source_size:
        # Only the multiple-of-8 trim: crop whole pixels, no resampling blur.
        crop_left, crop_top = (source_width - out_width) // 2, (source_height - out_height) // 2
        return image.crop((crop_left, crop_top, crop_left + out_width, crop_top + out_height))
    # Box in source pixels, then in decoded pixels (draft may have divided the size by 2, 4 or 8).
    box_width = min(float(source_width), out_width / scale)
    box_height = min(float(source_height), out_height / scale)
    to_decoded_x = image.width / source_width
    to_decoded_y = image.height / source_height
    left = (source_width - box_width) / 2 * to_decoded_x
    top = (source_height - box_height) / 2 * to_decoded_y
    box = (left, top, left + box_width * to_decoded_x, top + box_height * to_decoded_y)
    return image.resize(out_size, Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)


def _sniff_heif_family(data: bytes) -> str | None:
    box_size = int.from_bytes(data[0:4], "big")
    major = data[8:12]
    end = min(box_size, len(data), 256) if box_size >= 16 else 16
    compatible = {data[offset : offset + 4] for offset in range(16, end - 3, 4)}
    if major in _AVIF_BRANDS or (major in _HEIF_GENERIC_BRANDS and compatible & _AVIF_BRANDS):
        return "AVIF"
    if major in _HEIC_BRANDS or major in _HEIF_GENERIC_BRANDS or compatible & _HEIC_BRANDS:
        return "HEIC"
    return None


def _unsupported_message(data: bytes, kind: str | None, accepted: frozenset[str]) -> str:
    allowed = ", ".join(sorted(accepted))
    if kind is not None:
        return f"{kind} images are not supported here; send one of: {allowed}"
    stripped = data[:64].lstrip()
    for signature, description in _OTHER_SIGNATURES:
        if stripped.startswith(signature):
            return f"the file is {description}, not an image; send one of: {allowed}"
    return f"the file is not a supported image (checked by content, not by name); send one of: {allowed}"


def _mebibytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


SIGNATURE_BYTES = 256
"""Enough of a file's start for ``check_image_signature`` (HEIF brands sit in the first box)."""


def check_image_signature(head: bytes) -> str:
    """The accepted image type of a file from its first ``SIGNATURE_BYTES`` bytes.

    Raises ``ImageEmpty`` or ``ImageUnsupportedType`` with the same messages as ``open_image``,
    without fetching the rest of the file (the S3 inbox checks drops this way).
    """
    if not head:
        raise ImageEmpty("the image is empty (0 bytes)")
    kind = sniff_image_type(head)
    accepted = accepted_image_types()
    if kind is None or kind not in accepted:
        raise ImageUnsupportedType(_unsupported_message(head, kind, accepted), details={"detected": kind})
    return kind
