"""A local SageMaker runtime that honours the runtime API and, behind it, Roomcraft's container contract.

``FakeSageMakerRuntime`` answers boto3's ``sagemaker-runtime`` calls on 127.0.0.1:
``POST /endpoints/{name}/invocations`` (InvokeEndpoint) and ``/async-invocations``
(InvokeEndpointAsync: reads the input object from S3, writes the output or failure object).
Errors come back the way SageMaker sends them (``x-amzn-ErrorType`` + JSON message), so boto3
raises the same ``ClientError`` codes: ``ThrottlingException``, ``ModelError``,
``ServiceUnavailable``, ``ValidationError``. The model itself is ``container()``: it validates the
request against ``ContainerRequest`` and answers a ``ContainerResponse``, like a real container.

moto 5.2.5 also answers both calls, with canned results and no errors; the happy-path tests use
it too (tests/integration/test_sagemaker_provider.py).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3

from shared.providers.sagemaker import ContainerRequest, ContainerResponse
from tests.fakes.replicate_server import png

ENDPOINT = "roomcraft-staging"
RESULTS_BUCKET = "sagemaker-async-results"
OUTPUT_PREFIX = "work/sagemaker-async/output/"
FAILURE_PREFIX = "work/sagemaker-async/failure/"
"""Where docs/providers.md tells operators to point the endpoint's S3OutputPath / S3FailurePath."""


def container(request: ContainerRequest) -> ContainerResponse:
    """A model container that follows the contract: ``num_outputs`` PNGs, seeds in order."""
    images = [
        base64.b64encode(png(colour=((request.seed + i) % 256, 120, 140))).decode()
        for i in range(request.num_outputs)
    ]
    return ContainerResponse(images=images, inference_seconds=2.5)


@dataclass
class RuntimeFault:
    status: int
    error_type: str
    message: str = "injected"
    delay: float = 0.0
    remaining: int = 1


@dataclass
class FakeSageMakerRuntime:
    model: Callable[[ContainerRequest], ContainerResponse | bytes] = container
    async_mode: str = "complete"
    """``complete``: the output object is written at once; ``hold``: only on ``finish()``;
    ``fail``: the failure object is written."""
    requests: list[dict[str, Any]] = field(default_factory=list)
    held: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)
    _faults: list[RuntimeFault] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> FakeSageMakerRuntime:
        fake = self

        class Handler(_Handler):
            runtime = fake

        boto3.client("s3").create_bucket(Bucket=RESULTS_BUCKET)
        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeSageMakerRuntime:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def fail(
        self, status: int, error_type: str, *, message: str = "injected", delay: float = 0.0, times: int = 1
    ) -> None:
        with self._lock:
            self._faults.append(RuntimeFault(status, error_type, message, delay, times))

    def take_fault(self) -> RuntimeFault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0:
                    fault.remaining -= 1
                    return fault
        return None

    def run_model(self, body: bytes) -> tuple[int, bytes]:
        request = ContainerRequest.model_validate_json(body)
        answer = self.model(request)
        data = answer if isinstance(answer, bytes) else answer.model_dump_json().encode()
        return 200, data

    def finish(self, output_location: str) -> None:
        """Write the held async output (``hold`` mode)."""
        bucket, key, data = self.held.pop(output_location)
        boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=data)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass


class _Handler(BaseHTTPRequestHandler):
    runtime: FakeSageMakerRuntime
    protocol_version = "HTTP/1.1"

    def log_message(self, *_: object) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, error_type: str, message: str, **extra: Any) -> None:
        body = json.dumps({"message": message, **extra}).encode()
        self._send(status, body, {"x-amzn-ErrorType": error_type})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        match = re.fullmatch(r"/endpoints/([^/]+)/(invocations|async-invocations)", self.path.split("?")[0])
        runtime = self.runtime
        runtime.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if match is None:
            self._error(404, "UnknownOperationException", "no such operation")
            return
        if match.group(1) != ENDPOINT:
            self._error(
                400, "ValidationError", f"Endpoint {match.group(1)} of account 123456789012 not found."
            )
            return
        fault = runtime.take_fault()
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            else:
                extra = (
                    {"OriginalStatusCode": 500, "OriginalMessage": fault.message}
                    if fault.error_type == "ModelError"
                    else {}
                )
                self._error(fault.status, fault.error_type, fault.message, **extra)
                return
        if match.group(2) == "invocations":
            status, data = runtime.run_model(body)
            self._send(status, data)
            return
        self._async(runtime)

    def _async(self, runtime: FakeSageMakerRuntime) -> None:
        location = self.headers.get("X-Amzn-SageMaker-InputLocation") or ""
        bucket, key = location[5:].split("/", 1)
        s3 = boto3.client("s3")
        request_body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        name = uuid.uuid4().hex
        output = f"s3://{RESULTS_BUCKET}/{OUTPUT_PREFIX}{name}.out"
        failure = f"s3://{RESULTS_BUCKET}/{FAILURE_PREFIX}{name}-error.out"
        if runtime.async_mode == "fail":
            s3.put_object(
                Bucket=RESULTS_BUCKET,
                Key=f"{FAILURE_PREFIX}{name}-error.out",
                Body=b"CUDA error: device-side assert",
            )
        else:
            _, data = runtime.run_model(request_body)
            if runtime.async_mode == "hold":
                runtime.held[output] = (RESULTS_BUCKET, f"{OUTPUT_PREFIX}{name}.out", data)
            else:
                s3.put_object(Bucket=RESULTS_BUCKET, Key=f"{OUTPUT_PREFIX}{name}.out", Body=data)
        inference_id = self.headers.get("X-Amzn-SageMaker-Inference-Id") or name
        self._send(
            202,
            json.dumps({"InferenceId": inference_id}).encode(),
            {"X-Amzn-SageMaker-OutputLocation": output, "X-Amzn-SageMaker-FailureLocation": failure},
        )
