"""The reference web app in headless Chromium against the embedded local cloud.

Boots ``LocalCloud`` (which serves ``web/dist`` at ``/app/`` on the local CDN origin, as CloudFront
does in the cloud), seeds a page and a bit of designs for the gallery, then runs
``web/e2e/webapp.e2e.mjs`` (playwright-core driving Debian's Chromium: no browser download): it
drops a photo, starts a design, waits for the result, moves the slider, downloads the full-size
image, pages through the gallery, and checks settings. Screenshots go to ``web/screenshots/``
(``ROOMCRAFT_SCREENSHOTS`` overrides).

Skips only when Chromium, Node.js or ``web/node_modules`` are missing; CI installs all three.
A missing or stale ``web/dist`` is rebuilt first.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.local.client import RoomcraftClient
from shared.local.cloud import WEB_DIST, LocalCloud
from tests.conftest import room_photo

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
CHROMIUM = Path(os.environ.get("ROOMCRAFT_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(os.environ.get("ROOMCRAFT_SCREENSHOTS", WEB / "screenshots"))
PHOTO = ROOT / "shared" / "local" / "sample_room.jpg"
PAGE_SIZE = 12
"""The gallery's page size (web/src/views/gallery.ts): seed enough designs for a second page."""
SEED_STYLES = ("scandinavian", "industrial", "coastal", "art_deco", "bohemian", "minimalist")


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found: apt-get install chromium (CI installs it)"
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm not found (CI installs them)"
    if not (WEB / "node_modules" / "playwright-core").is_dir():
        return "web/node_modules missing: run `npm ci` in web/ (CI does)"
    return None


@pytest.fixture(scope="module")
def built_app() -> Path:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    index = WEB_DIST / "index.html"
    sources = [WEB / "index.html", WEB / "vite.config.ts", *(WEB / "src").rglob("*")]
    if not index.is_file() or max(p.stat().st_mtime for p in sources) > index.stat().st_mtime:
        subprocess.run(["npm", "run", "build"], cwd=WEB, check=True, capture_output=True, timeout=300)
    return WEB_DIST


@pytest.fixture(scope="module")
def web_cloud(built_app: Path) -> Iterator[LocalCloud]:
    with LocalCloud(stage="web", web_dist=built_app) as cloud:
        yield cloud


def _seed_designs(client: RoomcraftClient, tmp_path: Path, count: int) -> list[str]:
    photo = tmp_path / "seed.jpg"
    photo.write_bytes(room_photo(640, 480))
    upload_id = client.upload(photo)
    return [
        client.create_design(
            upload_id=upload_id,
            room_type="bedroom",
            style=SEED_STYLES[n % len(SEED_STYLES)],
            variants=1,
            seed=n,
        )["id"]
        for n in range(count)
    ]


def test_config_json_points_the_app_at_the_api(web_cloud: LocalCloud) -> None:
    import httpx

    assert web_cloud.app_url is not None
    config = httpx.get(f"{web_cloud.app_url}config.json").json()
    # Locally only: the default tenant's key, so the app works with no setup (never in a deployment).
    assert config == {"apiUrl": web_cloud.api_url, "apiKey": web_cloud.api_key}
    index = httpx.get(web_cloud.app_url)
    assert index.status_code == 200
    assert "<title>Roomcraft</title>" in index.text
    assert httpx.get(web_cloud.app_url.rstrip("/"), follow_redirects=False).headers["location"] == "/app/"
    preflight = httpx.options(
        f"{web_cloud.api_url}/v1/designs",
        headers={
            "Origin": web_cloud.app_url.split("/app/")[0],
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == web_cloud.app_url.split("/app/")[0]
    refused = httpx.options(
        f"{web_cloud.api_url}/v1/designs",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in refused.headers


def test_stage_a_room_in_the_browser(web_cloud: LocalCloud, tmp_path: Path) -> None:
    client = RoomcraftClient(web_cloud.api_url, api_key=web_cloud.api_key)
    try:
        seeded = _seed_designs(client, tmp_path, PAGE_SIZE)
        assert web_cloud.app_url is not None
        run = subprocess.run(
            ["node", "e2e/webapp.e2e.mjs"],
            cwd=WEB,
            env={
                **os.environ,
                "APP_URL": web_cloud.app_url,
                "API_KEY": web_cloud.api_key,
                "PHOTO": str(PHOTO),
                "CHROMIUM": str(CHROMIUM),
                "SCREENSHOTS": str(SCREENSHOTS),
            },
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, f"browser test failed:\n{run.stdout}\n{run.stderr}"
        summary = json.loads(run.stdout.strip().splitlines()[-1])

        # What the browser asked for is what the API recorded.
        design = client.get_design(summary["design_id"])
        assert design["status"] == "succeeded"
        assert design["brief"]["style"] == "japandi"
        assert design["brief"]["room_type"] == "living_room"
        assert design["brief"]["variants"] == 2
        assert design["brief"]["prompt"] == "a reading corner by the window"
        assert "#8a9a5b" in design["brief"]["palette"]
        assert len(design["outputs"]) == 2
        assert design["source"]["width"], design["source"]
        # The gallery paged: a first page of PAGE_SIZE, then the rest (the seeded + the new one).
        assert summary["gallery_first_page"] == PAGE_SIZE
        assert summary["gallery_after_load_more"] == len(seeded) + 1
    finally:
        client.close()
    for name in ("01-new-design", "03-result", "04-gallery", "05-settings", "06-result-phone"):
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000
