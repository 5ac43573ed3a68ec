"""Infrastructure cost per 1,000 designs at AWS list prices, from what the benchmarks measured.

Inputs: the pipeline benchmark's AWS calls per design (counted at botocore, API and worker apart),
its worker time per design and API latencies; the cold-start benchmark's init time; the memory
of each function (``shared.resources.FUNCTIONS``); the artefacts (bytes stored per design).

Excluded, and said so in the output: the GPU provider (the dominant cost; the provider's own
price), CloudWatch Logs and metrics, X-Ray, KMS, idle queue polling by the event source mappings
(a fixed monthly amount, not per design), free-tier allowances.
"""

from __future__ import annotations

import math
from typing import Any

from infra.runtime import ARCHITECTURE
from shared.resources import FUNCTIONS, GENERATE_QUEUE

PRICES_REGION = "us-east-1"
PRICES_AS_OF = "2025 list prices (not re-checked from this offline machine: verify at the URLs)"
PRICES: dict[str, dict[str, Any]] = {
    "lambda_gb_second_arm64": {"usd": 0.0000133334, "source": "https://aws.amazon.com/lambda/pricing/"},
    "lambda_gb_second_x86_64": {"usd": 0.0000166667, "source": "https://aws.amazon.com/lambda/pricing/"},
    "lambda_request": {"usd": 0.20 / 1e6, "source": "https://aws.amazon.com/lambda/pricing/"},
    "http_api_request": {
        "usd": 1.00 / 1e6,
        "source": "https://aws.amazon.com/api-gateway/pricing/ (HTTP APIs, first 300 million)",
    },
    "sqs_request": {"usd": 0.40 / 1e6, "source": "https://aws.amazon.com/sqs/pricing/ (standard queue)"},
    "dynamodb_wru": {
        "usd": 0.625 / 1e6,
        "source": "https://aws.amazon.com/dynamodb/pricing/on-demand/ (since 2024-11-01)",
    },
    "dynamodb_rru": {"usd": 0.125 / 1e6, "source": "https://aws.amazon.com/dynamodb/pricing/on-demand/"},
    "s3_put": {"usd": 0.005 / 1000, "source": "https://aws.amazon.com/s3/pricing/ (PUT, COPY, POST, LIST)"},
    "s3_get": {"usd": 0.0004 / 1000, "source": "https://aws.amazon.com/s3/pricing/ (GET, SELECT, HEAD)"},
    "s3_gb_month": {"usd": 0.023, "source": "https://aws.amazon.com/s3/pricing/ (Standard, first 50 TB)"},
    "eventbridge_event": {
        "usd": 1.00 / 1e6,
        "source": "https://aws.amazon.com/eventbridge/pricing/ (custom events, per 64 KB chunk)",
    },
    "cloudfront_gb": {
        "usd": 0.085,
        "source": "https://aws.amazon.com/cloudfront/pricing/ (North America, first 10 TB)",
    },
    "cloudfront_https_request": {
        "usd": 0.0100 / 10000,
        "source": "https://aws.amazon.com/cloudfront/pricing/",
    },
}

CLIENT_FLOW = {"uploads": 1, "creates": 1, "gets": 3}
"""API requests per design assumed for the client: one upload slot, one create, three status reads
(a client that uses webhooks reads once; a polling one more often)."""
COLD_START_SHARE = 0.05
"""Share of invocations that are cold (INIT is billed since 2025-08-01); an assumption."""
ONE_VCPU_MB = 1769
"""Lambda gives one full vCPU at 1,769 MB and a proportional share below it."""
WORK_RETENTION_DAYS = 7  # uploads/ and work/ expire after 7 days (shared.resources.UPLOADS_BUCKET)


def _price(name: str) -> float:
    return float(PRICES[name]["usd"])


def _memory_gb(function_id: str) -> float:
    return next(f.memory_mb for f in FUNCTIONS if f.id == function_id) / 1024


def _cpu_scale(function_id: str) -> float:
    memory = next(f.memory_mb for f in FUNCTIONS if f.id == function_id)
    return max(1.0, ONE_VCPU_MB / memory)


def per_design_calls(steady: dict[str, Any]) -> dict[str, float]:
    """AWS calls per design, by ``role/service:operation``, from the pipeline benchmark."""
    designs = max(1, steady["succeeded"])
    return {key: count / designs for key, count in steady["aws_items"].items()}


def estimate(
    pipeline: dict[str, Any],
    coldstart: dict[str, Any] | None,
    storage_bytes: dict[str, float],
    *,
    cpu_scaled: bool = False,
) -> dict[str, Any]:
    """USD per 1,000 designs, line by line."""
    steady = pipeline["phases"]["steady"]
    calls = per_design_calls(steady)
    lines: dict[str, float] = {}
    arch_price = _price(f"lambda_gb_second_{'arm64' if ARCHITECTURE == 'arm64' else 'x86_64'}")

    def total(predicate: Any) -> float:
        return sum(n for key, n in calls.items() if predicate(key))

    # API: one Lambda invocation and one HTTP API request per client request.
    api_requests = sum(CLIENT_FLOW.values())
    api_ms = steady["api_client_ms"]
    api_seconds = (
        CLIENT_FLOW["uploads"] * api_ms.get("upload", api_ms["create"])["p50"]
        + CLIENT_FLOW["creates"] * api_ms["create"]["p50"]
        + CLIENT_FLOW["gets"] * api_ms["get"]["p50"]
    ) / 1000
    worker_invocations = steady["worker_invocations"] / max(1, steady["succeeded"])
    worker_seconds = steady["worker_seconds_per_design"]
    if cpu_scaled:
        api_seconds *= _cpu_scale("api")
        worker_seconds *= _cpu_scale("worker")
    init = {"api": 0.0, "worker": 0.0}
    if coldstart:
        for function_id in init:
            found = coldstart["functions"].get(function_id)
            if found:
                init[function_id] = found["init_ms"] / 1000
    lines["lambda_requests"] = (api_requests + worker_invocations) * _price("lambda_request")
    lines["lambda_api_duration"] = (
        (api_seconds + api_requests * COLD_START_SHARE * init["api"]) * _memory_gb("api") * arch_price
    )
    lines["lambda_worker_duration"] = (
        (worker_seconds + worker_invocations * COLD_START_SHARE * init["worker"])
        * _memory_gb("worker")
        * arch_price
    )
    lines["api_gateway"] = api_requests * _price("http_api_request")

    # SQS: what the code calls (send, receive, delete) plus EventBridge's delivery of every status
    # event to the webhook queue and the dispatcher's receive + delete of it (until the dispatcher
    # is measured: one receive and one delete per event, unbatched, the upper bound).
    events = total(lambda k: k.endswith("events:PutEvents"))
    sqs_calls = total(lambda k: "/sqs:" in k)
    dispatcher_calls = total(lambda k: k.startswith("dispatcher/sqs:"))
    sqs_requests = sqs_calls + events + (0 if dispatcher_calls else 2 * events)
    lines["sqs"] = sqs_requests * _price("sqs_request")

    item_kb = storage_bytes.get("design_item_bytes", 4096) / 1024
    writes = total(lambda k: k.endswith(("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")))
    reads = total(lambda k: k.endswith(("dynamodb:GetItem", "dynamodb:Query")))
    lines["dynamodb_writes"] = writes * math.ceil(item_kb) * _price("dynamodb_wru")
    lines["dynamodb_reads"] = reads * math.ceil(item_kb / 4) * _price("dynamodb_rru")

    puts = (
        total(lambda k: k.endswith(("s3:PutObject", "s3:CopyObject"))) + CLIENT_FLOW["uploads"]
    )  # + the POST
    gets = total(lambda k: k.endswith(("s3:GetObject", "s3:HeadObject")))
    lines["s3_requests"] = puts * _price("s3_put") + gets * _price("s3_get")
    gb = 1024**3
    lines["s3_storage_first_month"] = (
        storage_bytes.get("outputs", 0) / gb
        + (storage_bytes.get("work", 0) + storage_bytes.get("upload", 0)) / gb * WORK_RETENTION_DAYS / 30
    ) * _price("s3_gb_month")
    lines["eventbridge"] = events * _price("eventbridge_event")

    per_thousand = {name: round(value * 1000, 4) for name, value in lines.items()}
    delivery = (
        storage_bytes.get("one_view", 0) / gb * _price("cloudfront_gb")
        + 2 * _price("cloudfront_https_request")
    ) * 1000
    return {
        "usd_per_1000_designs": per_thousand,
        "total_usd_per_1000_designs": round(sum(per_thousand.values()), 4),
        "cdn_one_view_usd_per_1000_designs": round(delivery, 4),
        "inputs": {
            "api_requests_per_design": api_requests,
            "api_lambda_seconds_per_design": round(api_seconds, 4),
            "worker_invocations_per_design": round(worker_invocations, 3),
            "worker_lambda_seconds_per_design": round(worker_seconds, 4),
            "cpu_scaled_to_lambda_vcpu_share": cpu_scaled,
            "cold_start_share": COLD_START_SHARE,
            "init_seconds": init,
            "sqs_requests_per_design": round(sqs_requests, 2),
            "eventbridge_events_per_design": round(events, 2),
            "dynamodb_writes_per_design": round(writes, 2),
            "dynamodb_reads_per_design": round(reads, 2),
            "dynamodb_item_kb": round(item_kb, 2),
            "s3_puts_per_design": round(puts, 2),
            "s3_gets_per_design": round(gets, 2),
            "storage_bytes_per_design": storage_bytes,
            "architecture": ARCHITECTURE,
            "memory_mb": {f.id: f.memory_mb for f in FUNCTIONS},
            "generate_queue_batch_size": GENERATE_QUEUE.batch_size,
            "client_flow": CLIENT_FLOW,
        },
    }


def run(pipeline: dict[str, Any], coldstart: dict[str, Any] | None) -> dict[str, Any]:
    storage = pipeline.get("storage_bytes_per_design", {})
    return {
        "benchmark": "cost",
        "method": __doc__.strip().splitlines()[0],
        "region": PRICES_REGION,
        "prices_as_of": PRICES_AS_OF,
        "prices": PRICES,
        "excluded": [
            "GPU inference (the provider's own price; the dominant cost per design)",
            "CloudWatch Logs ingestion and storage, custom metrics, alarms, dashboards",
            "X-Ray traces",
            "KMS requests (webhook secrets)",
            "idle SQS polling by the Lambda event source mappings (fixed per month, not per design)",
            "free tiers",
        ],
        "as_measured": estimate(pipeline, coldstart, storage),
        "cpu_scaled": estimate(pipeline, coldstart, storage, cpu_scaled=True),
    }
