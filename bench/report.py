"""The results table ``make bench`` prints (and writes as Markdown to ``bench/results/summary.md``)."""

from __future__ import annotations

from typing import Any


def _table(title: str, header: list[str], rows: list[list[Any]]) -> list[str]:
    cells = [header] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [f"### {title}", ""]
    lines.append("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    lines.append("")
    return lines


def _mb(value: float) -> str:
    return f"{value / 1_000_000:.2f} MB"


def render(results: dict[str, Any]) -> str:
    lines: list[str] = []
    machine = results.get("machine")
    if machine:
        lines += [
            f"Machine: {machine['cpus']} CPUs, Python {machine['python']}, load average "
            f"{machine['load_before']} before / {machine['load_after']} after; {machine['started_at']}",
            "",
        ]

    cold = results.get("coldstart")
    if cold:
        rows = []
        for name, f in cold["functions"].items():
            rows.append(
                [
                    name,
                    f["runs"],
                    f["startup_ms"],
                    f["import_ms"],
                    f["first_invoke_ms"],
                    f["cold_total_ms"],
                    f["cold_total_min_ms"],
                    f["warm_invoke_ms"],
                    f.get("baseline_ratio", ""),
                ]
            )
        lines += _table(
            f"Cold start (ms, medians; Python {cold['python']}, deployment-shaped sys.path, bytecode)",
            [
                "entry point",
                "runs",
                "start",
                "import",
                "1st invoke",
                "cold total",
                "min",
                "warm",
                "baseline/this",
            ],
            rows,
        )

    pipe = results.get("pipeline")
    if pipe:
        rows = []
        for name, p in pipe["phases"].items():
            o = p["overhead_ms"]
            stages = p.get("stage_p50_ms", {})
            rows.append(
                [
                    name,
                    p["succeeded"],
                    p["throughput_per_minute"],
                    o["p50"],
                    o["p95"],
                    o["p99"],
                    " / ".join(
                        str(stages.get(s, "")) for s in ("queue_wait", "prepare", "provider", "finalize")
                    ),
                    p["generated_twice"],
                ]
            )
        lines += _table(
            f"Pipeline overhead (instant provider; {pipe['photo'].split(',')[0]}; "
            f"{pipe['worker_threads']} worker threads)",
            [
                "phase",
                "designs",
                "per minute",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "p50 queue/prepare/generate/finalize ms",
                "generated twice",
            ],
            rows,
        )

    imaging = results.get("imaging")
    if imaging:
        by_case: dict[tuple[str, str], dict[str, Any]] = {}
        for case in imaging["cases"]:
            by_case.setdefault((case["size"], case["operation"]), {})[case["library"]] = case
        rows = []
        for (size, operation), libs in by_case.items():

            def cell(lib: str, libs: dict[str, Any] = libs) -> str:
                case = libs.get(lib)
                if not case:
                    return "-"
                if "skipped" in case:
                    return "skipped"
                return f"{case['wall_ms']:.0f} ms ({case['cpu_ms']:.0f} cpu) / {case['peak_mb']:.0f} MB"

            rows.append([size, operation, cell("pillow"), cell("pillow-naive"), cell("vips")])
        lines += _table(
            "Images (median wall (CPU) ms / peak MB over the process's baseline)",
            ["photo", "operation", "Pillow (Roomcraft)", "Pillow without draft", "libvips"],
            rows,
        )
        if imaging.get("vips") != "available":
            lines += [f"Note: {imaging['vips']}", ""]

    cost = results.get("cost")
    if cost:
        measured, scaled = cost["as_measured"], cost["cpu_scaled"]
        rows = [
            [name, f"{value:.4f}", f"{scaled['usd_per_1000_designs'][name]:.4f}"]
            for name, value in measured["usd_per_1000_designs"].items()
        ]
        rows.append(
            [
                "total",
                f"{measured['total_usd_per_1000_designs']:.4f}",
                f"{scaled['total_usd_per_1000_designs']:.4f}",
            ]
        )
        rows.append(
            [
                "CDN, one view of full + thumb (not in total)",
                f"{measured['cdn_one_view_usd_per_1000_designs']:.4f}",
                f"{scaled['cdn_one_view_usd_per_1000_designs']:.4f}",
            ]
        )
        lines += _table(
            f"Infrastructure cost, USD per 1,000 designs ({cost['region']}, {cost['prices_as_of']})",
            ["line", "as measured here", "durations scaled to Lambda's vCPU share"],
            rows,
        )
        lines += ["Excluded: " + "; ".join(cost["excluded"]) + ".", ""]

    art = results.get("artifacts")
    if art:
        layer = art["layer"]
        rows = [
            [
                f"layer ({layer['platform']}, py{layer['python_version']})",
                _mb(layer["zipped_bytes"]),
                _mb(layer["unzipped_bytes"]),
                "yes" if layer.get("bytecode_compiled") else "no",
            ]
        ]
        for name, f in art["functions"].items():
            rows.append(
                [
                    f"function {name}",
                    _mb(f["zipped_bytes"]),
                    _mb(f["unzipped_bytes"]),
                    "yes"
                    if f["ships_bytecode"]
                    else f"no (with: {_mb(f['zipped_bytes_if_compiled'])} zipped)",
                ]
            )
        lines += _table("Deployment artefacts", ["artefact", "zipped", "unzipped", "bytecode"], rows)

    faults = results.get("faults")
    if faults:
        rows = [
            [
                name,
                r.get("created"),
                r.get("terminal"),
                r.get("lost"),
                r.get("generated_twice"),
                r.get("duplicate_webhook_ids", "n/a"),
                r.get("note", ""),
            ]
            for name, r in faults.get("scenarios", {}).items()
        ]
        lines += _table(
            "Fault injection (embedded local cloud)",
            ["scenario", "created", "terminal", "lost", "generated twice", "duplicate webhook ids", "note"],
            rows,
        )
    return "\n".join(lines)
