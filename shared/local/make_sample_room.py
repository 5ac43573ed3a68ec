"""Draw ``sample_room.jpg``: an empty living room in perspective, for the demo and local runs.

The room is modelled in 3D (metres) and projected through a pinhole camera, so the walls, floor
planks, window, door and skirting all share one vanishing point. The layout comes from a fixed
seed; rerunning it on this Pillow gives the same bytes.

    uv run python shared/local/make_sample_room.py [OUTPUT]
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageEnhance, ImageFilter

WIDTH, HEIGHT = 1600, 1067
FOCAL = 880.0
CAMERA = (0.35, 1.45, 0.0)  # x (right), y (up), z (forward): slightly right of the room's centre
CENTRE = (WIDTH / 2, HEIGHT / 2)

# The room: x in [LEFT, RIGHT], y in [0, CEILING], back wall at z = BACK.
LEFT, RIGHT, CEILING, BACK, NEAR = -2.4, 2.9, 2.7, 6.2, 0.4

WALL = (226, 219, 206)
BACK_WALL = (231, 225, 213)
CEILING_COLOUR = (243, 241, 236)
SKIRTING = (244, 243, 238)
FRAME = (247, 247, 244)
OAK = (166, 122, 84)

Point3 = tuple[float, float, float]
Point2 = tuple[float, float]


def project(point: Point3) -> Point2:
    x, y, z = point[0] - CAMERA[0], point[1] - CAMERA[1], point[2] - CAMERA[2]
    return CENTRE[0] + FOCAL * x / z, CENTRE[1] - FOCAL * y / z


def quad(*points: Point3) -> list[Point2]:
    return [project(point) for point in points]


def draw_room(seed: int = 7) -> Image.Image:
    rng = random.Random(seed)
    image = Image.new("RGB", (WIDTH, HEIGHT), WALL)
    draw = ImageDraw.Draw(image)

    # Surfaces, back to front.
    draw.polygon(
        quad((LEFT, CEILING, NEAR), (RIGHT, CEILING, NEAR), (RIGHT, CEILING, BACK), (LEFT, CEILING, BACK)),
        fill=CEILING_COLOUR,
    )
    draw.polygon(
        quad((LEFT, 0, NEAR), (LEFT, CEILING, NEAR), (LEFT, CEILING, BACK), (LEFT, 0, BACK)), fill=WALL
    )
    draw.polygon(
        quad((RIGHT, 0, NEAR), (RIGHT, CEILING, NEAR), (RIGHT, CEILING, BACK), (RIGHT, 0, BACK)),
        fill=_shade(WALL, 0.93),
    )
    draw.polygon(
        quad((LEFT, 0, BACK), (LEFT, CEILING, BACK), (RIGHT, CEILING, BACK), (RIGHT, 0, BACK)), fill=BACK_WALL
    )
    _draw_floor(draw, rng)
    _draw_skirting(draw)
    _draw_window(image)
    draw = ImageDraw.Draw(image)
    _draw_door(draw)
    _draw_fittings(draw)

    image = _light(image)
    image = image.filter(ImageFilter.GaussianBlur(0.6))
    noise = Image.effect_noise((WIDTH, HEIGHT), 4).convert("RGB")
    return ImageChops.add(image, noise, scale=1.0, offset=-128)


def _draw_floor(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    plank = 0.19
    x = LEFT
    while x < RIGHT:
        z = BACK - rng.uniform(0.0, 1.6)
        z_end = BACK
        while z_end > NEAR:
            colour = _shade(OAK, rng.uniform(0.9, 1.07))
            colour = (colour[0], max(0, colour[1] + rng.randint(-4, 4)), colour[2])
            draw.polygon(
                quad(
                    (x, 0, max(z, NEAR)), (x + plank, 0, max(z, NEAR)), (x + plank, 0, z_end), (x, 0, z_end)
                ),
                fill=colour,
            )
            for _ in range(3):  # grain: a few faint streaks along the plank
                offset = rng.uniform(0.02, plank - 0.02)
                streak = _shade(colour, rng.uniform(0.93, 1.04))
                draw.line(quad((x + offset, 0, max(z, NEAR)), (x + offset, 0, z_end)), fill=streak, width=1)
            draw.line(
                quad((x, 0, max(z, NEAR)), (x + plank, 0, max(z, NEAR))), fill=_shade(OAK, 0.7), width=1
            )
            z_end = z
            z -= rng.uniform(1.3, 2.1)
        draw.line(quad((x, 0, NEAR), (x, 0, BACK)), fill=_shade(OAK, 0.68), width=2)
        x += plank


def _draw_skirting(draw: ImageDraw.ImageDraw) -> None:
    height = 0.11
    draw.polygon(
        quad((LEFT, 0, BACK), (LEFT, height, BACK), (RIGHT, height, BACK), (RIGHT, 0, BACK)), fill=SKIRTING
    )
    draw.polygon(
        quad((LEFT, 0, NEAR), (LEFT, height, NEAR), (LEFT, height, BACK), (LEFT, 0, BACK)), fill=SKIRTING
    )
    draw.polygon(
        quad((RIGHT, 0, NEAR), (RIGHT, height, NEAR), (RIGHT, height, BACK), (RIGHT, 0, BACK)),
        fill=_shade(SKIRTING, 0.94),
    )
    top_edge = quad((LEFT, height, NEAR), (LEFT, height, BACK), (RIGHT, height, BACK), (RIGHT, height, NEAR))
    draw.line(top_edge, fill=_shade(WALL, 0.8), width=2)


def _draw_window(image: Image.Image) -> None:
    """A window set 20 cm into the back wall: reveals, the view through the glass, frame, sill."""
    left, right, bottom, top = -1.75, 0.25, 0.85, 2.35
    glass = BACK + 0.2
    draw = ImageDraw.Draw(image)
    draw.polygon(
        quad((left, bottom, BACK), (left, top, BACK), (left, top, glass), (left, bottom, glass)),
        fill=_shade(BACK_WALL, 0.9),
    )
    draw.polygon(
        quad((right, bottom, BACK), (right, top, BACK), (right, top, glass), (right, bottom, glass)),
        fill=_shade(BACK_WALL, 0.95),
    )
    draw.polygon(
        quad((left, top, BACK), (right, top, BACK), (right, top, glass), (left, top, glass)),
        fill=_shade(BACK_WALL, 0.82),
    )
    draw.polygon(
        quad((left, bottom, BACK), (right, bottom, BACK), (right, bottom, glass), (left, bottom, glass)),
        fill=(246, 245, 240),
    )
    x0, y0, x1, y1 = (round(value) for value in _flat_box(left, bottom, right, top, glass))
    image.paste(_window_view(x1 - x0, y1 - y0), (x0, y0))
    frame = 0.06
    middle = left + (right - left) / 2
    for ax, ay, bx, by in (
        (left, bottom, right, bottom + frame),
        (left, top - frame, right, top),
        (left, bottom, left + frame, top),
        (right - frame, bottom, right, top),
        (middle - 0.03, bottom, middle + 0.03, top),
        (left, bottom + 1.0, right, bottom + 1.05),
    ):
        draw.rectangle(_flat_box(ax, ay, bx, by, glass), fill=FRAME, outline=(226, 226, 222))
    # The sill on the room side, seen slightly from above, and its shadow on the wall.
    lip = bottom - 0.02
    draw.polygon(
        quad(
            (left - 0.1, lip - 0.1, BACK),
            (right + 0.1, lip - 0.1, BACK),
            (right + 0.1, lip - 0.16, BACK),
            (left - 0.1, lip - 0.16, BACK),
        ),
        fill=_shade(BACK_WALL, 0.9),
    )
    draw.polygon(
        quad(
            (left - 0.1, lip, BACK - 0.14),
            (right + 0.1, lip, BACK - 0.14),
            (right + 0.1, lip, BACK),
            (left - 0.1, lip, BACK),
        ),
        fill=(250, 250, 247),
    )
    draw.polygon(
        quad(
            (left - 0.1, lip - 0.04, BACK - 0.14),
            (right + 0.1, lip - 0.04, BACK - 0.14),
            (right + 0.1, lip, BACK - 0.14),
            (left - 0.1, lip, BACK - 0.14),
        ),
        fill=(224, 223, 218),
    )


def _window_view(width: int, height: int) -> Image.Image:
    """Sky, a far tree line and a lawn, overexposed and soft as seen from inside."""
    sky = Image.linear_gradient("L").resize((width, height))
    view = Image.merge(
        "RGB",
        (
            sky.point(lambda v: 200 + v * 45 // 255),
            sky.point(lambda v: 222 + v * 30 // 255),
            sky.point(lambda v: 246 + v * 9 // 255),
        ),
    )
    draw = ImageDraw.Draw(view)
    rng = random.Random(3)
    horizon = int(height * 0.62)
    for _ in range(40):
        cx = rng.uniform(-0.1, 1.1) * width
        radius = rng.uniform(0.06, 0.16) * width
        cy = horizon - rng.uniform(0.0, 0.25) * height
        green = (rng.randint(120, 150), rng.randint(160, 190), rng.randint(110, 140))
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius * 1.4), fill=green)
    draw.rectangle((0, horizon + height * 0.08, width, height), fill=(170, 205, 140))
    view = view.filter(ImageFilter.GaussianBlur(max(2, width // 90)))
    return ImageEnhance.Brightness(view).enhance(1.08)


def _draw_door(draw: ImageDraw.ImageDraw) -> None:
    near, far, top = 3.35, 4.25, 2.05
    casing = 0.07
    draw.polygon(
        quad(
            (RIGHT, 0, near - casing),
            (RIGHT, top + casing, near - casing),
            (RIGHT, top + casing, far + casing),
            (RIGHT, 0, far + casing),
        ),
        fill=FRAME,
    )
    draw.polygon(
        quad((RIGHT, 0, near), (RIGHT, top, near), (RIGHT, top, far), (RIGHT, 0, far)), fill=(236, 234, 228)
    )
    for low, high in ((0.18, 0.95), (1.12, 1.9)):  # two raised panels
        draw.polygon(
            quad(
                (RIGHT, low, near + 0.12),
                (RIGHT, high, near + 0.12),
                (RIGHT, high, far - 0.12),
                (RIGHT, low, far - 0.12),
            ),
            outline=(205, 203, 197),
            fill=(231, 229, 223),
        )
    handle = project((RIGHT, 1.02, near + 0.09))
    draw.ellipse((handle[0] - 5, handle[1] - 5, handle[0] + 5, handle[1] + 5), fill=(150, 140, 120))
    draw.line((handle, project((RIGHT - 0.02, 1.02, near + 0.2))), fill=(130, 122, 104), width=4)


def _draw_fittings(draw: ImageDraw.ImageDraw) -> None:
    # Light switch by the door, a socket on the back wall, recessed ceiling lights.
    draw.polygon(
        quad((RIGHT, 1.05, 3.05), (RIGHT, 1.15, 3.05), (RIGHT, 1.15, 3.15), (RIGHT, 1.05, 3.15)),
        fill=(248, 248, 246),
        outline=(205, 205, 200),
    )
    draw.rectangle(_flat_box(1.6, 0.28, 1.7, 0.38), fill=(248, 248, 246), outline=(200, 200, 195))
    for x, z in ((-0.8, 2.6), (1.4, 2.6), (-0.8, 4.6), (1.4, 4.6)):
        cx, cy = project((x, CEILING, z))
        rx = FOCAL * 0.07 / z
        ry = rx * 0.35
        draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=(255, 255, 250), outline=(215, 212, 205))


def _light(image: Image.Image) -> Image.Image:
    """Soft shadows in the corners, daylight from the window, a gentle vignette."""
    width, height = image.size
    corners = Image.new("L", image.size, 0)
    draw = ImageDraw.Draw(corners)
    for edge in (
        ((LEFT, 0, NEAR), (LEFT, 0, BACK), (RIGHT, 0, BACK), (RIGHT, 0, NEAR)),
        ((LEFT, CEILING, NEAR), (LEFT, CEILING, BACK), (RIGHT, CEILING, BACK), (RIGHT, CEILING, NEAR)),
        ((LEFT, 0, BACK), (LEFT, CEILING, BACK)),
        ((RIGHT, 0, BACK), (RIGHT, CEILING, BACK)),
    ):
        draw.line(quad(*edge), fill=255, width=26)
    corners = corners.filter(ImageFilter.GaussianBlur(28)).point(lambda v: v * 45 // 100)
    image = Image.composite(ImageEnhance.Brightness(image).enhance(0.7), image, corners)

    # Daylight: a warm patch on the floor cast through the window, and a glow around it.
    daylight = Image.new("L", image.size, 0)
    draw = ImageDraw.Draw(daylight)
    direction = (0.42, -0.85, -1.0)
    patch = []
    for x, y in ((-1.75, 0.85), (0.25, 0.85), (0.25, 2.35), (-1.75, 2.35)):
        t = y / -direction[1]
        patch.append((x + direction[0] * t, 0.0, BACK + direction[2] * t))
    draw.polygon(quad(*patch), fill=150)
    daylight = daylight.filter(ImageFilter.GaussianBlur(18))
    glow = Image.new("L", image.size, 0)
    ImageDraw.Draw(glow).ellipse((width * 0.12, height * 0.05, width * 0.75, height * 0.95), fill=80)
    glow = glow.filter(ImageFilter.GaussianBlur(160))
    light = ImageChops.add(daylight, glow)
    bright = ImageEnhance.Brightness(image).enhance(1.35)
    bright = Image.blend(bright, Image.new("RGB", image.size, (255, 246, 228)), 0.12)
    image = Image.composite(bright, image, light)

    vignette = Image.radial_gradient("L").resize(image.size).point(lambda v: max(0, v - 110) * 70 // 145)
    return Image.composite(ImageEnhance.Brightness(image).enhance(0.72), image, vignette)


def _flat_box(
    x0: float, y0: float, x1: float, y1: float, z: float = BACK
) -> tuple[float, float, float, float]:
    """Screen rectangle of an axis-aligned rectangle facing the camera at depth ``z``."""
    (ax, ay), (bx, by) = project((x0, y1, z)), project((x1, y0, z))
    return ax, ay, bx, by


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    red, green, blue = (max(0, min(255, round(channel * factor))) for channel in colour)
    return red, green, blue


def main() -> None:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("sample_room.jpg")
    draw_room().save(output, "JPEG", quality=88, optimize=True, progressive=True)
    print(f"wrote {output} ({output.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
