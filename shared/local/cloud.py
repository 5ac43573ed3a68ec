"""The embedded local cloud: moto in server mode, the real handlers, uvicorn, and queue pollers.

Everything talks real HTTP to the emulator, exactly as in AWS: boto3 and PynamoDB calls,
presigned POST uploads, SQS visibility and redrive, EventBridge rules delivering to SQS.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from shared.adapters.aws import client as aws_client
from shared.content_security import web_app_policy
from shared.resources import FUNCTIONS, QUEUES, SCHEDULES, QueueSpec, ScheduleSpec

DEFAULT_API_PORT = 8787
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MotoServer:
    """moto_server in its own process, on 127.0.0.1 and a free port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            # moto_server, with DynamoDB requests serialized as DynamoDB itself would (see the module).
            [sys.executable, "-m", "shared.local.emulator", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto server exited with code {self._process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/moto-api/data.json", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto server did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._process = None


@dataclass
class LambdaContext:
    """What Powertools and our handlers read from the Lambda context object."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "local"
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda's SQS event source mapping would deliver for these messages."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value["DataType"],
                    }
                    for name, value in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class QueuePoller:
    """Long-polls one queue and hands batches to its consumer's handler, like an event source mapping.

    Failed items (``batchItemFailures``) stay on the queue; they come back after ``retry_delay``
    seconds rather than the full visibility timeout, so local retries take seconds, not minutes.
    After ``maxReceiveCount`` deliveries SQS itself moves them to the DLQ.
    """

    def __init__(self, spec: QueueSpec, queue_url: str, handler: Handler, *, retry_delay: int = 1) -> None:
        self.spec = spec
        self._url = queue_url
        self._handler = handler
        self._retry_delay = retry_delay
        self._sqs = aws_client("sqs")
        self._arn = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.batches = 0

    def start(self, workers: int = 1) -> None:
        for n in range(workers):
            thread = threading.Thread(target=self._loop, name=f"poller-{self.spec.id}-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _loop(self) -> None:
        function = next(f for f in FUNCTIONS if f.id == self.spec.consumer)
        while not self._stop.is_set():
            try:
                received = self._sqs.receive_message(
                    QueueUrl=self._url,
                    MaxNumberOfMessages=min(self.spec.batch_size, 10),
                    WaitTimeSeconds=1,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
            except Exception:  # the emulator is going away during shutdown
                if self._stop.is_set():
                    return
                time.sleep(0.5)
                continue
            messages = received.get("Messages", [])
            if messages:
                self._deliver(messages, function.memory_mb, function.timeout_seconds)

    def _deliver(self, messages: list[dict[str, Any]], memory_mb: int, timeout: int) -> None:
        event = sqs_event(messages, self._arn, os.environ.get("AWS_REGION", "us-east-1"))
        context = LambdaContext(
            function_name=f"roomcraft-{self.spec.consumer}",
            memory_limit_in_mb=memory_mb,
            timeout_seconds=timeout,
        )
        try:
            response = self._handler(event, context) or {}
            failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        except Exception:  # a crashed invocation fails the whole batch, as on Lambda
            failed = {m["MessageId"] for m in messages}
        self.batches += 1
        for message in messages:
            if message["MessageId"] in failed:
                self._sqs.change_message_visibility(
                    QueueUrl=self._url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self._retry_delay,
                )
            else:
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])


class ScheduledRunner:
    """Runs a scheduled function every ``interval`` seconds, as its EventBridge schedule rule does
    in AWS (``SCHEDULES``); a failed run is logged and the next one comes on time."""

    def __init__(self, spec: ScheduleSpec, handler: Handler, *, interval: float) -> None:
        self.spec = spec
        self._handler = handler
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"schedule-{spec.id}", daemon=True)
        self.runs = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        function = next(f for f in FUNCTIONS if f.id == self.spec.function)
        while not self._stop.wait(self._interval):
            event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
            context = LambdaContext(
                function_name=f"roomcraft-{function.id}",
                memory_limit_in_mb=function.memory_mb,
                timeout_seconds=function.timeout_seconds,
            )
            try:
                self._handler(event, context)
            except Exception:
                logging.getLogger(__name__).exception("scheduled run of %s failed", function.id)
            self.runs += 1


class AsgiServer:
    """uvicorn in a background thread."""

    def __init__(self, app: Any, port: int, name: str) -> None:
        import uvicorn

        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        )
        self._thread = threading.Thread(target=self._server.run, name=name, daemon=True)

    def start(self, timeout: float = 15.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"{self._thread.name} did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def local_cdn_app(bucket: str, web: WebApp | None = None) -> Any:
    """Stands in for CloudFront with Origin Access Control: the bucket stays private and this
    origin reads it with its own credentials, serving objects read-only with their cache headers.
    With ``web``, it also serves the built web app under ``/app/``, as the distribution does."""
    from botocore.exceptions import ClientError
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute, Route

    s3 = aws_client("s3")

    def serve(request: Request) -> Response:
        key = request.path_params["key"]
        try:
            found = s3.get_object(Bucket=bucket, Key=key)
        except ClientError:
            return Response(status_code=404, content="not found")
        body = b"" if request.method == "HEAD" else found["Body"].read()
        headers = {"Cache-Control": found.get("CacheControl", "no-cache"), "ETag": found.get("ETag", "")}
        return Response(content=body, media_type=found.get("ContentType"), headers=headers)

    routes: list[BaseRoute] = web.routes() if web else []
    routes.append(Route("/{key:path}", serve, methods=["GET", "HEAD"]))
    return Starlette(routes=routes)


WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
"""The reference web app's build (``cd web && npm ci && npm run build``); not in the wheel."""
WEB_DEV_ORIGINS = ("http://127.0.0.1:5173", "http://localhost:5173")
"""``npm run dev`` (Vite's dev server) calls the local API from here."""


@dataclass
class WebApp:
    """The built web app (``web/dist``) and the ``config.json`` written beside it at serve time."""

    dist: Path
    config: dict[str, str] = field(default_factory=dict)
    content_security_policy: str = field(default_factory=lambda: web_app_policy(connect_to=()))
    """Sent with every page and file of the app, as CloudFront's response headers policy does."""

    @property
    def built(self) -> bool:
        return (self.dist / "index.html").is_file()

    def routes(self) -> list[Any]:
        from starlette.requests import Request
        from starlette.responses import JSONResponse, RedirectResponse, Response
        from starlette.routing import Mount, Route
        from starlette.staticfiles import StaticFiles

        if not self.built:
            return []

        def config(_: Request) -> Response:
            return JSONResponse(self.config, headers={"Cache-Control": "no-store"})

        def to_app(_: Request) -> Response:
            return RedirectResponse("/app/")

        return [
            Route("/app", to_app),
            Route("/app/config.json", config),
            Mount("/app", self._with_policy(StaticFiles(directory=self.dist, html=True)), name="app"),
        ]

    def _with_policy(self, app: Any) -> Any:
        """The app's files with its Content-Security-Policy (read per response: set after start)."""

        async def send_with_policy(scope: Any, receive: Any, send: Any) -> None:
            async def send_headers(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    headers = [
                        (k, v)
                        for k, v in message.get("headers", [])
                        if k.lower() != b"content-security-policy"
                    ]
                    headers.append((b"content-security-policy", self.content_security_policy.encode()))
                    message = {**message, "headers": headers}
                await send(message)

            await app(scope, receive, send_headers)

        return send_with_policy


def with_local_cors(app: Any, origins: list[str]) -> Any:
    """The local stand-in for the HTTP API's CORS settings: the web app calls the API from the
    CDN origin (and Vite's dev server), so the browser needs these headers."""
    from starlette.middleware.cors import CORSMiddleware

    return CORSMiddleware(
        app,
        allow_origins=origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=["X-Request-Id", "Location", "Retry-After"],
        max_age=600,
    )


class LocalCloud:
    """Boots everything; use as a context manager. ``env`` holds what the handlers were given."""

    def __init__(
        self,
        *,
        api_port: int | None = None,
        stage: str = "local",
        settings: dict[str, str] | None = None,
        worker_threads: int = 2,
        cdn_port: int | None = None,
        web_dist: Path | None = None,
        web_api_key: str | None = None,
        emulator_port: int | None = None,
    ) -> None:
        self.stage = stage
        self.moto = MotoServer(emulator_port)
        self._api_port = api_port or free_port()
        self._overrides = settings or {}
        self._worker_threads = worker_threads
        self.env: dict[str, str] = {}
        self.api: AsgiServer | None = None
        self.cdn: AsgiServer | None = None
        self.pollers: dict[str, QueuePoller] = {}
        self.schedules: dict[str, ScheduledRunner] = {}
        self._saved_env: dict[str, str | None] = {}
        self._cdn_port = cdn_port
        self.web = WebApp(web_dist or Path(os.environ.get("ROOMCRAFT_WEB_DIST", WEB_DIST)))
        self._web_api_key = web_api_key
        """Injected into the web app's config.json as its default key (local use only)."""
        self.api_key = ""
        """The development tenant's API key (created on start; see shared.local.tenants)."""

    @property
    def api_url(self) -> str:
        assert self.api is not None
        return self.api.url

    @property
    def app_url(self) -> str | None:
        """The web app on the local CDN origin, or None when ``web/dist`` is not built."""
        assert self.cdn is not None
        return f"{self.cdn.url}/app/" if self.web.built else None

    def start(self) -> LocalCloud:
        from shared import bootstrap
        from shared.local.provision import provision_resources

        self.moto.start()
        self._set_env(LOCAL_CREDENTIALS)
        self._set_env(
            {
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
            }
        )
        cdn_port = self._cdn_port or free_port()
        cdn_origins = [f"http://127.0.0.1:{cdn_port}", f"http://localhost:{cdn_port}"]
        resources = provision_resources(
            stage=self.stage,
            endpoint_url=self.moto.url,
            upload_origins=(*cdn_origins, *WEB_DEV_ORIGINS),
        )
        self.env = {
            **resources,
            "ROOMCRAFT_STAGE": self.stage,
            "ROOMCRAFT_AWS_ENDPOINT_URL": self.moto.url,
            # Any other boto3 client in this process (tests, scripts) talks to the emulator too.
            "AWS_ENDPOINT_URL": self.moto.url,
            "ROOMCRAFT_CDN_BASE_URL": f"http://127.0.0.1:{cdn_port}",
            "ROOMCRAFT_ALLOW_LOOPBACK_URLS": "true",
            # ...but never to the local cloud itself: the emulator's control plane, the API, the CDN.
            "ROOMCRAFT_LOOPBACK_BLOCKED_PORTS": json.dumps([self.moto.port, self._api_port, cdn_port]),
            # The deployment default (30 designs a day) would stop a developer within the hour.
            "ROOMCRAFT_GLOBAL_DAILY_DESIGN_CAP": os.environ.get("ROOMCRAFT_GLOBAL_DAILY_DESIGN_CAP", "10000"),
            **self._overrides,
        }
        self._set_env(self.env)
        bootstrap.reset()
        from shared.local.tenants import seed_development_tenant

        self.api_key = seed_development_tenant()
        from shared.api.app import create_app

        self.api = AsgiServer(
            with_local_cors(create_app(bootstrap.api_services()), [*cdn_origins, *WEB_DEV_ORIGINS]),
            self._api_port,
            "api",
        )
        self.api.start()
        self.web.config = {"apiUrl": self.api.url}
        # Uploads go to the emulator's S3 endpoint with the presigned POST; images come from the CDN.
        self.web.content_security_policy = web_app_policy(connect_to=(self.api.url, self.moto.url))
        # Local only: the app starts signed in as the development tenant.
        self.web.config["apiKey"] = self._web_api_key or self.api_key
        self.cdn = AsgiServer(local_cdn_app(self.env["ROOMCRAFT_OUTPUTS_BUCKET"], self.web), cdn_port, "cdn")
        self.cdn.start()
        for spec in QUEUES:
            handler = load_handler(spec.consumer)
            if handler is None:
                continue  # its function is not built yet; messages wait on the queue
            poller = QueuePoller(spec, self.env[spec.env_var], handler)
            poller.start(workers=self._worker_threads if spec.consumer == "worker" else 1)
            self.pollers[spec.id] = poller
        # Minutes in AWS; ROOMCRAFT_LOCAL_SCHEDULE_SECONDS makes it seconds (tests, demos).
        interval = float(self.env.get("ROOMCRAFT_LOCAL_SCHEDULE_SECONDS", "0") or 0)
        for schedule in SCHEDULES:
            scheduled = load_handler(schedule.function)
            if scheduled is None:
                continue
            runner = ScheduledRunner(schedule, scheduled, interval=interval or schedule.rate_minutes * 60)
            runner.start()
            self.schedules[schedule.id] = runner
        return self

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def stop(self) -> None:
        for poller in self.pollers.values():
            poller.stop()
        for runner in self.schedules.values():
            runner.stop()
        for server in (self.api, self.cdn):
            if server:
                server.stop()
        self.moto.stop()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        from shared import bootstrap

        bootstrap.reset()

    def _set_env(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def __enter__(self) -> LocalCloud:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *_: object) -> None:
        self.stop()


def load_handler(function_id: str) -> Handler | None:
    try:
        module = importlib.import_module(f"functions.{function_id}.handler")
    except ModuleNotFoundError as error:
        if error.name in {f"functions.{function_id}", f"functions.{function_id}.handler"}:
            return None
        raise
    handler: Handler = module.handler
    return handler


@contextlib.contextmanager
def running(**kwargs: Any) -> Iterator[LocalCloud]:
    with LocalCloud(**kwargs) as cloud:
        yield cloud
