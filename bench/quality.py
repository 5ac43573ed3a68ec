"""Structure score timing on one CPU: ``taskset -c 0 uv run python -m bench.quality``.

A 2048 px output (JPEG, as the worker stores it) against its 1024 px prepared input; the budget is
300 ms per output on one vCPU (docs/quality.md). Writes ``bench/results/quality.json``.
"""

from __future__ import annotations

import io
import json
import statistics
import time
from pathlib import Path

from PIL import Image

from shared.imaging.structure import structure_score
from shared.local import make_sample_room

RESULTS = Path(__file__).resolve().parent / "results"


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def main(runs: int = 15) -> dict[str, object]:
    room = make_sample_room.draw_room()
    before = _jpeg(room.resize((1024, 683), Image.Resampling.LANCZOS))
    after = _jpeg(room.resize((2048, 1366), Image.Resampling.LANCZOS))
    structure_score(before, after)  # warm-up: imports, first allocations
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        structure_score(before, after)
        timings.append((time.perf_counter() - started) * 1000)
    result = {
        "runs": runs,
        "median_ms": round(statistics.median(timings), 1),
        "max_ms": round(max(timings), 1),
        "input": "1024x683 JPEG",
        "output": "2048x1366 JPEG",
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "quality.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
