"""Runs inside a fresh ``python -I -S`` process: import one Lambda handler, invoke it, report timings.

Standard library only until the handler is imported (the process must start as Lambda's does,
with only the task, layer and runtime folders on ``sys.path``). Prints one JSON line last.

    python -I -S probe.py SPEC_JSON_FILE
    spec: {"sys_path": [...], "handler": "handler.handler", "events": [first, warm...], ...}
    environment: BENCH_SPAWNED_AT, the parent's clock just before it started this process
"""

import time

STARTED_AT = time.time()  # first statement: what interpreter start-up took is STARTED_AT - spawned_at

import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import uuid  # noqa: E402

HEAVY = ("boto3", "botocore", "pynamodb", "PIL", "replicate", "fastapi", "mangum", "httpx", "pydantic")


class Context:
    """The attributes Powertools and the handlers read from Lambda's context object."""

    def __init__(self, name: str, memory_mb: int, timeout_s: int) -> None:
        self.function_name = name
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
        self.aws_request_id = str(uuid.uuid4())
        self.function_version = "$LATEST"
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "bench"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    sys.path[:0] = spec["sys_path"]
    module_name, _, attribute = spec["handler"].rpartition(".")

    before_import = time.perf_counter()
    module = importlib.import_module(module_name)
    handler = getattr(module, attribute)
    import_seconds = time.perf_counter() - before_import
    heavy_after_import = sorted(name for name in HEAVY if name in sys.modules)

    durations = []
    responses = []
    for event in spec["events"]:
        context = Context(spec["function_name"], spec["memory_mb"], spec["timeout_s"])
        before = time.perf_counter()
        response = handler(event, context)
        durations.append(time.perf_counter() - before)
        responses.append(response)
    print(
        json.dumps(
            {
                "started_at": STARTED_AT,
                "startup_seconds": STARTED_AT - float(os.environ["BENCH_SPAWNED_AT"]),
                "import_seconds": import_seconds,
                "invoke_seconds": durations,
                "responses": responses,
                "modules_loaded": len(sys.modules),
                "heavy_after_import": heavy_after_import,
                "heavy_after_invoke": sorted(name for name in HEAVY if name in sys.modules),
            },
            default=str,
        )
    )


if __name__ == "__main__":
    main()
