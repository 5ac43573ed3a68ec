"""Turn a brief (room type, style, palette, free text) into diffusion prompts.

Deterministic and pure. CLIP text encoders only read the first 77 tokens, so the positive prompt
puts what matters most first (room type, style, key materials, palette, layout preservation), then
the user's words, then the details that may be cut. Lower-priority parts are dropped, never
reordered, to keep the prompt under ``MAX_POSITIVE_CHARS``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shared.domain.styles import RoomType, Style, normalize_hex, parse_palette

MAX_POSITIVE_CHARS = 900
MAX_USER_PROMPT_CHARS = 500
KEY_STYLE_FRAGMENTS = 3

GEOMETRY_TERMS = "same room layout, keep walls windows and doors, same camera angle"
QUALITY_TERMS: tuple[str, ...] = (
    "natural light",
    "sharp focus",
    "high detail",
    "realistic materials and textures",
    "professional real estate photography",
    "8k",
)
BASE_NEGATIVE: tuple[str, ...] = (
    "blurry",
    "lowres",
    "low quality",
    "jpeg artifacts",
    "distorted perspective",
    "warped walls",
    "crooked lines",
    "extra windows",
    "extra doors",
    "deformed furniture",
    "floating furniture",
    "text",
    "watermark",
    "logo",
    "signature",
    "people",
    "person",
    "oversaturated",
    "overexposed",
    "underexposed",
    "cartoon",
    "illustration",
    "painting",
)

_SEPARATOR = ", "


@dataclass(frozen=True)
class Prompt:
    positive: str
    negative: str


# --- colour names -----------------------------------------------------------------------
_NAMED_COLOURS: tuple[tuple[str, str], ...] = (
    ("white", "#ffffff"),
    ("warm off-white", "#f4efe4"),
    ("cream", "#f1e4c8"),
    ("beige", "#d9c8a9"),
    ("sand", "#c8b28e"),
    ("greige", "#b5aa9a"),
    ("taupe", "#8b7d6b"),
    ("light grey", "#d3d3d1"),
    ("cool grey", "#9ea3a8"),
    ("mid grey", "#8a8a8a"),
    ("charcoal grey", "#3b3d40"),
    ("soft black", "#262626"),
    ("black", "#0d0d0d"),
    ("walnut brown", "#5c4033"),
    ("chocolate brown", "#3d2b1f"),
    ("caramel", "#b07a46"),
    ("cognac brown", "#8b5a2b"),
    ("camel", "#c19a6b"),
    ("terracotta", "#c4683f"),
    ("rust", "#a0452a"),
    ("burnt orange", "#cc5500"),
    ("peach", "#f6c7a4"),
    ("coral", "#f08a6c"),
    ("brass gold", "#b8913a"),
    ("mustard yellow", "#e1ad21"),
    ("butter yellow", "#f6e3a1"),
    ("lemon yellow", "#f5dc3a"),
    ("blush pink", "#ecc5c0"),
    ("dusty rose", "#c08081"),
    ("hot pink", "#d63384"),
    ("bright red", "#d62828"),
    ("deep red", "#9b1c1c"),
    ("burgundy", "#6d1f2f"),
    ("plum", "#5e3a5b"),
    ("purple", "#6a3d9a"),
    ("lavender", "#c3b5d9"),
    ("sage green", "#a3b18a"),
    ("olive green", "#6b6d36"),
    ("lime green", "#9acd32"),
    ("mint green", "#bfe3cf"),
    ("emerald green", "#1f7a55"),
    ("forest green", "#2f4f3a"),
    ("teal", "#2a7f7f"),
    ("aqua", "#5fc2c6"),
    ("turquoise", "#40e0d0"),
    ("sky blue", "#a9cfe8"),
    ("dusty blue", "#7d98ab"),
    ("cobalt blue", "#1f4fa3"),
    ("royal blue", "#2747c4"),
    ("navy blue", "#1d2a56"),
)


def _srgb_to_linear(channel: int) -> float:
    c = channel / 255.0
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _lab(hex_colour: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of a normalized ``#rrggbb`` colour."""
    r, g, b = (_srgb_to_linear(int(hex_colour[i : i + 2], 16)) for i in (1, 3, 5))
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def _delta_e94(lab1: tuple[float, float, float], lab2: tuple[float, float, float]) -> float:
    """CIE94 colour difference (graphic-arts weights), made symmetric with the geometric mean chroma.

    Chroma and hue differences are forgiven between two vivid colours, but not when either is
    neutral, so a grey only ever matches a grey name and a vivid colour never a grey.
    """
    l1, a1, b1 = lab1
    l2, a2, b2 = lab2
    c1 = math.hypot(a1, b1)
    c2 = math.hypot(a2, b2)
    dl = l1 - l2
    dc = c1 - c2
    dh_sq = max((a1 - a2) ** 2 + (b1 - b2) ** 2 - dc**2, 0.0)
    chroma = math.sqrt(c1 * c2)
    sc = 1 + 0.045 * chroma
    sh = 1 + 0.015 * chroma
    return math.sqrt(dl**2 + (dc / sc) ** 2 + dh_sq / sh**2)


_NAMED_LAB: tuple[tuple[str, tuple[float, float, float]], ...] = tuple(
    (name, _lab(hex_value)) for name, hex_value in _NAMED_COLOURS
)


def describe_colour(hex_colour: str) -> str:
    """A human name for a colour, e.g. ``"#f5f0e6"`` -> ``"warm off-white"`` (nearest named colour)."""
    lab = _lab(normalize_hex(hex_colour))
    # min() keeps the first of equal distances, so ties resolve by table order: deterministic.
    return min(_NAMED_LAB, key=lambda named: _delta_e94(lab, named[1]))[0]


def describe_palette(palette: Sequence[str]) -> str:
    """``("#f5f0e6", "#8a9a5b")`` -> ``"warm off-white and sage green"`` (repeated names once)."""
    names = _unique(describe_colour(colour) for colour in palette)
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


# --- user text --------------------------------------------------------------------------
_WHITESPACE_RE = re.compile(r"\s+")


def sanitize_user_prompt(text: str | None, limit: int = MAX_USER_PROMPT_CHARS) -> str:
    """Collapse whitespace, drop control/format characters and cap the length at a word boundary."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    # Whitespace controls (newlines, tabs) separate words: turn them into spaces first.
    text = _WHITESPACE_RE.sub(" ", text)
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))
    text = _WHITESPACE_RE.sub(" ", text).strip()
    return _truncate(text, limit)


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    cut = text[:limit]
    if not text[limit].isspace():
        space = cut.rfind(" ")
        if space >= limit * 0.6:
            cut = cut[:space]
    return cut.rstrip(" ,;:.-")


# --- prompt assembly --------------------------------------------------------------------
def _unique(items: Iterable[str]) -> list[str]:
    """Stable, case-insensitive de-duplication of stripped non-empty strings."""
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        cleaned = item.strip()
        key = cleaned.casefold()
        if cleaned and key not in seen:
            seen.add(key)
            out.append(cleaned)
    return out


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"


# adirik/interior-design's predict() appends "with a queen size bed against the wall" to a prompt
# holding "bedroom" but not "bed " (and a twin bed for "children room"/"children's room"). Rooms
# that want a bed say so themselves (a furniture fragment with "bed "); elsewhere the trigger words
# are written so the rewrite does not fire (docs/providers.md).
_MODEL_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"bedroom", re.IGNORECASE), "bed-room"),
    (re.compile(r"children'?s? room", re.IGNORECASE), "room for children"),
)


def avoid_model_rewrites(text: str) -> str:
    """``text`` worded so a model's own prompt rewrite (adirik's added bed) does not fire."""
    if "bed " in text:
        return text
    for pattern, replacement in _MODEL_REWRITES:
        text = pattern.sub(replacement, text)
    return text


def build_prompt(
    *,
    room_type: RoomType,
    style: Style,
    palette: Sequence[str] = (),
    user_prompt: str | None = None,
) -> Prompt:
    """Build the positive and negative prompts for one design.

    ``palette`` is the user's palette (validated again here); when empty the style's reference
    palette is described instead.
    """
    colours = parse_palette(palette) or style.palette
    room = room_type.name.lower()
    user_text = sanitize_user_prompt(user_prompt)

    lead = f"photorealistic interior design photograph of {_article(room)} {room} in {style.name} style"
    key_fragments = style.prompt_fragments[:KEY_STYLE_FRAGMENTS]
    palette_text = f"{describe_palette(colours)} color palette" if colours else ""

    key_rest = key_fragments[1:]
    # The room's bed, when it has one, is always said ("bed " included): see _MODEL_REWRITES.
    bed = next((fragment for fragment in room_type.furniture if "bed " in fragment), "")
    fixed = [lead, *key_fragments[:1], palette_text, GEOMETRY_TERMS, bed]
    # The user's words always stay, shortened only if they would push the prompt over the cap.
    user_budget = MAX_POSITIVE_CHARS - len(_SEPARATOR.join(t for t in fixed if t)) - len(_SEPARATOR)
    user_text = _truncate(user_text, user_budget)

    # (position, text, required), listed in priority order: required parts always stay, the rest
    # are kept while they fit. The output is then laid out by position.
    parts: list[tuple[int, str, bool]] = [
        (0, lead, True),
        (1, key_fragments[0] if key_fragments else "", True),
        (4, palette_text, True),
        (5, GEOMETRY_TERMS, True),
        (6, user_text, True),
        (7 + len(room_type.prompt_fragments) + room_type.furniture.index(bed) if bed else 0, bed, True),
    ]
    parts.extend((2 + i, fragment, False) for i, fragment in enumerate(key_rest))
    optional_groups: tuple[Sequence[str], ...] = (
        room_type.prompt_fragments,
        room_type.furniture,
        style.prompt_fragments[KEY_STYLE_FRAGMENTS:],
        QUALITY_TERMS,
    )
    position = 7
    for group in optional_groups:
        for fragment in group:
            parts.append((position, fragment, False))
            position += 1

    chosen: dict[int, str] = {}
    seen: set[str] = set()
    length = 0
    for pos, text, required in parts:
        cleaned = text.strip()
        key = cleaned.casefold()
        if not cleaned or key in seen:
            continue
        extra = len(cleaned) + (len(_SEPARATOR) if chosen else 0)
        if not required and length + extra > MAX_POSITIVE_CHARS:
            continue
        chosen[pos] = cleaned
        seen.add(key)
        length += extra

    positive = avoid_model_rewrites(_SEPARATOR.join(chosen[pos] for pos in sorted(chosen)))
    negative = _SEPARATOR.join(_unique((*BASE_NEGATIVE, *style.negative_fragments)))
    return Prompt(positive=positive, negative=negative)
