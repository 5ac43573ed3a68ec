"""The style and room-type catalogue, and palette parsing.

Pure data and validation: no I/O. Style ``prompt_fragments`` are ordered most important first
(the first three are the style's key materials and forms, which the prompt builder always tries
to keep), and describe surfaces, furniture and light only: never new architecture (windows,
doors, beams), because a redesign must keep the room's geometry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from shared.domain.errors import InvalidPalette, UnknownRoomType, UnknownStyle

MAX_PALETTE_COLOURS = 8

_HEX_RE = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
_SEPARATORS_RE = re.compile(r"[,;\s]+")
_ID_SEPARATORS_RE = re.compile(r"[\s\-]+")


@dataclass(frozen=True)
class Style:
    id: str
    """snake_case, e.g. ``scandinavian``."""
    name: str
    description: str
    """One sentence for a UI."""
    prompt_fragments: tuple[str, ...]
    """Concrete visual descriptors (materials, furniture forms, lighting, textures), most important first."""
    negative_fragments: tuple[str, ...]
    """What this style must avoid."""
    palette: tuple[str, ...]
    """4-6 reference colours as lowercase ``#rrggbb``."""


@dataclass(frozen=True)
class RoomType:
    id: str
    name: str
    prompt_fragments: tuple[str, ...]
    furniture: tuple[str, ...]


_STYLES: tuple[Style, ...] = (
    Style(
        id="scandinavian",
        name="Scandinavian",
        description="Bright, airy Nordic rooms with pale wood, soft textiles and simple, functional pieces.",
        prompt_fragments=(
            "pale white oak wood floors",
            "light ash wood furniture with tapered legs",
            "soft wool and linen textiles",
            "crisp white walls",
            "sheepskin throw",
            "bright diffused daylight",
            "simple functional forms",
            "potted green plants",
            "cozy hygge atmosphere",
        ),
        negative_fragments=("heavy ornate furniture", "dark gloomy lighting", "gilded details", "clutter"),
        palette=("#f7f5f0", "#e3ddd2", "#c8ab84", "#9ea3a8", "#3b3d40"),
    ),
    Style(
        id="japandi",
        name="Japandi",
        description="Japanese restraint meets Scandinavian warmth, with low natural-wood furniture.",
        prompt_fragments=(
            "low-profile light oak and walnut furniture",
            "natural linen upholstery",
            "rice paper lantern lighting",
            "handmade ceramic vases",
            "clean lines and negative space",
            "woven tatami-like textures",
            "muted earthy tones",
            "soft warm indirect light",
            "single sculptural branch arrangement",
        ),
        negative_fragments=(
            "bright saturated colors",
            "clutter",
            "ornate carvings",
            "glossy plastic surfaces",
        ),
        palette=("#efe9df", "#d6c7b0", "#a48a6d", "#5c4a3d", "#2e2b28"),
    ),
    Style(
        id="mid_century_modern",
        name="Mid-Century Modern",
        description="1950s-60s modernism: organic curves, tapered legs, teak wood and bold accent colours.",
        prompt_fragments=(
            "teak and walnut furniture with tapered legs",
            "Eames-style molded lounge chair",
            "organic curved shapes",
            "sputnik and globe pendant lights",
            "low sideboard credenza",
            "geometric patterned rug",
            "mustard yellow and teal accents",
            "warm retro ambience",
        ),
        negative_fragments=(
            "ornate victorian furniture",
            "rustic distressed wood",
            "heavy drapery",
            "clutter",
        ),
        palette=("#f2ebdd", "#b5651d", "#e1ad21", "#2a7f7f", "#5c4033", "#3a3a3a"),
    ),
    Style(
        id="industrial",
        name="Industrial",
        description="Loft-inspired spaces with exposed brick, raw concrete, black steel and reclaimed wood.",
        prompt_fragments=(
            "exposed red brick walls",
            "polished concrete floor",
            "black steel and iron fixtures",
            "reclaimed wood furniture",
            "distressed cognac leather sofa",
            "Edison bulb pendant lights",
            "raw industrial finishes",
            "metal-framed shelving",
        ),
        negative_fragments=("pastel colors", "frilly ornate decor", "floral wallpaper", "glossy plastic"),
        palette=("#3b3d40", "#8a8d8f", "#a0452a", "#6b4f3a", "#c9c3b8"),
    ),
    Style(
        id="bohemian",
        name="Bohemian",
        description="Relaxed, well-travelled rooms layered with pattern, plants and handmade pieces.",
        prompt_fragments=(
            "layered patterned kilim and Persian rugs",
            "rattan and wicker furniture",
            "macrame wall hangings",
            "abundant trailing houseplants",
            "floor cushions and poufs",
            "eclectic global textiles",
            "warm ambient lantern light",
            "vintage collected decor",
        ),
        negative_fragments=(
            "sterile minimalism",
            "cold clinical lighting",
            "chrome and glass furniture",
            "empty bare walls",
        ),
        palette=("#c4683f", "#e1ad21", "#2a7f7f", "#6d1f2f", "#efe2c8", "#6b6d36"),
    ),
    Style(
        id="minimalist",
        name="Minimalist",
        description="Pared-back rooms with clean lines, hidden storage and only the essentials.",
        prompt_fragments=(
            "clean lines",
            "uncluttered open space",
            "handleless flat-front cabinetry",
            "monochrome neutral finishes",
            "few carefully chosen furniture pieces",
            "hidden storage",
            "smooth matte surfaces",
            "soft even natural light",
        ),
        negative_fragments=(
            "clutter",
            "busy patterns",
            "ornate decoration",
            "excessive accessories",
            "knick-knacks",
        ),
        palette=("#ffffff", "#f0efec", "#cfcac2", "#8c8c8c", "#1a1a1a"),
    ),
    Style(
        id="modern_farmhouse",
        name="Modern Farmhouse",
        description="Country comfort made crisp: white shiplap, reclaimed wood and matte black metal.",
        prompt_fragments=(
            "white shiplap walls",
            "reclaimed wood accents",
            "matte black metal fixtures and hardware",
            "wide-plank oak floors",
            "linen slipcovered furniture",
            "woven baskets",
            "galvanized metal accents",
            "warm welcoming light",
        ),
        negative_fragments=("ultra-modern glossy surfaces", "neon colors", "ornate gilded decor", "clutter"),
        palette=("#f7f5f0", "#d8d2c4", "#9e8e78", "#5c4033", "#222222"),
    ),
    Style(
        id="coastal",
        name="Coastal",
        description="Breezy beach-house rooms in sandy neutrals and ocean blues with natural fibres.",
        prompt_fragments=(
            "whitewashed wood",
            "natural jute and seagrass textures",
            "linen slipcovered sofa",
            "ocean blue and white accents",
            "rattan furniture",
            "striped cotton textiles",
            "driftwood decor",
            "light-filled breezy atmosphere",
        ),
        negative_fragments=(
            "dark heavy furniture",
            "nautical kitsch",
            "gloomy lighting",
            "heavy velvet drapes",
        ),
        palette=("#ffffff", "#e8dcc4", "#a9cfe8", "#4a7ba6", "#1f2a44"),
    ),
    Style(
        id="art_deco",
        name="Art Deco",
        description="Glamorous 1920s luxury: geometric patterns, polished brass, velvet and lacquer.",
        prompt_fragments=(
            "bold geometric patterns",
            "polished brass and gold accents",
            "plush velvet upholstery",
            "black lacquer and marble surfaces",
            "fan and sunburst motifs",
            "mirrored surfaces",
            "statement crystal chandelier",
            "rich jewel tones",
        ),
        negative_fragments=(
            "rustic distressed wood",
            "farmhouse decor",
            "plain unadorned surfaces",
            "cheap plastic",
        ),
        palette=("#0d0d0d", "#1f7a55", "#1f2a44", "#b8913a", "#f2ebdd", "#6d1f2f"),
    ),
    Style(
        id="traditional",
        name="Traditional",
        description="Classic European-inspired comfort with dark wood, rich fabrics and symmetry.",
        prompt_fragments=(
            "rich dark wood furniture",
            "tufted upholstered seating",
            "crown molding and wainscoting",
            "symmetrical arrangement",
            "damask and floral fabrics",
            "Persian rug",
            "brass table lamps",
            "framed oil paintings",
        ),
        negative_fragments=(
            "industrial exposed ducts",
            "stark minimalism",
            "neon colors",
            "plastic furniture",
        ),
        palette=("#f1e4c8", "#8b5a2b", "#6d1f2f", "#1f2a44", "#b8913a"),
    ),
    Style(
        id="contemporary",
        name="Contemporary",
        description="Current, sophisticated design with sculptural forms, mixed materials and neutral tones.",
        prompt_fragments=(
            "clean sculptural silhouettes",
            "mix of stone, glass and brushed metal",
            "low-profile modular sofa",
            "neutral base with one bold accent",
            "statement sculptural lighting",
            "large abstract artwork",
            "smooth plaster walls",
            "layered soft lighting",
        ),
        negative_fragments=("dated ornate furniture", "rustic clutter", "heavy drapery", "kitsch"),
        palette=("#f4f3f0", "#d3d0cb", "#8c8c8c", "#2b2b2b", "#b5651d"),
    ),
    Style(
        id="rustic",
        name="Rustic",
        description="Warm, rugged cabin comfort with rough-hewn wood, natural stone and wool textiles.",
        prompt_fragments=(
            "rough-hewn natural wood furniture",
            "natural stone accents",
            "chunky knit and plaid wool textiles",
            "wrought iron hardware",
            "worn leather armchair",
            "woven wool rugs",
            "warm amber lighting",
            "earthy organic textures",
        ),
        negative_fragments=(
            "glossy lacquer",
            "chrome and glass",
            "neon colors",
            "sleek ultra-modern furniture",
        ),
        palette=("#e9dcc5", "#a67b5b", "#6b4423", "#4a5a3c", "#3d2b1f"),
    ),
    Style(
        id="mediterranean",
        name="Mediterranean",
        description="Sun-washed southern European style with lime plaster, terracotta and wrought iron.",
        prompt_fragments=(
            "textured white lime plaster walls",
            "terracotta tile floors",
            "wrought iron details",
            "hand-painted ceramic tiles",
            "rustic olive wood furniture",
            "arched mirror",
            "linen and cotton textiles",
            "potted olive trees",
            "warm sunlit atmosphere",
        ),
        negative_fragments=(
            "cold industrial steel",
            "neon colors",
            "plastic furniture",
            "dark gloomy lighting",
        ),
        palette=("#f5efe3", "#c4683f", "#e0b872", "#2f5d8a", "#6b6d36"),
    ),
    Style(
        id="wabi_sabi",
        name="Wabi-Sabi",
        description="Earthy rooms celebrating imperfection: raw textures, handmade objects, aged wood.",
        prompt_fragments=(
            "textured limewash plaster walls",
            "weathered aged wood",
            "handmade stoneware ceramics",
            "raw imperfect natural materials",
            "undyed linen and cotton",
            "low rustic furniture",
            "soft muted natural light",
            "dried branches and grasses",
            "asymmetry and negative space",
        ),
        negative_fragments=(
            "glossy polished surfaces",
            "bright saturated colors",
            "perfect symmetry",
            "mass-produced plastic decor",
            "clutter",
        ),
        palette=("#ece6da", "#cbbfae", "#9c8b76", "#6f6254", "#3e3731"),
    ),
    Style(
        id="maximalist",
        name="Maximalist",
        description="More is more: bold colour, clashing patterns, layered art and collected treasures.",
        prompt_fragments=(
            "bold saturated jewel-tone colors",
            "layered clashing patterns",
            "velvet upholstered furniture",
            "gallery wall of framed art",
            "patterned statement wallpaper",
            "collected curiosities and books",
            "ornate decorative lighting",
            "rich layered textiles",
        ),
        negative_fragments=(
            "sparse empty room",
            "all-white minimal decor",
            "beige monotone",
            "sterile atmosphere",
        ),
        palette=("#1f7a55", "#6a3d9a", "#d63384", "#e1ad21", "#1f4fa3", "#c4683f"),
    ),
    Style(
        id="french_country",
        name="French Country",
        description="Provincial French charm: distressed painted wood, toile fabrics and soft faded colours.",
        prompt_fragments=(
            "distressed white-painted wood furniture",
            "toile and gingham fabrics",
            "carved cabriole legs",
            "wrought iron chandelier",
            "weathered stone and terracotta",
            "linen drapery",
            "fresh lavender and sunflowers",
            "soft faded provincial colors",
        ),
        negative_fragments=(
            "sleek ultra-modern furniture",
            "industrial metal",
            "neon colors",
            "harsh lighting",
        ),
        palette=("#f5efe3", "#c3b5d9", "#a3b18a", "#7d98ab", "#d9c8a9"),
    ),
    Style(
        id="transitional",
        name="Transitional",
        description="A balanced mix of traditional comfort and contemporary clean lines in soft neutrals.",
        prompt_fragments=(
            "classic silhouettes with clean modern lines",
            "soft neutral upholstery",
            "mix of wood, metal and glass",
            "subtle textured fabrics",
            "tailored seating",
            "understated brushed nickel lighting",
            "layered neutral textures",
            "restrained decor",
        ),
        negative_fragments=("ornate heavy carvings", "bold clashing patterns", "neon colors", "clutter"),
        palette=("#f2efe9", "#d9d2c5", "#b5aa9a", "#7a7268", "#2f3033"),
    ),
    Style(
        id="hollywood_regency",
        name="Hollywood Regency",
        description="Glamorous, high-contrast drama with glossy lacquer, gold, mirrors and tufted velvet.",
        prompt_fragments=(
            "high-gloss lacquered furniture",
            "polished gold and brass accents",
            "tufted velvet seating",
            "mirrored furniture",
            "bold black and white contrast",
            "crystal chandelier",
            "luxe silk textiles",
            "chinoiserie wallpaper",
        ),
        negative_fragments=(
            "rustic distressed wood",
            "farmhouse decor",
            "drab muted colors",
            "cheap plastic",
        ),
        palette=("#0d0d0d", "#ffffff", "#e8a0b4", "#1f7a55", "#c9a227"),
    ),
)

_ROOM_TYPES: tuple[RoomType, ...] = (
    RoomType(
        id="living_room",
        name="Living room",
        prompt_fragments=("inviting living space", "comfortable seating area"),
        furniture=(
            "sofa",
            "coffee table",
            "accent armchairs",
            "area rug",
            "floor lamp",
            "side table",
            "wall art",
        ),
    ),
    RoomType(
        id="bedroom",
        name="Bedroom",
        prompt_fragments=("restful bedroom", "layered bedding"),
        furniture=(
            "bed with upholstered headboard",
            "nightstands",
            "bedside lamps",
            "dresser",
            "area rug",
            "accent chair",
        ),
    ),
    RoomType(
        id="kitchen",
        name="Kitchen",
        prompt_fragments=("functional kitchen", "styled countertops"),
        furniture=(
            "kitchen cabinetry",
            "countertops",
            "bar stools",
            "pendant lights",
            "open shelving",
            "tiled backsplash",
        ),
    ),
    RoomType(
        id="dining_room",
        name="Dining room",
        prompt_fragments=("elegant dining area", "set table"),
        furniture=(
            "dining table",
            "dining chairs",
            "chandelier above the table",
            "sideboard",
            "area rug",
            "centerpiece",
        ),
    ),
    RoomType(
        id="bathroom",
        name="Bathroom",
        prompt_fragments=("spa-like bathroom", "clean tiled surfaces"),
        furniture=(
            "vanity with sink",
            "framed mirror",
            "fluffy towels",
            "wall sconces",
            "bath mat",
            "small plants",
        ),
    ),
    RoomType(
        id="home_office",
        name="Home office",
        prompt_fragments=("productive home office", "organized workspace"),
        furniture=("desk", "ergonomic desk chair", "bookshelves", "desk lamp", "storage cabinet", "area rug"),
    ),
    RoomType(
        id="kids_room",
        name="Kids' room",
        prompt_fragments=("playful children's bedroom", "kid-friendly design"),
        furniture=(
            "single bed with storage drawers",
            "toy storage",
            "reading nook",
            "play rug",
            "small desk",
            "wall shelves",
        ),
    ),
    RoomType(
        id="nursery",
        name="Nursery",
        prompt_fragments=("calm baby nursery", "soft gentle textures"),
        furniture=(
            "crib",
            "nursing glider chair",
            "changing dresser",
            "soft rug",
            "mobile",
            "storage baskets",
        ),
    ),
    RoomType(
        id="entryway",
        name="Entryway",
        prompt_fragments=("welcoming entryway", "tidy entrance hall"),
        furniture=("console table", "wall mirror", "bench", "coat hooks", "runner rug", "table lamp"),
    ),
    RoomType(
        id="outdoor_patio",
        name="Outdoor patio",
        prompt_fragments=("outdoor living space", "open-air patio"),
        furniture=(
            "outdoor sofa",
            "lounge chairs",
            "outdoor dining table",
            "potted plants",
            "outdoor rug",
            "string lights",
        ),
    ),
    RoomType(
        id="studio_apartment",
        name="Studio apartment",
        prompt_fragments=("compact studio apartment", "defined zones for sleeping, living and dining"),
        furniture=(
            "daybed",
            "compact dining table",
            "open shelving room divider",
            "space-saving storage",
            "area rug",
            "floor lamp",
        ),
    ),
    RoomType(
        id="media_room",
        name="Media room",
        prompt_fragments=("cozy home theater", "dimmable ambient lighting"),
        furniture=(
            "large sectional sofa",
            "media console with television",
            "acoustic wall panels",
            "ottoman",
            "area rug",
            "wall sconces",
        ),
    ),
)

STYLES: Mapping[str, Style] = MappingProxyType({style.id: style for style in _STYLES})
ROOM_TYPES: Mapping[str, RoomType] = MappingProxyType({room.id: room for room in _ROOM_TYPES})


def _catalogue_key(value: object) -> str:
    """``"Mid-Century Modern"`` and ``" mid-century-modern "`` both find ``mid_century_modern``."""
    if not isinstance(value, str):
        return ""
    return _ID_SEPARATORS_RE.sub("_", value.strip().lower())


def _shown(value: object, limit: int = 64) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def get_style(style_id: str) -> Style:
    style = STYLES.get(_catalogue_key(style_id))
    if style is None:
        valid = sorted(STYLES)
        raise UnknownStyle(
            f"unknown style {_shown(style_id)}; choose one of: {', '.join(valid)}",
            details={"valid": valid},
        )
    return style


def get_room_type(room_type_id: str) -> RoomType:
    room_type = ROOM_TYPES.get(_catalogue_key(room_type_id))
    if room_type is None:
        valid = sorted(ROOM_TYPES)
        raise UnknownRoomType(
            f"unknown room type {_shown(room_type_id)}; choose one of: {', '.join(valid)}",
            details={"valid": valid},
        )
    return room_type


def normalize_hex(token: str) -> str:
    """``"#ABC"``, ``"abc"``, ``" #AABBCC "`` -> ``"#aabbcc"``; anything else raises InvalidPalette."""
    cleaned = token.strip() if isinstance(token, str) else token
    match = _HEX_RE.fullmatch(cleaned) if isinstance(cleaned, str) else None
    if match is None:
        raise InvalidPalette(
            f"{_shown(token, 40)} is not a colour; use hex such as #f5f0e6 or #abc",
            details={"token": token if isinstance(token, str) else repr(token)},
        )
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return f"#{digits}"


def parse_palette(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """Parse a palette into lowercase ``#rrggbb`` colours, in order, without repeats.

    Accepts a comma (or space/semicolon) separated string or a sequence of strings; the ``#`` is
    optional and three-digit short forms are expanded. ``None`` or empty gives ``()``.
    """
    if value is None:
        return ()
    tokens: list[str]
    if isinstance(value, str):
        tokens = [token for token in _SEPARATORS_RE.split(value) if token]
    elif isinstance(value, Sequence):
        tokens = []
        for item in value:
            if not isinstance(item, str):
                raise InvalidPalette(
                    f"{_shown(item, 40)} is not a colour; use hex such as #f5f0e6",
                    details={"token": repr(item)},
                )
            if item.strip():
                tokens.append(item)
    else:
        raise InvalidPalette(
            "a palette is a comma-separated string or a list of hex colours",
            details={"token": repr(value)},
        )
    colours: list[str] = []
    for token in tokens:
        colour = normalize_hex(token)
        if colour not in colours:
            colours.append(colour)
        if len(colours) > MAX_PALETTE_COLOURS:
            raise InvalidPalette(
                f"a palette has at most {MAX_PALETTE_COLOURS} colours",
                details={"max": MAX_PALETTE_COLOURS},
            )
    return tuple(colours)
