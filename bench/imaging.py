"""Image preparation and variant encoding for 12 MP and 48 MP phone photos: Pillow beside libvips.

Each (photo, operation, library) case runs in its own process: peak memory is the process's
high-water resident size during the first run (``VmHWM``, reset through ``/proc/self/clear_refs``)
minus its resident size just before (photo in memory, libraries imported); time is the median of
the repeats, wall clock and CPU (user + system, all threads: libvips uses several).

Operations, the same work in each library:
- ``prepare``: the model input, as ``shared.imaging.prepare.prepare_image`` makes it (check, decode,
  long edge 1024, sRGB, upright, dimensions multiples of 8, JPEG q92 without metadata);
- ``variants``: the delivered files, as ``shared.imaging.variants.render_output`` makes them (full-size
  progressive JPEG q90, WebP q82 at 2048/1024/512 px wide, a 256 px WebP thumbnail, blurhash and
  dominant colour from the thumbnail).

Libraries: ``pillow`` (Roomcraft's code, as shipped), ``pillow-naive`` (prepare only: what the
code would cost without JPEG draft-mode decoding) and ``vips`` (pyvips; skipped with a note when
libvips is not installed: ``apt-get install libvips42``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.sandbox import BUILD_DIR

SIZES = {"12MP": (4000, 3000), "48MP": (8000, 6000)}
OPERATIONS = ("prepare", "variants")
LIBRARIES = ("pillow", "pillow-naive", "vips")
TARGET_LONG_EDGE = 1024
WIDTHS = (2048, 1024, 512)
THUMB = 256


def vips_status() -> str | None:
    """None when pyvips works here, else why not."""
    try:
        import pyvips  # noqa: F401
    except Exception as error:  # ImportError, or OSError when libvips itself is missing
        return f"pyvips unavailable ({type(error).__name__}: {error}); install libvips42 to compare"
    return None


# --- the operations -----------------------------------------------------------------------
def pillow_prepare(data: bytes) -> tuple[int, int]:
    from shared.imaging.prepare import prepare_image

    prepared = prepare_image(
        data, max_bytes=64 * 1024 * 1024, max_pixels=89_000_000, target_long_edge=TARGET_LONG_EDGE
    )
    return prepared.width, prepared.height


def pillow_naive_prepare(data: bytes) -> tuple[int, int]:
    """Full decode, transpose, convert, resize, save: no draft mode."""
    from PIL import Image, ImageOps

    image = Image.open(io.BytesIO(data))
    image.load()
    upright = ImageOps.exif_transpose(image).convert("RGB")
    scale = TARGET_LONG_EDGE / max(upright.size)
    size = (int(upright.width * scale) // 8 * 8, int(upright.height * scale) // 8 * 8)
    resized = upright.resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    resized.save(buffer, "JPEG", quality=92)
    return resized.size


def pillow_variants(data: bytes) -> tuple[int, int]:
    from shared.imaging.variants import render_output

    rendered = render_output(data, widths=WIDTHS, thumbnail_width=THUMB, comment="bench")
    full = rendered.variants[0]
    return full.width, full.height


def vips_prepare(data: bytes) -> tuple[int, int]:
    import pyvips

    image = pyvips.Image.thumbnail_buffer(
        data, TARGET_LONG_EDGE, height=TARGET_LONG_EDGE, size="down", export_profile="srgb"
    )
    width, height = image.width // 8 * 8, image.height // 8 * 8
    image = image.crop((image.width - width) // 2, (image.height - height) // 2, width, height)
    image.jpegsave_buffer(Q=92, strip=True)
    return width, height


def vips_variants(data: bytes) -> tuple[int, int]:
    import pyvips
    from PIL import Image

    from shared.imaging.variants import _blurhash, _dominant_colour

    # Decoded once into memory, then each width from the previous one, as the Pillow code does.
    full = pyvips.Image.new_from_buffer(data, "", access="sequential").autorot()
    if full.interpretation != "srgb":
        full = full.colourspace("srgb")
    full = full.copy_memory()
    full.jpegsave_buffer(Q=90, interlace=True, strip=True)
    current = full
    for width in WIDTHS:
        if width < current.width:
            current = current.resize(width / current.width, kernel="lanczos3").copy_memory()
            current.webpsave_buffer(Q=82, effort=4, strip=True)
    thumb = current.resize(THUMB / current.width, kernel="lanczos3").copy_memory()
    thumb.webpsave_buffer(Q=82, effort=4, strip=True)
    picture = Image.frombytes("RGB", (thumb.width, thumb.height), thumb.write_to_memory())
    _blurhash(picture)
    _dominant_colour(picture)
    return full.width, full.height


CASES = {
    ("pillow", "prepare"): pillow_prepare,
    ("pillow-naive", "prepare"): pillow_naive_prepare,
    ("pillow", "variants"): pillow_variants,
    ("vips", "prepare"): vips_prepare,
    ("vips", "variants"): vips_variants,
}


# --- one case, in its own process ---------------------------------------------------------------
def memory_kib(field: str) -> int:
    """``VmRSS`` or ``VmHWM`` of this process (Linux), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak() -> None:
    """Reset ``VmHWM`` to the current resident size (Linux >= 4.0); harmless where it cannot."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _case_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--library", required=True)
    parser.add_argument("--operation", required=True)
    parser.add_argument("--photo", required=True, type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    data = args.photo.read_bytes()
    if args.library == "vips":
        import pyvips

        pyvips.cache_set_max(0)  # no operation cache: every repeat does the whole work
    import PIL.Image  # noqa: F401 - imported before the baseline, like the application has it

    import shared.imaging.prepare
    import shared.imaging.variants  # noqa: F401

    operation = CASES[(args.library, args.operation)]
    reset_peak()
    before = memory_kib("VmRSS")
    walls, cpus = [], []
    size: tuple[int, int] = (0, 0)
    peak_after_first = before
    for attempt in range(args.repeat):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu_before = usage.ru_utime + usage.ru_stime
        started = time.perf_counter()
        size = operation(data)
        walls.append(time.perf_counter() - started)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpus.append(usage.ru_utime + usage.ru_stime - cpu_before)
        if attempt == 0:
            peak_after_first = memory_kib("VmHWM")
    print(
        json.dumps(
            {
                "wall_ms": round(statistics.median(walls) * 1000, 1),
                "cpu_ms": round(statistics.median(cpus) * 1000, 1),
                "peak_mb": round((peak_after_first - before) / 1024, 1),
                "rss_before_mb": round(before / 1024, 1),
                "output": list(size),
                "repeats": args.repeat,
            }
        )
    )


def photo(size_name: str) -> Path:
    from bench.emulator import photo_like_jpeg

    folder = BUILD_DIR / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"room-{size_name}.jpg"
    if not path.exists():
        width, height = SIZES[size_name]
        path.write_bytes(photo_like_jpeg(width, height, seed=48 if size_name == "48MP" else 12))
    return path


def run(repeat_12: int = 5, repeat_48: int = 3) -> dict[str, Any]:
    note = vips_status()
    results: list[dict[str, Any]] = []
    for size_name in SIZES:
        path = photo(size_name)
        for operation in OPERATIONS:
            for library in LIBRARIES:
                if (library, operation) not in CASES:
                    continue
                if library == "vips" and note:
                    results.append(
                        {"size": size_name, "operation": operation, "library": library, "skipped": note}
                    )
                    continue
                completed = subprocess.run(  # noqa: S603 - this interpreter, our own module
                    [
                        sys.executable,
                        "-m",
                        "bench.imaging",
                        "--library",
                        library,
                        "--operation",
                        operation,
                        "--photo",
                        str(path),
                        "--repeat",
                        str(repeat_12 if size_name == "12MP" else repeat_48),
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if completed.returncode != 0:
                    raise RuntimeError(
                        f"{size_name} {operation} {library} failed:\n{completed.stderr[-2000:]}"
                    )
                case = json.loads(completed.stdout.strip().splitlines()[-1])
                results.append(
                    {
                        "size": size_name,
                        "operation": operation,
                        "library": library,
                        "bytes": path.stat().st_size,
                        **case,
                    }
                )
    return {
        "benchmark": "imaging",
        "method": __doc__.strip().splitlines()[0],
        "vips": note or "available",
        "cases": results,
    }


if __name__ == "__main__":
    _case_main(sys.argv[1:])
