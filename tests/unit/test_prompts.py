from __future__ import annotations

import dataclasses
import itertools

import pytest

from shared.domain.errors import InvalidPalette
from shared.domain.prompts import (
    BASE_NEGATIVE,
    GEOMETRY_TERMS,
    MAX_POSITIVE_CHARS,
    MAX_USER_PROMPT_CHARS,
    Prompt,
    avoid_model_rewrites,
    build_prompt,
    describe_colour,
    describe_palette,
    sanitize_user_prompt,
)
from shared.domain.styles import MAX_PALETTE_COLOURS, ROOM_TYPES, STYLES, RoomType, get_room_type, get_style

LIVING_ROOM = get_room_type("living_room")
SCANDINAVIAN = get_style("scandinavian")


def _prompt(**kwargs: object) -> Prompt:
    args: dict[str, object] = {"room_type": LIVING_ROOM, "style": SCANDINAVIAN, **kwargs}
    return build_prompt(**args)  # type: ignore[arg-type]


def _parts(text: str) -> list[str]:
    return [part.strip() for part in text.split(",")]


# --- positive prompt --------------------------------------------------------------------
def test_positive_leads_with_room_and_style() -> None:
    positive = _prompt().positive
    assert positive.startswith(
        "photorealistic interior design photograph of a living room in Scandinavian style"
    )
    # Key materials come right after, before anything CLIP might truncate.
    assert positive.index(SCANDINAVIAN.prompt_fragments[0]) < positive.index("color palette")
    assert positive.index("color palette") < positive.index(LIVING_ROOM.furniture[0])


def test_positive_includes_room_style_furniture_and_quality() -> None:
    positive = _prompt().positive
    for fragment in (*SCANDINAVIAN.prompt_fragments, *LIVING_ROOM.prompt_fragments, *LIVING_ROOM.furniture):
        assert fragment in positive
    assert "sharp focus" in positive


def test_positive_preserves_geometry() -> None:
    positive = _prompt(user_prompt="x" * 2000).positive
    assert "same room layout" in positive
    assert "keep walls windows and doors" in positive
    assert GEOMETRY_TERMS in positive


def test_article_for_vowel_rooms() -> None:
    prompt = build_prompt(room_type=get_room_type("entryway"), style=get_style("art_deco"))
    assert "of an entryway in Art Deco style" in prompt.positive


def test_style_palette_is_described_when_none_given() -> None:
    positive = _prompt().positive
    expected = describe_palette(SCANDINAVIAN.palette)
    assert f"{expected} color palette" in positive
    assert "warm off-white" in positive
    assert "#" not in positive  # hex codes mean nothing to a text encoder


def test_user_palette_replaces_style_palette() -> None:
    positive = _prompt(palette=("#1f7a55", "#e1ad21")).positive
    assert "emerald green and mustard yellow color palette" in positive
    assert "charcoal grey" not in positive  # from the Scandinavian reference palette


def test_user_palette_is_validated_and_normalized() -> None:
    assert _prompt(palette=["#1F7A55", "e1ad21"]) == _prompt(palette=("#1f7a55", "#e1ad21"))
    with pytest.raises(InvalidPalette):
        _prompt(palette=["#1f7a55", "green"])


def test_user_text_is_included() -> None:
    positive = _prompt(user_prompt="  add a green velvet sofa   and a large monstera  ").positive
    assert "add a green velvet sofa and a large monstera" in _parts(positive)
    # After the essentials, before the optional detail.
    assert positive.index(GEOMETRY_TERMS) < positive.index("green velvet") < positive.index("coffee table")


@pytest.mark.parametrize("empty", [None, "", "   ", "\n\t\x00"])
def test_empty_user_text_adds_nothing(empty: str | None) -> None:
    assert _prompt(user_prompt=empty) == _prompt()


def test_user_text_control_characters_removed() -> None:
    positive = _prompt(user_prompt="warm\x00 lighting\x1b[31m\u200b\u202e please\r\nno\tclutter\x7f").positive
    assert "warm lighting[31m please no clutter" in positive
    for char in ("\x00", "\x1b", "\u200b", "\u202e", "\r", "\n", "\t", "\x7f"):
        assert char not in positive


def test_user_text_capped() -> None:
    long_text = "cozy reading corner with " * 100
    cleaned = sanitize_user_prompt(long_text)
    assert len(cleaned) <= MAX_USER_PROMPT_CHARS
    assert cleaned.startswith("cozy reading corner with cozy")
    assert not cleaned.endswith(" ")
    assert cleaned.endswith(("cozy", "reading", "corner", "with"))  # cut between words
    assert cleaned in _prompt(user_prompt=long_text).positive


def test_user_text_cap_on_unbroken_text() -> None:
    assert sanitize_user_prompt("x" * 5000) == "x" * MAX_USER_PROMPT_CHARS


def test_sanitize_user_prompt() -> None:
    assert sanitize_user_prompt(None) == ""
    assert sanitize_user_prompt("  a \n\n b\t c  ") == "a b c"
    assert sanitize_user_prompt("line\u2028break\u00a0here") == "line break here"
    assert sanitize_user_prompt("ab\u200dc") == "abc"


def test_positive_length_bounded_everywhere() -> None:
    palette = ("#f5f0e6", "#8a9a5b", "#000000", "#d63384", "#1d2a56", "#cc5500", "#bfe3cf", "#c3b5d9")
    assert len(palette) == MAX_PALETTE_COLOURS
    user_text = "a very specific request " * 40
    for room, style in itertools.product(ROOM_TYPES.values(), STYLES.values()):
        for kwargs in ({}, {"palette": palette, "user_prompt": user_text}):
            prompt = build_prompt(room_type=room, style=style, **kwargs)  # type: ignore[arg-type]
            assert len(prompt.positive) <= MAX_POSITIVE_CHARS, (room.id, style.id)
            assert room.name.lower() in prompt.positive
            assert style.name in prompt.positive
            assert style.prompt_fragments[0] in prompt.positive
            assert GEOMETRY_TERMS in prompt.positive
            assert "color palette" in prompt.positive
            if kwargs:
                assert "a very specific request" in prompt.positive


def test_positive_has_no_repeated_parts() -> None:
    for room, style in itertools.product(ROOM_TYPES.values(), STYLES.values()):
        positive = build_prompt(room_type=room, style=style).positive
        assert ", ," not in positive
        assert not positive.endswith(",")


# --- negative prompt --------------------------------------------------------------------
def test_negative_has_base_and_style_terms() -> None:
    negative = _parts(_prompt().negative)
    for term in ("blurry", "distorted perspective", "warped walls", "extra windows", "text", "watermark"):
        assert term in negative
    for term in ("people", "lowres", "oversaturated"):
        assert term in negative
    for term in SCANDINAVIAN.negative_fragments:
        assert term in negative
    assert negative[: len(BASE_NEGATIVE)] == list(BASE_NEGATIVE)


def test_negative_deduplicated_in_stable_order() -> None:
    for style in STYLES.values():
        negative = _parts(build_prompt(room_type=LIVING_ROOM, style=style).negative)
        lowered = [term.casefold() for term in negative]
        assert len(lowered) == len(set(lowered)), style.id
    # A style negative that repeats a base term is kept once, at its first place.
    repeated = dataclasses.replace(
        get_style("minimalist"), negative_fragments=("Blurry", "clutter", "text", "clutter", "tacky")
    )
    negative = _parts(build_prompt(room_type=LIVING_ROOM, style=repeated).negative)
    assert negative == [*BASE_NEGATIVE, "clutter", "tacky"]


# --- determinism ------------------------------------------------------------------------
def test_build_prompt_is_deterministic() -> None:
    def build_all() -> list[Prompt]:
        return [
            build_prompt(room_type=r, style=s, palette=("#f5f0e6", "#8a9a5b"), user_prompt="add plants")
            for r in ROOM_TYPES.values()
            for s in STYLES.values()
        ]

    assert build_all() == build_all()


def test_prompt_is_frozen() -> None:
    prompt = _prompt()
    with pytest.raises(AttributeError):
        prompt.positive = "changed"  # type: ignore[misc]


# --- colour names -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("colour", "name"),
    [
        ("#f5f0e6", "warm off-white"),
        ("#ffffff", "white"),
        ("#fff", "white"),
        ("#000000", "black"),
        ("#808080", "mid grey"),
        ("#c0c0c0", "light grey"),
        ("#333333", "charcoal grey"),
        ("#8a9a5b", "sage green"),
        ("#9caf88", "sage green"),
        ("#1f7a55", "emerald green"),
        ("#228b22", "emerald green"),
        ("#e2725b", "coral"),
        ("#c4683f", "terracotta"),
        ("#ff0000", "bright red"),
        ("#0000ff", "royal blue"),
        ("#000080", "navy blue"),
        ("#87ceeb", "sky blue"),
        ("#008080", "teal"),
        ("#ff00ff", "hot pink"),
        ("#ffc0cb", "blush pink"),
        ("#654321", "walnut brown"),
        ("#E1AD21", "mustard yellow"),
        ("c3b5d9", "lavender"),
    ],
)
def test_describe_colour(colour: str, name: str) -> None:
    assert describe_colour(colour) == name


def test_neutrals_get_neutral_names_and_vivid_colours_never_do() -> None:
    neutral = {
        "white",
        "warm off-white",
        "light grey",
        "cool grey",
        "mid grey",
        "charcoal grey",
        "soft black",
    }
    for level in range(0, 256, 17):
        grey = f"#{level:02x}{level:02x}{level:02x}"
        assert describe_colour(grey) in neutral | {"black"}, grey
    for vivid in ("#ff0000", "#00ff00", "#0000ff", "#ffff00", "#00ffff", "#ff00ff", "#ff8000"):
        assert describe_colour(vivid) not in neutral | {"black"}, vivid


def test_describe_colour_rejects_non_colours() -> None:
    with pytest.raises(InvalidPalette):
        describe_colour("blue")


def test_describe_palette() -> None:
    assert describe_palette(()) == ""
    assert describe_palette(("#f5f0e6",)) == "warm off-white"
    assert describe_palette(("#f5f0e6", "#8a9a5b")) == "warm off-white and sage green"
    assert describe_palette(("#000", "#111", "#fff")) == "black and white"


# --- adirik's own prompt rewrite (issue 14, item 7) -------------------------------------------------
@pytest.mark.parametrize("room", list(ROOM_TYPES.values()), ids=lambda room: room.id)
def test_no_room_triggers_adiriks_added_bed(room: RoomType) -> None:
    from tests.fakes.replicate_server import adirik_effective_prompt

    for style in STYLES.values():
        positive = build_prompt(room_type=room, style=style).positive
        assert adirik_effective_prompt(positive) == positive, (room.id, style.id)


@pytest.mark.parametrize("room_id", ["bedroom", "kids_room"])
def test_rooms_that_want_a_bed_name_their_own(room_id: str) -> None:
    room = get_room_type(room_id)
    long_request = "soft lighting and a reading corner by the window " * 20
    positive = build_prompt(room_type=room, style=get_style("japandi"), user_prompt=long_request).positive
    assert "bed " in positive  # kept even when the user's words fill the prompt
    assert "queen size" not in positive


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a home office in a former Bedroom", "a home office in a former bed-room"),
        ("a children's room with a desk", "a room for children with a desk"),
        ("a bedroom with a bed by the window", "a bedroom with a bed by the window"),  # names its bed
        ("a sunny kitchen", "a sunny kitchen"),
    ],
)
def test_trigger_words_are_reworded_only_where_no_bed_is_named(text: str, expected: str) -> None:
    assert avoid_model_rewrites(text) == expected


def test_a_users_bedroom_words_do_not_add_a_bed_to_another_room() -> None:
    from tests.fakes.replicate_server import adirik_effective_prompt

    positive = build_prompt(
        room_type=get_room_type("home_office"),
        style=get_style("japandi"),
        user_prompt="like my old bedroom study",
    ).positive
    assert adirik_effective_prompt(positive) == positive
    assert "bed-room study" in positive
