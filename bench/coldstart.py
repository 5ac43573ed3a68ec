"""Cold start of every Lambda entry point, beside a naive baseline, in fresh deployment-shaped processes.

For each function under ``functions/*/handler.py`` and each run: a new ``python -I -S`` process with
only the function asset, the layer and the runtime's boto3 on ``sys.path`` (``bench.sandbox``), all
with pre-compiled bytecode as deployed; it imports the handler and invokes it with a real-shaped
event against the emulator (API: ``GET /v1/designs/{id}`` as API Gateway's HTTP API sends it;
worker: the SQS event for a queued design), then a few warm invocations. Variants in the same run:

- ``<function>``: as the project packages it, with bytecode;
- ``<function> (no bytecode)``: the asset without ``__pycache__`` and a read-only-like
  ``PYTHONDONTWRITEBYTECODE=1`` (Lambda cannot write into ``/var/task``), i.e. compiled at every cold start;
- ``baseline``: ``bench/baseline_app.py`` (everything imported at module top).

The order of variants is shuffled in each run, so machine noise spreads over all of them.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import sandbox
from bench.emulator import create_designs, emulator, photo_like_jpeg, receive_generation_messages
from shared.resources import FUNCTIONS

REPO_ROOT = Path(__file__).resolve().parent.parent
PROBE = REPO_ROOT / "bench" / "probe.py"
WORKER_PHOTO = (1600, 1200)


def function_ids() -> list[str]:
    """Every entry point that exists: ``functions/<id>/handler.py``."""
    return sorted(p.parent.name for p in (REPO_ROOT / "functions").glob("*/handler.py"))


def _spec_of(function_id: str) -> Any:
    for spec in FUNCTIONS:
        if spec.id == function_id:
            return spec
    return None


def child_environment(emulator_env: dict[str, str], function_id: str) -> dict[str, str]:
    spec = _spec_of(function_id)
    memory = spec.memory_mb if spec else 1024
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        **emulator_env,
        # As configured in infra/stack.py; tracing and metrics off as on the local cloud (no daemon here).
        "POWERTOOLS_SERVICE_NAME": "roomcraft",
        "POWERTOOLS_METRICS_NAMESPACE": "Roomcraft",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": f"roomcraft-bench-{function_id}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
    }


def api_event(path: str, api_key: str) -> dict[str, Any]:
    from tests.handlers.events import http_api_event

    return http_api_event("GET", path, api_key=api_key)


def worker_event(message: dict[str, Any]) -> dict[str, Any]:
    from shared.local.cloud import sqs_event

    arn = (
        f"arn:aws:sqs:us-east-1:000000000000:{os.environ['ROOMCRAFT_GENERATE_QUEUE_URL'].rsplit('/', 1)[-1]}"
    )
    return sqs_event([message], arn, "us-east-1")


def run_probe(
    box: sandbox.Sandbox,
    task: str,
    handler: str,
    function_id: str,
    events: list[dict[str, Any]],
    env: dict[str, str],
    *,
    importtime: bool = False,
) -> dict[str, Any]:
    spec = _spec_of(function_id)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(
            {
                "sys_path": box.sys_path(task),
                "handler": handler,
                "events": events,
                "function_name": f"roomcraft-bench-{function_id}",
                "memory_mb": spec.memory_mb if spec else 1024,
                "timeout_s": spec.timeout_seconds if spec else 30,
            },
            handle,
        )
        spec_path = handle.name
    flags = ["-I", "-S"] + (["-X", "importtime"] if importtime else [])
    # The child reads the spawn time from its environment: interpreter start-up = its first
    # statement's clock minus this.
    env = {**env, "BENCH_SPAWNED_AT": repr(time.time())}
    started = time.perf_counter()
    result = subprocess.run(  # noqa: S603 - this interpreter and our own probe
        [sys.executable, *flags, str(PROBE), spec_path],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    wall = time.perf_counter() - started
    os.unlink(spec_path)
    if result.returncode != 0:
        raise RuntimeError(f"probe {task}/{handler} failed:\n{result.stderr[-3000:]}")
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    report["process_wall_seconds"] = wall
    if importtime:
        report["importtime"] = top_imports(result.stderr)
    return report


def top_imports(stderr: str, count: int = 15) -> list[dict[str, Any]]:
    """The slowest top-level imports (cumulative) from ``-X importtime`` output."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        self_us, cumulative_us, name = (part for part in line[len("import time:") :].split("|"))
        if not self_us.strip().isdigit():
            continue  # the header line
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        rows.append(
            {
                "module": name.strip(),
                "depth": depth,
                "self_ms": int(self_us) / 1000,
                "cumulative_ms": int(cumulative_us) / 1000,
            }
        )
    shallow = [row for row in rows if row["depth"] <= 2]
    return sorted(shallow, key=lambda row: row["cumulative_ms"], reverse=True)[:count]


def _check(name: str, report: dict[str, Any]) -> None:
    for response in report["responses"]:
        if name.startswith("api") or name == "baseline-api":
            if response.get("statusCode") != 200:
                raise RuntimeError(f"{name}: unexpected API response {str(response)[:500]}")
        elif response.get("batchItemFailures"):
            raise RuntimeError(f"{name}: worker reported failures {response}")


def summarise(reports: list[dict[str, Any]]) -> dict[str, Any]:
    def median(values: list[float]) -> float:
        return round(statistics.median(values) * 1000, 1)

    init = [r["startup_seconds"] + r["import_seconds"] for r in reports]
    first = [r["invoke_seconds"][0] for r in reports]
    warm = [s for r in reports for s in r["invoke_seconds"][1:]]
    cold = [i + f for i, f in zip(init, first, strict=True)]
    return {
        "runs": len(reports),
        "startup_ms": median([r["startup_seconds"] for r in reports]),
        "import_ms": median([r["import_seconds"] for r in reports]),
        "init_ms": median(init),
        "first_invoke_ms": median(first),
        "cold_total_ms": median(cold),
        "cold_total_min_ms": round(min(cold) * 1000, 1),
        "cold_total_max_ms": round(max(cold) * 1000, 1),
        "warm_invoke_ms": median(warm) if warm else None,
        "process_wall_ms": median([r["process_wall_seconds"] for r in reports]),
        "modules_loaded": reports[-1]["modules_loaded"],
        "heavy_after_import": reports[-1].get("heavy_after_import"),
        "raw": [
            {
                "startup_ms": round(r["startup_seconds"] * 1000, 1),
                "import_ms": round(r["import_seconds"] * 1000, 1),
                "invoke_ms": [round(s * 1000, 1) for s in r["invoke_seconds"]],
            }
            for r in reports
        ],
    }


def run(runs: int = 7, warm: int = 3, seed: int = 8) -> dict[str, Any]:
    ids = function_ids()
    box = sandbox.build(ids)
    shuffle = random.Random(seed)
    variants: list[tuple[str, str, str, str, bool]] = []  # (name, task, handler, function, no bytecode)
    for function_id in ids:
        variants.append((function_id, function_id, "handler.handler", function_id, False))
        variants.append(
            (
                f"{function_id} (no bytecode)",
                f"{function_id}-nobytecode",
                "handler.handler",
                function_id,
                True,
            )
        )
    variants.append(("baseline-api", "baseline", "baseline_app.handler", "api", False))
    if "worker" in ids:
        variants.append(("baseline-worker", "baseline", "baseline_app.worker_handler", "worker", False))

    reports: dict[str, list[dict[str, Any]]] = {name: [] for name, *_ in variants}
    importtimes: dict[str, Any] = {}
    with emulator("coldstart") as env:
        photo = photo_like_jpeg(*WORKER_PHOTO, seed=3)
        worker_variants = [v for v in variants if v[3] == "worker"]
        per_probe = 1 + warm
        needed = per_probe * (runs * len(worker_variants) + 2)
        design_ids = create_designs(needed + 1, photo)
        messages = receive_generation_messages(set(design_ids))
        api_design = design_ids[-1]
        queue = [messages[d] for d in design_ids[:-1]]

        def events_for(function_id: str) -> list[dict[str, Any]]:
            if function_id == "api":
                key = env["ROOMCRAFT_LOCAL_API_KEY"]
                return [api_event(f"/v1/designs/{api_design}", key) for _ in range(per_probe)]
            if function_id == "worker":
                return [worker_event(queue.pop()) for _ in range(per_probe)]
            return []  # an entry point this benchmark does not know how to invoke yet

        for name, task, handler, function_id, no_bytecode in variants:
            if function_id in {"api", "worker"} and not name.startswith("baseline") and not no_bytecode:
                report = run_probe(
                    box,
                    task,
                    handler,
                    function_id,
                    events_for(function_id),
                    child_environment(env, function_id),
                    importtime=True,
                )
                importtimes[name] = report["importtime"]
        for _ in range(runs):
            order = list(variants)
            shuffle.shuffle(order)
            for name, task, handler, function_id, no_bytecode in order:
                events = events_for(function_id)
                if not events:
                    continue
                child_env = child_environment(env, function_id)
                if no_bytecode:
                    child_env["PYTHONDONTWRITEBYTECODE"] = "1"
                report = run_probe(box, task, handler, function_id, events, child_env)
                _check(name, report)
                reports[name].append(report)

    results: dict[str, Any] = {}
    for name, collected in reports.items():
        if collected:
            results[name] = summarise(collected)
    for function_id in ids:
        baseline = results.get(f"baseline-{function_id}")
        if function_id in results and baseline:
            results[function_id]["baseline_ratio"] = round(
                baseline["cold_total_ms"] / results[function_id]["cold_total_ms"], 2
            )
            results[function_id]["baseline_init_ratio"] = round(
                baseline["init_ms"] / results[function_id]["init_ms"], 2
            )
            # On a loaded machine the fastest run is the least disturbed one.
            results[function_id]["baseline_min_ratio"] = round(
                baseline["cold_total_min_ms"] / results[function_id]["cold_total_min_ms"], 2
            )
    return {
        "benchmark": "coldstart",
        "method": __doc__.strip().splitlines()[0],
        "python": box.python_version,
        "wheel_platform": box.wheel_platform,
        "events": {
            "api": "GET /v1/designs/{id} (HTTP API v2)",
            "worker": f"SQS, 1 record, {WORKER_PHOTO[0]}x{WORKER_PHOTO[1]} JPEG upload",
        },
        "warm_invocations_per_run": warm,
        "functions": results,
        "importtime_top": importtimes,
    }
