"""``make bench`` (``uv run python -m bench``): run the benchmarks, write bench/results/, print a table.

    uv run python -m bench                     # everything (about 15-25 minutes on 2 cores)
    uv run python -m bench --only coldstart    # one section (coldstart, pipeline, imaging, artifacts, faults)
    uv run python -m bench --quick             # a smoke run: fewer runs and designs (not for the record)
    uv run python -m bench --table             # print the table of the results already written

Each section writes ``bench/results/<section>.json``; the cost section is computed from the
pipeline and cold-start results; ``summary.md`` holds the printed table in Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS = REPO_ROOT / "bench" / "results"
SECTIONS = ("artifacts", "coldstart", "pipeline", "imaging", "faults", "cost")


def machine(load_before: tuple[float, ...]) -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": sys.platform,
        "load_before": [round(x, 1) for x in load_before],
        "load_after": [round(x, 1) for x in os.getloadavg()],
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write(name: str, data: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2, default=str) + "\n")


def load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def run_faults() -> dict[str, Any]:
    """The fault-injection tests (tests/fault), with their counts collected into faults.json."""
    report = RESULTS / "faults.json"
    report.unlink(missing_ok=True)
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/fault", "-q", "-p", "no:cacheprovider"],
        cwd=REPO_ROOT,
        env={**os.environ, "ROOMCRAFT_FAULT_REPORT": str(report)},
        capture_output=True,
        text=True,
        check=False,
    )
    scenarios = json.loads(report.read_text()) if report.exists() else {}
    return {
        "benchmark": "faults",
        "method": "tests/fault: each scenario on the embedded local cloud, counts from its assertions",
        "pytest_exit_code": completed.returncode,
        "pytest_summary": completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else "",
        "seconds": round(time.perf_counter() - started, 1),
        "scenarios": scenarios,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run only these sections")
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer runs and designs")
    parser.add_argument(
        "--runs", type=int, default=7, help="cold-start runs per entry point (>= 7 for the record)"
    )
    parser.add_argument("--designs", type=int, default=200, help="designs in the steady pipeline phase")
    parser.add_argument("--burst", type=int, default=100, help="designs in the burst pipeline phase")
    parser.add_argument("--table", action="store_true", help="only print the table of existing results")
    args = parser.parse_args(argv)

    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    sections = args.only or list(SECTIONS)
    if args.quick:
        args.runs, args.designs, args.burst = 2, 20, 20

    load_before = os.getloadavg()
    if not args.table:
        from bench import coldstart

        ids = coldstart.function_ids()
        for section in sections:
            started = time.perf_counter()
            print(f"bench: {section} ...", file=sys.stderr, flush=True)
            if section == "artifacts":
                from bench import artifacts

                data = artifacts.run(ids)
            elif section == "coldstart":
                data = coldstart.run(runs=args.runs)
            elif section == "pipeline":
                from bench import pipeline

                data = pipeline.run(designs=args.designs, burst=args.burst)
            elif section == "imaging":
                from bench import imaging

                data = imaging.run(repeat_12=2 if args.quick else 5, repeat_48=1 if args.quick else 3)
            elif section == "faults":
                data = run_faults()
            else:
                from bench import cost

                pipeline_results = load("pipeline")
                if pipeline_results is None:
                    print(
                        "bench: cost needs the pipeline results; run the pipeline section first",
                        file=sys.stderr,
                    )
                    continue
                data = cost.run(pipeline_results, load("coldstart"))
            data["seconds"] = round(time.perf_counter() - started, 1)
            data["machine"] = machine(load_before)
            data["quick"] = args.quick
            write(section, data)
            print(f"bench: {section} done in {data['seconds']} s", file=sys.stderr, flush=True)

    from bench.report import render

    results = {name: load(name) for name in SECTIONS}
    results["machine"] = next((r["machine"] for r in results.values() if r and "machine" in r), None)
    table = render({k: v for k, v in results.items() if v})
    (RESULTS / "summary.md").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
