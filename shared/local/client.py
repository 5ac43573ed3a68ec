"""A small client of the public API, used by the CLI and the end-to-end tests."""

from __future__ import annotations

import mimetypes
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

TERMINAL = {"succeeded", "failed", "canceled"}


class ApiError(RuntimeError):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        self.status = status
        self.code = error.get("code", "http_error")
        self.request_id = error.get("request_id")
        super().__init__(
            f"{self.code}: {error.get('message', body)} (HTTP {status}, request {self.request_id})"
        )


class RoomcraftClient:
    def __init__(self, base_url: str, *, api_key: str | None = None, timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=base_url, timeout=timeout, headers=headers)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._http.request(method, path, **kwargs)
        body = response.json() if response.content else {}
        if response.status_code >= 400:
            raise ApiError(response.status_code, body)
        return body

    def upload(self, photo: Path, content_type: str | None = None) -> str:
        """Upload a photo with the presigned POST; returns the upload id."""
        content_type = content_type or mimetypes.guess_type(photo.name)[0] or "image/jpeg"
        slot = self._call("POST", "/v1/uploads", json={"content_type": content_type})
        with photo.open("rb") as handle:
            response = httpx.post(
                slot["url"],
                data=slot["fields"],
                files={"file": (photo.name, handle, content_type)},
                timeout=120,
            )
        if response.status_code not in (200, 201, 204):
            raise RuntimeError(f"upload to storage failed: HTTP {response.status_code} {response.text[:200]}")
        return str(slot["upload_id"])

    def create_design(self, **brief: Any) -> dict[str, Any]:
        return self._call("POST", "/v1/designs", json={k: v for k, v in brief.items() if v is not None})

    def get_design(self, design_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/designs/{design_id}")

    def wait(
        self,
        design_id: str,
        *,
        timeout: float = 300.0,
        on_update: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Poll with back-off until the design is terminal."""
        deadline = time.monotonic() + timeout
        delay = 0.1
        last_seen: tuple[str, float] | None = None
        while True:
            design = self.get_design(design_id)
            seen = (design["status"], design["progress"])
            if on_update and seen != last_seen:
                on_update(design)
            last_seen = seen
            if design["status"] in TERMINAL:
                return design
            if time.monotonic() > deadline:
                raise TimeoutError(f"design {design_id} still {design['status']} after {timeout:.0f} s")
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    def create_batch(
        self, *, designs: list[dict[str, Any]], defaults: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return self._call("POST", "/v1/batches", json={"defaults": defaults or {}, "designs": designs})

    def get_batch(self, batch_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/batches/{batch_id}")

    def wait_batch(
        self,
        batch_id: str,
        *,
        timeout: float = 300.0,
        on_update: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Poll with back-off until every design of the batch is terminal."""
        deadline = time.monotonic() + timeout
        delay = 0.2
        last_seen: tuple[int, float] | None = None
        while True:
            batch = self.get_batch(batch_id)
            seen = (batch["finished"], batch["progress"])
            if on_update and seen != last_seen:
                on_update(batch)
            last_seen = seen
            if batch["status"] == "completed":
                return batch
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"batch {batch_id}: {batch['finished']} of {batch['total']} done after {timeout:.0f} s"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    def download_outputs(self, design: dict[str, Any], out_dir: Path) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for output in design["outputs"]:
            for name, variant in output["variants"].items():
                extension = "jpg" if variant["content_type"] == "image/jpeg" else "webp"
                path = out_dir / f"variant-{output['index']}-{name}.{extension}"
                response = httpx.get(variant["url"], timeout=60)
                response.raise_for_status()
                path.write_bytes(response.content)
                written.append(path)
        return written
