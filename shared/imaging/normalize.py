"""Bring any decoded Pillow image to upright, 8-bit, sRGB ``RGB``.

Used by ``prepare`` (model input), ``variants`` (delivered images) and the preview provider.
The steps are split so callers can resize between them while the image is still in its
source colour space (cheaper: the ICC transform then runs on the small image):

1. ``read_orientation`` on the freshly loaded image (EXIF or XMP ``Orientation``);
2. ``flatten`` to one of ``RGB``, ``L``, ``CMYK``, ``LAB`` (alpha onto white, palette expanded,
   16-bit and float scaled to 8 bits);
3. ``convert_to_srgb`` with the embedded ICC profile when it fits the pixels;
4. ``apply_orientation`` last, on the smallest image.
"""

from __future__ import annotations

import functools
import io
import logging

from PIL import ExifTags, Image, ImageCms

logger = logging.getLogger(__name__)

WHITE = (255, 255, 255)

# Same table as ``PIL.ImageOps.exif_transpose``; applied here after resizing instead of on the
# full-size decode, and independently of whether the (possibly resized) image still has EXIF.
_TRANSPOSE_FOR_ORIENTATION: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# Colour modes the ICC step accepts, with the ICC colour space each must be described in.
_ICC_SPACE_FOR_MODE = {"RGB": "RGB", "L": "GRAY", "CMYK": "CMYK", "LAB": "Lab"}


def read_orientation(image: Image.Image) -> int:
    """The EXIF (or XMP) orientation, 1-8; 1 when absent or unreadable. Call after ``load()``."""
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # malformed EXIF must not fail an upload; the photo is just not rotated
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def swaps_axes(orientation: int) -> bool:
    """True when showing the image upright exchanges its width and height."""
    return orientation in (5, 6, 7, 8)


def apply_orientation(image: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE_FOR_ORIENTATION.get(orientation)
    return image if method is None else image.transpose(method)


def flatten(image: Image.Image) -> Image.Image:
    """8-bit pixels in ``RGB``, ``L``, ``CMYK`` or ``LAB``; transparency composited onto white."""
    mode = image.mode
    if mode in _ICC_SPACE_FOR_MODE:
        return image
    if mode == "1":
        return image.convert("L")
    if mode == "P":
        has_alpha = "transparency" in image.info or (
            image.palette is not None and image.palette.mode == "RGBA"
        )
        return _onto_white(image.convert("RGBA")) if has_alpha else image.convert("RGB")
    if mode in ("RGBA", "RGBa", "PA"):
        return _onto_white(image.convert("RGBA"))
    if mode in ("LA", "La"):
        la = image.convert("LA")
        background = Image.new("L", la.size, 255)
        background.paste(la.getchannel("L"), mask=la.getchannel("A"))
        return background
    if mode == "I" or mode.startswith("I;16"):
        return _sixteen_bit_to_l(image)
    if mode == "F":
        _, high = image.getextrema()
        scale = 255.0 if isinstance(high, float) and high <= 1.0 else 1.0
        return image.point(lambda value: value * scale).convert("L")
    return image.convert("RGB")  # RGBX, YCbCr, HSV and anything Pillow can turn into RGB


def convert_to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """``RGB`` in sRGB. ``image`` comes from ``flatten``; ``icc_profile`` is the source's embedded one.

    A profile that cannot be parsed, or that describes a different colour space than the pixels
    (it happens), is ignored rather than failing the image: the pixels are then taken as sRGB.
    """
    mode = image.mode
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            if source.profile.xcolor_space.strip() == _ICC_SPACE_FOR_MODE.get(mode):
                return ImageCms.buildTransform(source, _srgb_profile(), mode, "RGB").apply(image)
            logger.info("embedded ICC profile does not match %s pixels; ignoring it", mode)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as error:
            logger.info("embedded ICC profile is unusable; ignoring it: %s", error)
    if mode == "LAB":
        return ImageCms.buildTransform(_lab_profile(), _srgb_profile(), "LAB", "RGB").apply(image)
    return image if mode == "RGB" else image.convert("RGB")


def to_srgb(image: Image.Image) -> Image.Image:
    """``flatten`` then ``convert_to_srgb`` with the image's own ICC profile (no orientation)."""
    return convert_to_srgb(flatten(image), image.info.get("icc_profile"))


def _onto_white(rgba: Image.Image) -> Image.Image:
    background = Image.new("RGBA", rgba.size, (*WHITE, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _sixteen_bit_to_l(image: Image.Image) -> Image.Image:
    wide = image.convert("I")
    if image.mode.startswith("I;16"):
        high = 65535
    else:
        _, extreme = wide.getextrema()
        high = int(extreme) if isinstance(extreme, int | float) else 255
        # 32-bit integer images: 8-bit data stays as is, 16-bit data (the usual case) scales.
        high = 255 if high <= 255 else 65535 if high <= 65535 else high
    if high == 255:
        return wide.convert("L")
    scale = 255.0 / high
    return wide.point(lambda value: value * scale).convert("L")


@functools.cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@functools.cache
def _lab_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB"))
