"""GIF, TIFF and BMP are accepted wherever they are advertised, and no customer-facing image message
shows Python internals (issue 13, item 15)."""

from __future__ import annotations

import io
import mimetypes
import re

import pytest
from PIL import Image

from shared.domain.errors import ImageError
from shared.domain.upload import ACCEPTED_CONTENT_TYPES
from shared.imaging.prepare import prepare_image
from tests.conftest import room_photo
from tests.fuzz.hostile_images import corpus

INTERNALS = re.compile(r"<[\w.]+ object at 0x[0-9a-f]+>|_io\.|0x[0-9a-f]{6,}|Traceback")
ADVERTISED = {"GIF": ".gif", "TIFF": ".tif", "BMP": ".bmp"}


@pytest.mark.parametrize(("fmt", "suffix"), sorted(ADVERTISED.items()))
def test_an_advertised_format_is_accepted_for_upload_and_converted(fmt: str, suffix: str) -> None:
    # What the CLI sends: the content type guessed from the file name (shared.local.client).
    content_type = mimetypes.guess_type(f"room{suffix}")[0]
    assert content_type in ACCEPTED_CONTENT_TYPES
    prepared = prepare_image(
        room_photo(fmt=fmt), max_bytes=25 * 1024 * 1024, max_pixels=89_000_000, target_long_edge=1024
    )
    assert Image.open(io.BytesIO(prepared.data)).format == "JPEG"


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a" + b"\x00" * 64,
        b"BM" + b"\x00" * 12 + (40).to_bytes(4, "little") + b"\xff" * 40,
        b"II*\x00junk",
    ],
    ids=["gif", "bmp", "tiff"],
)
def test_an_unreadable_header_says_so_without_internals(data: bytes) -> None:
    with pytest.raises(ImageError) as raised:
        prepare_image(data, max_bytes=1 << 20, max_pixels=89_000_000, target_long_edge=1024)
    assert raised.value.code == "image_corrupt"
    assert not INTERNALS.search(raised.value.message), raised.value.message
    assert "could not be read" in raised.value.message


def test_no_message_in_the_hostile_corpus_shows_internals() -> None:
    for name, sample in corpus().items():
        if sample.expected == "ok":
            continue
        with pytest.raises(ImageError) as raised:
            prepare_image(
                sample.data, max_bytes=25 * 1024 * 1024, max_pixels=89_000_000, target_long_edge=1024
            )
        assert not INTERNALS.search(raised.value.message), (name, raised.value.message)
