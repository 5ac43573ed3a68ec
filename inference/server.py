"""The HTTP server SageMaker (or ``roomcraft inference serve``) runs: ``GET /ping``, ``POST /invocations``.

One worker thread owns the model and takes jobs from a bounded queue; a full queue answers 503 at
once. Each request waits at most ``request_timeout_seconds``; a job whose caller gave up is skipped,
or abandoned at the next denoising step, so a slow request never blocks the ones behind it.
The weights load in the background: ``/ping`` answers 503 until they are in, 200 after, 500 if
loading failed.
"""

from __future__ import annotations

import base64
import contextlib
import io
import queue
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from inference.contract import Invocation, Limits, RequestRefused, parse_invocation
from inference.model import GenerationAbandoned, Loader, StagingModel


@dataclass
class ServerConfig:
    queue_size: int = 8
    request_timeout_seconds: float = 300.0
    max_body_bytes: int = 30 * 1024 * 1024
    limits: Limits = field(default_factory=Limits)
    image_format: str = "PNG"


@dataclass
class _Job:
    invocation: Invocation
    deadline: float
    result: Future[list[bytes]] = field(default_factory=Future)


class ModelServer:
    """Owns the model, its loading thread and its worker thread."""

    def __init__(self, loader: Loader, config: ServerConfig | None = None) -> None:
        self.config = config or ServerConfig()
        self._loader = loader
        self._model: StagingModel | None = None
        self._load_error: str | None = None
        self._jobs: queue.Queue[_Job | None] = queue.Queue(maxsize=self.config.queue_size)
        self._threads: list[threading.Thread] = []

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        loading = threading.Thread(target=self._load, name="model-loader", daemon=True)
        worker = threading.Thread(target=self._work, name="model-worker", daemon=True)
        self._threads = [loading, worker]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        with contextlib.suppress(queue.Full):
            self._jobs.put_nowait(None)

    def _load(self) -> None:
        try:
            self._model = self._loader()
        except Exception as error:  # any loading failure is reported by /ping, not raised
            self._load_error = f"{type(error).__name__}: {error}"[:300]

    @property
    def model(self) -> StagingModel | None:
        return self._model

    def health(self) -> tuple[int, str]:
        if self._model is not None:
            return (
                200,
                f"ready: {self._model.label} on {self._model.device.name} ({self._model.device.dtype_name})",
            )
        if self._load_error:
            return 500, f"the model failed to load: {self._load_error}"
        return 503, "loading the model"

    # --- requests -----------------------------------------------------------------------------
    def invoke(self, body: bytes) -> dict[str, Any]:
        """The response document, or raises ``RequestRefused`` with the status to answer."""
        status, message = self.health()
        if status != 200:
            raise RequestRefused(503 if status == 503 else 500, message)
        invocation = parse_invocation(body, self.config.limits)
        job = _Job(invocation, deadline=time.monotonic() + self.config.request_timeout_seconds)
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            raise RequestRefused(
                503, f"busy: {self.config.queue_size} requests are queued; retry later"
            ) from None
        started = time.monotonic()
        try:
            images = job.result.result(timeout=self.config.request_timeout_seconds)
        except FutureTimeout:
            job.result.cancel()
            raise RequestRefused(
                504, f"the request took longer than {self.config.request_timeout_seconds:g} s"
            ) from None
        except GenerationAbandoned:
            raise RequestRefused(
                504, f"the request took longer than {self.config.request_timeout_seconds:g} s"
            ) from None
        model = self._model
        return {
            "images": [base64.b64encode(image).decode("ascii") for image in images],
            "inference_seconds": round(time.monotonic() - started, 3),
            "model": model.label if model else "",
        }

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if not job.result.set_running_or_notify_cancel():
                continue  # its caller gave up while it waited
            try:
                job.result.set_result(self._run(job))
            except Exception as error:  # reported to that request; the worker goes on
                job.result.set_exception(error)

    def _run(self, job: _Job) -> list[bytes]:
        model = self._model
        if model is None:
            raise RuntimeError("the model is not loaded")
        if time.monotonic() > job.deadline:
            raise GenerationAbandoned("the deadline passed in the queue")
        request = job.invocation
        images = model.generate(
            request.image,
            width=request.width,
            height=request.height,
            prompt=request.prompt,
            negative_prompt=request.negative_prompt,
            num_outputs=request.num_outputs,
            seed=request.seed,
            steps=request.num_inference_steps,
            guidance=request.guidance_scale,
            deadline=job.deadline,
        )
        encoded = []
        for image in images:
            buffer = io.BytesIO()
            image.save(buffer, format=self.config.image_format)
            encoded.append(buffer.getvalue())
        return encoded


def create_app(server: ModelServer) -> FastAPI:
    app = FastAPI(title="Roomcraft model server", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.model_server = server

    @app.get("/ping")
    async def ping() -> Response:
        status, message = server.health()
        return PlainTextResponse(message, status_code=status)

    @app.post("/invocations")
    # The SageMaker runtime's path too, so tests can point the sagemaker provider (boto3) at this server.
    @app.post("/endpoints/{endpoint_name}/invocations")
    async def invocations(request: Request) -> Response:
        declared = request.headers.get("content-length", "")
        limit = server.config.max_body_bytes
        if declared.isdigit() and int(declared) > limit:
            return PlainTextResponse(f"the request is larger than {limit} bytes", status_code=413)
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > limit:
                return PlainTextResponse(f"the request is larger than {limit} bytes", status_code=413)
        try:
            document = await run_in_threadpool(server.invoke, bytes(body))
        except RequestRefused as refused:
            headers = {"Retry-After": "5"} if refused.status == 503 else None
            return PlainTextResponse(refused.message, status_code=refused.status, headers=headers)
        except Exception as error:  # the model failed on this input: a short reason, never a trace
            return PlainTextResponse(
                f"the model failed: {type(error).__name__}: {error}"[:300], status_code=500
            )
        return JSONResponse(document)

    return app
