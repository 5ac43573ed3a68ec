"""A local stand-in for Replicate's HTTP API, for tests that drive the real ``replicate`` client.

``FakeReplicate`` serves, on 127.0.0.1 and a free port:

- ``POST /v1/predictions`` (by version) and ``POST /v1/models/{owner}/{name}/predictions``,
  honouring ``Prefer: wait=N``; ``GET /v1/predictions/{id}``; ``POST /v1/predictions/{id}/cancel``;
- ``POST /v1/files`` (uploaded inputs) and ``GET /v1/webhooks/default/secret``;
- the outputs, under ``/delivery/{prediction}/{i}.png`` (like ``replicate.delivery``);
- "completed" webhooks to the prediction's ``webhook`` URL, signed like Replicate's
  (``webhook-id``, ``webhook-timestamp``, ``webhook-signature: v1,<base64 HMAC-SHA256>``), retried
  on non-2xx answers.

Behaviour is switchable per test: ``mode`` ("complete": a prediction finishes as soon as it is
created; "hold": it stays ``processing`` until ``finish()``), ``outcome`` (succeeded, failed,
canceled, not_image, oversize, no_output), and one-off ``fail(route, kind)`` faults: an HTTP
status (with Retry-After), a slow answer (client timeout), or a dropped connection.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from PIL import Image, ImageDraw

TOKEN = "r8_fake_token_for_tests"
OUTCOMES = ("succeeded", "failed", "canceled", "aborted", "not_image", "oversize", "no_output")
TERMINAL = ("succeeded", "failed", "canceled", "aborted")
ADIRIK_VERSION = "76604baddc85b1b4616e1c6475eca080da339c8875bd4996705440484a6eac38"
SINGLE_OUTPUT_MODELS = frozenset({"adirik/interior-design", "black-forest-labs/flux-kontext-pro"})
"""Models whose output is one URI (Cog ``-> Path``); the others (cog-flux) answer a list of URIs."""

WebhookSender = Callable[[str, dict[str, str], bytes], int]
"""(url, headers, body) -> HTTP status the receiver answered."""


@dataclass
class Fault:
    route: str
    """``create``, ``get``, ``cancel``, ``files``, ``secret`` or ``output``."""
    kind: str = "status"
    """``status`` (answer ``status``), ``timeout`` (answer after ``delay`` s), ``disconnect``."""
    status: int = 503
    retry_after: str | None = None
    delay: float = 0.0
    remaining: int = 1
    detail: str | None = None


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Delivery:
    prediction_id: str
    url: str
    status: int
    attempt: int
    headers: dict[str, str] = field(default_factory=dict)


def png(width: int = 320, height: int = 240, colour: tuple[int, int, int] = (120, 150, 170)) -> bytes:
    image = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, int(height * 0.7), width, height), fill=(90, 70, 50))
    draw.rectangle(
        (int(width * 0.4), int(height * 0.2), int(width * 0.6), int(height * 0.5)), fill=(230, 240, 250)
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def adirik_effective_prompt(prompt: str) -> str:
    """The prompt adirik/interior-design's predict() really runs (neuralwork/sd-interior-design):
    it adds a bed to bedroom and children's room prompts that do not mention one."""
    if "bedroom" in prompt and "bed " not in prompt:
        return prompt + ", with a queen size bed against the wall"
    if ("children room" in prompt or "children's room" in prompt) and "bed " not in prompt:
        return prompt + ", with a twin bed against the wall"
    return prompt


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class FakeReplicate:
    token: str = TOKEN
    webhook_secret: str = field(
        default_factory=lambda: "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    )
    mode: str = "complete"
    outcome: str = "succeeded"
    predict_time: float = 4.2
    webhooks: bool = True
    webhook_attempts: int = 6
    webhook_retry_delay: float = 0.2
    webhook_sender: WebhookSender | None = None
    background_webhooks: bool = True
    """Deliver webhooks on their own as predictions complete; off: only ``deliver()`` sends them."""
    oversize_bytes: int = 2 * 1024 * 1024
    output_as_list: bool = False
    """Answer ``output`` as a list even for a single-output model (adirik answers one URI)."""
    max_wait_seconds: float = 60.0
    """Replicate holds a ``Prefer: wait=N`` create at most N s (at most 60); tests lower this cap."""
    filtered: int = 0
    """Outputs a batched (``num_outputs``) prediction loses to the safety checker, as cog-flux drops
    flagged images; the prediction fails only when every image is flagged."""
    versions: set[str] = field(default_factory=lambda: {ADIRIK_VERSION})
    """Versions this account may run; others answer 422 "Invalid version or not permitted"."""
    outputs_need_auth: bool = False
    """Output files are served only with the API token (as some accounts' files are)."""
    max_request_bytes: int = 1024 * 1024
    """Larger create bodies answer 413 (inline data URIs are meant for files up to ~256 KB)."""

    predictions: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    effective_prompts: dict[str, str] = field(default_factory=dict)
    """adirik predictions: the prompt its predict() runs after its own rewrite."""
    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _image: bytes = field(default_factory=png)
    _done: dict[str, threading.Event] = field(default_factory=dict)

    # --- lifecycle ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> FakeReplicate:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-replicate",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeReplicate:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # --- switches -------------------------------------------------------------------------
    def fail(
        self,
        route: str,
        kind: str = "status",
        *,
        status: int = 503,
        retry_after: str | None = None,
        delay: float = 0.0,
        times: int = 1,
        detail: str | None = None,
    ) -> None:
        with self._lock:
            self._faults.append(Fault(route, kind, status, retry_after, delay, times, detail))

    def take_fault(self, route: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.route == route and fault.remaining > 0:
                    fault.remaining -= 1
                    return fault
        return None

    # --- observations ---------------------------------------------------------------------
    def calls(self, method: str, pattern: str) -> list[Recorded]:
        return [
            r for r in self.requests if r.method == method and re.fullmatch(pattern, r.path.split("?")[0])
        ]

    @property
    def creates(self) -> list[Recorded]:
        return self.calls("POST", r"/v1/(predictions|models/[^/]+/[^/]+/predictions)")

    @property
    def created_ids(self) -> list[str]:
        return list(self.predictions)

    # --- predictions ----------------------------------------------------------------------
    def create(self, body: dict[str, Any], model: str | None) -> dict[str, Any]:
        prediction_id = uuid.uuid4().hex[:20]
        base = self.url
        prediction: dict[str, Any] = {
            "id": prediction_id,
            "model": model
            or ("adirik/interior-design" if body.get("version") == ADIRIK_VERSION else "unknown/model"),
            "version": body.get("version") or "official",
            "input": body.get("input", {}),
            "output": None,
            "logs": "",
            "error": None,
            "status": "starting",
            "created_at": now_iso(),
            "started_at": None,
            "completed_at": None,
            "metrics": {},
            "urls": {
                "get": f"{base}/v1/predictions/{prediction_id}",
                "cancel": f"{base}/v1/predictions/{prediction_id}/cancel",
            },
            "webhook": body.get("webhook"),
            "webhook_events_filter": body.get("webhook_events_filter"),
        }
        if prediction["model"] == "adirik/interior-design" and isinstance(
            prediction["input"].get("prompt"), str
        ):
            self.effective_prompts[prediction_id] = adirik_effective_prompt(prediction["input"]["prompt"])
        with self._lock:
            self.predictions[prediction_id] = prediction
            self._done[prediction_id] = threading.Event()
        if "start" in (body.get("webhook_events_filter") or []):
            self._webhook_in_background(prediction_id, final=False)
        if self.mode == "complete":
            self._complete(prediction_id, self.outcome)
            self._webhook_in_background(prediction_id)
        else:
            with self._lock:
                prediction["status"] = "processing"
                prediction["started_at"] = now_iso()
        return prediction

    def finish(self, prediction_id: str, outcome: str | None = None, *, deliver: bool = True) -> None:
        """Complete a held prediction; deliver its webhook (with retries) in the background."""
        self._complete(prediction_id, outcome or self.outcome)
        if deliver:
            self._webhook_in_background(prediction_id)

    def cancel(self, prediction_id: str) -> dict[str, Any] | None:
        with self._lock:
            prediction = self.predictions.get(prediction_id)
        if prediction is None:
            return None
        if prediction["status"] not in TERMINAL:
            self._complete(prediction_id, "canceled")
            self._webhook_in_background(prediction_id)
        return prediction

    def _complete(self, prediction_id: str, outcome: str) -> None:
        assert outcome in OUTCOMES, outcome
        with self._lock:
            prediction = self.predictions[prediction_id]
            prediction["completed_at"] = now_iso()
            if outcome == "aborted":
                # Stopped before it ran (its Cancel-After deadline passed): never started, no metrics.
                prediction["status"] = "aborted"
                self._done[prediction_id].set()
                return
            prediction["started_at"] = prediction["started_at"] or now_iso()
            prediction["metrics"] = {"predict_time": self.predict_time}
            count = int(prediction["input"].get("num_outputs") or 1)
            batched = "num_outputs" in prediction["input"]
            kept = count - self.filtered if batched else count
            if outcome == "failed" or (outcome == "succeeded" and kept <= 0):
                prediction["status"] = "failed"
                prediction["error"] = (
                    "All generated images contained NSFW content. "
                    "Try running it again with a different prompt."
                    if kept <= 0
                    else "CUDA out of memory. Tried to allocate 2.00 GiB"
                )
            elif outcome == "canceled":
                prediction["status"] = "canceled"
            else:
                prediction["status"] = "succeeded"
                urls = [f"{self.url}/delivery/{prediction_id}/{i}.png" for i in range(kept)]
                single = prediction["model"] in SINGLE_OUTPUT_MODELS and not self.output_as_list
                if outcome == "no_output":
                    prediction["output"] = None
                elif single:
                    prediction["output"] = urls[0]
                else:
                    prediction["output"] = urls
                prediction["_outcome"] = outcome
            self._done[prediction_id].set()

    def wait_for(self, prediction_id: str, seconds: float) -> None:
        """Hold a ``Prefer: wait`` create until the prediction finishes or ``seconds`` pass."""
        done = self._done.get(prediction_id)
        if done is not None:
            done.wait(min(seconds, self.max_wait_seconds))

    def output_body(self, prediction_id: str) -> tuple[bytes, str] | None:
        with self._lock:
            prediction = self.predictions.get(prediction_id)
        if prediction is None or prediction["status"] != "succeeded":
            return None
        outcome = prediction.get("_outcome")
        if outcome == "not_image":
            return b"<html><body>Internal error page</body></html>", "text/html"
        if outcome == "oversize":
            return self._image + b"\0" * self.oversize_bytes, "image/png"
        return self._image, "image/png"

    def public(self, prediction_id: str) -> dict[str, Any]:
        with self._lock:
            prediction = dict(self.predictions[prediction_id])
        prediction.pop("_outcome", None)
        return prediction

    # --- webhooks -------------------------------------------------------------------------
    def sign(self, webhook_id: str, timestamp: str, body: bytes, secret: str | None = None) -> str:
        key = base64.b64decode((secret or self.webhook_secret).split("_", 1)[1])
        digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
        return "v1," + base64.b64encode(digest).decode()

    def signed_webhook(
        self,
        prediction_id: str,
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        webhook_id: str | None = None,
        body: bytes | None = None,
    ) -> tuple[str, dict[str, str], bytes]:
        """(url, headers, body) of the webhook Replicate would send for this prediction now."""
        prediction = self.public(prediction_id)
        payload = body if body is not None else json.dumps(prediction).encode()
        msg_id = webhook_id or f"msg_{uuid.uuid4().hex}"
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        headers = {
            "content-type": "application/json",
            "user-agent": "Replicate-Webhooks/1.0",
            "webhook-id": msg_id,
            "webhook-timestamp": stamp,
            "webhook-signature": self.sign(msg_id, stamp, payload, secret),
        }
        return str(prediction["webhook"]), headers, payload

    def send(self, url: str, headers: dict[str, str], body: bytes) -> int:
        if self.webhook_sender is not None:
            return self.webhook_sender(url, headers, body)
        try:
            return httpx.post(url, content=body, headers=headers, timeout=30).status_code
        except httpx.HTTPError:
            return 0

    def deliver(self, prediction_id: str, *, final: bool = True) -> list[int]:
        """Send a webhook as Replicate does: the final ("completed") event is retried with
        exponential backoff until a 2xx or the attempts run out, each attempt signed with a new
        timestamp under the same ``webhook-id``; other events are sent once."""
        prediction = self.public(prediction_id)
        if not self.webhooks or not prediction.get("webhook"):
            return []
        statuses = []
        message_id = f"msg_{uuid.uuid4().hex}"
        attempts = self.webhook_attempts if final else 1
        for attempt in range(1, attempts + 1):
            url, headers, body = self.signed_webhook(prediction_id, webhook_id=message_id)
            status = self.send(url, headers, body)
            statuses.append(status)
            with self._lock:
                self.deliveries.append(Delivery(prediction_id, url, status, attempt, headers))
            if 200 <= status < 300:
                break
            if attempt < attempts:
                time.sleep(self.webhook_retry_delay * 2 ** (attempt - 1))
        return statuses

    def _webhook_in_background(self, prediction_id: str, *, final: bool = True) -> None:
        if self.background_webhooks and self.webhooks and self.predictions[prediction_id].get("webhook"):
            threading.Thread(
                target=self.deliver, args=(prediction_id,), kwargs={"final": final}, daemon=True
            ).start()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # dropped connections are what some faults are about


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeReplicate
    protocol_version = "HTTP/1.1"

    def log_message(self, *_: object) -> None:  # quiet
        pass

    # --- plumbing -------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, content_type: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, document: Any, **headers: str) -> None:
        self._send(status, json.dumps(document).encode(), **headers)

    def _fault(self, route: str) -> bool:
        """Apply a pending fault for ``route``; True when the request was answered (or dropped)."""
        fault = self.server_fake.take_fault(route)
        if fault is None:
            return False
        if fault.kind == "disconnect":
            self.close_connection = True
            self.connection.close()
            return True
        if fault.kind == "timeout":
            time.sleep(fault.delay)
            return False  # then answer normally, too late for the client
        extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        if fault.status == 429:
            # Replicate's documented throttle body: only a detail, the wait in its words.
            detail = fault.detail or "Request was throttled. Your rate limit resets in ~30s."
            self._json(429, {"detail": detail}, **extra)
            return True
        self._json(
            fault.status,
            {
                "title": "Fault",
                "detail": fault.detail or f"injected HTTP {fault.status}",
                "status": fault.status,
            },
            **extra,
        )
        return True

    def _record(self, body: bytes) -> Any:
        parsed: Any = None
        if body and (self.headers.get("content-type") or "").startswith("application/json"):
            parsed = json.loads(body)
        self.server_fake.requests.append(
            Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, parsed)
        )
        return parsed

    def _authorized(self) -> bool:
        if self.headers.get("authorization") == f"Bearer {self.server_fake.token}":
            return True
        self._json(
            401,
            {
                "title": "Unauthenticated",
                "detail": "You did not pass a valid authentication token",
                "status": 401,
            },
        )
        return False

    # --- routes ---------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._record(b"")
        fake = self.server_fake
        path = self.path.split("?")[0]
        if match := re.fullmatch(r"/delivery/([^/]+)/(\d+)\.png", path):
            if self._fault("output"):
                return
            if fake.outputs_need_auth and self.headers.get("authorization") != f"Bearer {fake.token}":
                self._send(403, b"Forbidden", "text/plain")
                return
            found = fake.output_body(match.group(1))
            if found is None:
                self._send(404, b"not found", "text/plain")
            else:
                self._send(200, found[0], found[1])
            return
        if not self._authorized():
            return
        if path == "/v1/webhooks/default/secret":
            if not self._fault("secret"):
                self._json(200, {"key": fake.webhook_secret})
            return
        if match := re.fullmatch(r"/v1/predictions/([^/]+)", path):
            if self._fault("get"):
                return
            if match.group(1) not in fake.predictions:
                self._json(404, {"title": "Not found", "detail": "Prediction not found", "status": 404})
                return
            self._json(200, fake.public(match.group(1)))
            return
        self._json(404, {"detail": "no such route"})

    def do_POST(self) -> None:
        raw = self._read_body()
        body = self._record(raw)
        fake = self.server_fake
        path = self.path.split("?")[0]
        if not self._authorized():
            return
        if path == "/v1/files":
            if self._fault("files"):
                return
            content = _multipart_file(self.headers.get("content-type") or "", raw)
            if content is None:
                self._json(400, {"title": "Bad request", "detail": "expected a multipart 'content' part"})
                return
            file_id = uuid.uuid4().hex[:16]
            fake.files[file_id] = content
            raw = content
            self._json(
                201,
                {
                    "id": file_id,
                    "name": "upload",
                    "content_type": "image/jpeg",
                    "size": len(raw),
                    "etag": hashlib.md5(raw, usedforsecurity=False).hexdigest(),
                    "checksums": {},
                    "metadata": {},
                    "created_at": now_iso(),
                    "expires_at": None,
                    "urls": {"get": f"{fake.url}/v1/files/{file_id}"},
                },
            )
            return
        if match := re.fullmatch(r"/v1/predictions/([^/]+)/cancel", path):
            if self._fault("cancel"):
                return
            prediction = fake.cancel(match.group(1))
            if prediction is None:
                self._json(404, {"title": "Not found", "detail": "Prediction not found", "status": 404})
            else:
                self._json(200, fake.public(match.group(1)))
            return
        official = re.fullmatch(r"/v1/models/([^/]+)/([^/]+)/predictions", path)
        if path == "/v1/predictions" or official:
            if self._fault("create"):
                return
            if len(raw) > fake.max_request_bytes:
                self._json(
                    413, {"title": "Request too large", "detail": "request body too large", "status": 413}
                )
                return
            if not isinstance(body, dict) or "input" not in body:
                self._json(422, {"title": "Invalid input", "detail": "input is required", "status": 422})
                return
            if not official and body.get("version") not in fake.versions:
                self._json(
                    422,
                    {
                        "title": "Invalid version or not permitted",
                        "detail": "The specified version does not exist "
                        "(or perhaps you don't have permission to use it?)",
                        "status": 422,
                    },
                )
                return
            model = f"{official.group(1)}/{official.group(2)}" if official else None
            prediction = fake.create(body, model)
            wait = re.search(r"\bwait(?:=(\d+))?", self.headers.get("prefer") or "")
            if wait:
                # Held until the prediction finishes or N s pass (60 without N), then answered as it is.
                fake.wait_for(prediction["id"], float(wait.group(1) or 60))
                shown = fake.public(prediction["id"])
            else:
                shown = fake.public(prediction["id"])
                # Without Prefer: wait the create answers before the model has run.
                shown.update(status="starting", output=None, completed_at=None, metrics={}, started_at=None)
            self._json(201, shown)
            return
        self._json(404, {"detail": "no such route"})


def _multipart_file(content_type: str, body: bytes) -> bytes | None:
    """The bytes of the ``content`` part of a multipart/form-data body (what ``files.create`` sends)."""
    match = re.search(r"boundary=\"?([^\";]+)", content_type)
    if not match:
        return None
    for part in body.split(b"--" + match.group(1).encode()):
        head, _, rest = part.partition(b"\r\n\r\n")
        if b'name="content"' in head:
            return rest[:-2] if rest.endswith(b"\r\n") else rest
    return None
