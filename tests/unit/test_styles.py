from __future__ import annotations

import re
from typing import Any

import pytest

from shared.domain.errors import InvalidPalette, UnknownRoomType, UnknownStyle, ValidationFailed
from shared.domain.styles import (
    MAX_PALETTE_COLOURS,
    ROOM_TYPES,
    STYLES,
    RoomType,
    Style,
    get_room_type,
    get_style,
    normalize_hex,
    parse_palette,
)

SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
HEX = re.compile(r"#[0-9a-f]{6}")

REQUIRED_STYLES = {
    "scandinavian",
    "japandi",
    "mid_century_modern",
    "industrial",
    "bohemian",
    "minimalist",
    "modern_farmhouse",
    "coastal",
    "art_deco",
    "traditional",
    "contemporary",
    "rustic",
    "mediterranean",
    "wabi_sabi",
    "maximalist",
    "french_country",
}
REQUIRED_ROOM_TYPES = {
    "living_room",
    "bedroom",
    "kitchen",
    "dining_room",
    "bathroom",
    "home_office",
    "kids_room",
    "nursery",
    "entryway",
    "outdoor_patio",
    "studio_apartment",
}


# --- catalogue --------------------------------------------------------------------------
def test_catalogue_sizes_and_required_entries() -> None:
    assert len(STYLES) >= 14
    assert len(ROOM_TYPES) >= 10
    assert set(STYLES) >= REQUIRED_STYLES
    assert set(ROOM_TYPES) >= REQUIRED_ROOM_TYPES


@pytest.mark.parametrize("catalogue", [STYLES, ROOM_TYPES], ids=["styles", "room_types"])
def test_ids_are_snake_case_keys_and_names_unique(catalogue: Any) -> None:
    for key, entry in catalogue.items():
        assert key == entry.id
        assert SNAKE_CASE.fullmatch(entry.id), entry.id
        assert entry.name.strip()
    names = [entry.name.casefold() for entry in catalogue.values()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("catalogue", [STYLES, ROOM_TYPES], ids=["styles", "room_types"])
def test_catalogues_are_immutable(catalogue: Any) -> None:
    with pytest.raises(TypeError):
        catalogue["new"] = object()


@pytest.mark.parametrize("style", list(STYLES.values()), ids=list(STYLES))
def test_every_style_is_complete(style: Style) -> None:
    assert style.description.strip().endswith(".")
    assert len(style.prompt_fragments) >= 6
    assert len(style.negative_fragments) >= 3
    assert 4 <= len(style.palette) <= 6
    for colour in style.palette:
        assert HEX.fullmatch(colour), colour
    assert parse_palette(style.palette) == style.palette  # valid and without repeats
    for fragment in (*style.prompt_fragments, *style.negative_fragments):
        assert fragment == fragment.strip()
        assert fragment
    fragments = [f.casefold() for f in style.prompt_fragments]
    assert len(fragments) == len(set(fragments))


@pytest.mark.parametrize("room", list(ROOM_TYPES.values()), ids=list(ROOM_TYPES))
def test_every_room_type_is_complete(room: RoomType) -> None:
    assert room.prompt_fragments
    assert len(room.furniture) >= 4
    assert all(item == item.strip() and item for item in (*room.prompt_fragments, *room.furniture))


def test_style_fragments_never_add_architecture() -> None:
    """A redesign keeps the room's geometry, so styles must not ask for new windows or doors."""
    for style in STYLES.values():
        for fragment in style.prompt_fragments:
            assert not re.search(r"\b(windows?|doors?|beams?|skylights?)\b", fragment), (style.id, fragment)


def test_entries_are_frozen() -> None:
    with pytest.raises(AttributeError):
        STYLES["scandinavian"].name = "Nordic"  # type: ignore[misc]


# --- lookups ----------------------------------------------------------------------------
def test_get_style_and_room_type() -> None:
    assert get_style("japandi") is STYLES["japandi"]
    assert get_room_type("living_room") is ROOM_TYPES["living_room"]


@pytest.mark.parametrize("spelling", ["Mid-Century Modern", " mid-century-modern ", "MID_CENTURY_MODERN"])
def test_get_style_tolerates_display_spellings(spelling: str) -> None:
    assert get_style(spelling).id == "mid_century_modern"


def test_unknown_style_lists_valid_ids() -> None:
    with pytest.raises(UnknownStyle) as caught:
        get_style("gothic")
    error = caught.value
    assert isinstance(error, ValidationFailed)
    assert error.code == "unknown_style"
    assert error.http_status == 422
    assert "'gothic'" in error.message
    assert "scandinavian" in error.message
    assert error.details["valid"] == sorted(STYLES)


def test_unknown_room_type_lists_valid_ids() -> None:
    with pytest.raises(UnknownRoomType) as caught:
        get_room_type("garage")
    error = caught.value
    assert error.code == "unknown_room_type"
    assert "'garage'" in error.message
    assert "living_room" in error.message
    assert error.details["valid"] == sorted(ROOM_TYPES)


@pytest.mark.parametrize("bad", ["", "   ", None, 42])
def test_lookups_reject_non_ids(bad: object) -> None:
    with pytest.raises(UnknownStyle):
        get_style(bad)  # type: ignore[arg-type]
    with pytest.raises(UnknownRoomType):
        get_room_type(bad)  # type: ignore[arg-type]


def test_unknown_id_echo_is_bounded() -> None:
    with pytest.raises(UnknownStyle) as caught:
        get_style("x" * 10_000)
    assert len(caught.value.message) < 1000


# --- palettes ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("#f5f0e6,#8a9a5b", ("#f5f0e6", "#8a9a5b")),
        (["#F5F0E6", "8a9a5b"], ("#f5f0e6", "#8a9a5b")),
        ("#abc", ("#aabbcc",)),
        ("ABC, #DeF", ("#aabbcc", "#ddeeff")),
        ("  #f5f0e6 ,  #8a9a5b  ", ("#f5f0e6", "#8a9a5b")),
        ("#f5f0e6 #8a9a5b;#000", ("#f5f0e6", "#8a9a5b", "#000000")),
        (("#f5f0e6", " #8A9A5B "), ("#f5f0e6", "#8a9a5b")),
        ("#f5f0e6,", ("#f5f0e6",)),
        ("#fff,#FFFFFF,#ffffff", ("#ffffff",)),
    ],
)
def test_parse_palette_valid(value: str | list[str], expected: tuple[str, ...]) -> None:
    assert parse_palette(value) == expected


@pytest.mark.parametrize("value", [None, "", "   ", [], (), " , "])
def test_parse_palette_empty(value: str | list[str] | None) -> None:
    assert parse_palette(value) == ()


def test_parse_palette_allows_exactly_the_maximum() -> None:
    colours = [f"#{i:06x}" for i in range(MAX_PALETTE_COLOURS)]
    assert parse_palette(colours) == tuple(colours)


def test_parse_palette_too_many() -> None:
    colours = ",".join(f"#{i:06x}" for i in range(MAX_PALETTE_COLOURS + 1))
    with pytest.raises(InvalidPalette) as caught:
        parse_palette(colours)
    assert caught.value.code == "invalid_palette"
    assert str(MAX_PALETTE_COLOURS) in caught.value.message


@pytest.mark.parametrize(
    "bad",
    ["#ggg000", "red", "#12345", "#1234567", "#abcd", "##abc", "#f5f0e6x", "rgb(1", "#٣٣٣"],
)
def test_parse_palette_bad_token_is_named(bad: str) -> None:
    with pytest.raises(InvalidPalette) as caught:
        parse_palette(f"#f5f0e6, {bad}, #000")
    assert caught.value.code == "invalid_palette"
    assert repr(bad) in caught.value.message
    assert caught.value.details["token"] == bad


def test_parse_palette_names_bad_token_in_a_list() -> None:
    with pytest.raises(InvalidPalette) as caught:
        parse_palette(["#fff", "teal"])
    assert "'teal'" in caught.value.message
    assert caught.value.details["token"] == "teal"


@pytest.mark.parametrize("bad", [42, [1, 2], ["#fff", None], b"#fff"])
def test_parse_palette_rejects_non_strings(bad: object) -> None:
    with pytest.raises(InvalidPalette):
        parse_palette(bad)  # type: ignore[arg-type]


def test_normalize_hex() -> None:
    assert normalize_hex("#ABC") == "#aabbcc"
    assert normalize_hex(" 8a9a5b ") == "#8a9a5b"
    with pytest.raises(InvalidPalette):
        normalize_hex("#abc\n#def")
