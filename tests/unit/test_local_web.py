"""How the local cloud serves the web app: /app/ static files, config.json, and the API's CORS."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.content_security import web_app_policy
from shared.local.cloud import WebApp, with_local_cors

APP_ORIGIN = "http://127.0.0.1:8788"


class Client:
    """A synchronous face on httpx's ASGI transport (Starlette's TestClient is deprecated)."""

    def __init__(self, app: Any) -> None:
        self._app = app

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self._app)
            async with httpx.AsyncClient(transport=transport, base_url="http://local") as client:
                return await client.request(method, path, **kwargs)

        # Not asyncio.run: it leaves the main thread without an event loop, which Mangum needs
        # in later tests on the same worker.
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(go())
        finally:
            loop.close()

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("OPTIONS", path, **kwargs)


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>Roomcraft</title>")
    (tmp_path / "assets" / "app.js").write_text("console.log('hi')")
    return tmp_path


def test_serves_the_build_and_config_json_under_app(dist: Path) -> None:
    web = WebApp(dist, config={"apiUrl": "http://127.0.0.1:8787"})
    client = Client(Starlette(routes=web.routes()))
    assert client.get("/app/").text.startswith("<!doctype html>")
    assert client.get("/app/assets/app.js").status_code == 200
    config = client.get("/app/config.json")
    assert config.json() == {"apiUrl": "http://127.0.0.1:8787"}
    assert config.headers["cache-control"] == "no-store"
    redirect = client.get("/app")
    assert (redirect.status_code, redirect.headers["location"]) == (307, "/app/")
    assert client.get("/app/nothing.js").status_code == 404


def test_config_json_is_read_when_served_so_it_can_be_set_after_start(dist: Path) -> None:
    web = WebApp(dist)
    client = Client(Starlette(routes=web.routes()))
    web.config = {"apiUrl": "http://127.0.0.1:9999", "apiKey": "rc_local"}
    assert client.get("/app/config.json").json() == {"apiUrl": "http://127.0.0.1:9999", "apiKey": "rc_local"}


def test_nothing_is_mounted_until_the_app_is_built(tmp_path: Path) -> None:
    web = WebApp(tmp_path / "dist")
    assert not web.built
    assert web.routes() == []


def _api() -> Client:
    def designs(_: object) -> JSONResponse:
        return JSONResponse({"data": []}, headers={"X-Request-Id": "req_1"})

    app = Starlette(routes=[Route("/v1/designs", designs, methods=["GET", "POST"])])
    return Client(with_local_cors(app, [APP_ORIGIN]))


def test_api_answers_the_app_origins_preflight_with_authorization_allowed() -> None:
    response = _api().options(
        "/v1/designs",
        headers={
            "Origin": APP_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    simple = _api().get("/v1/designs", headers={"Origin": APP_ORIGIN})
    assert simple.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()


def test_api_gives_other_origins_no_cors_headers() -> None:
    response = _api().options(
        "/v1/designs",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_the_app_is_served_with_a_strict_content_security_policy(dist: Path) -> None:
    """Issue 13: the API key is in localStorage; the page may run only its own scripts and talk only
    to the API and the uploads endpoint the local cloud names."""
    web = WebApp(dist)
    client = Client(Starlette(routes=web.routes()))
    web.content_security_policy = web_app_policy(
        connect_to=("http://127.0.0.1:8787", "http://127.0.0.1:5000")
    )
    for path in ("/app/", "/app/assets/app.js"):
        policy = client.get(path).headers["content-security-policy"]
        directives = dict(d.split(" ", 1) for d in policy.split("; "))
        assert directives["script-src"] == "'self'"
        assert directives["connect-src"] == "'self' http://127.0.0.1:8787 http://127.0.0.1:5000"
        assert directives["default-src"] == "'self'"
        assert directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"


def test_without_origins_the_app_may_only_talk_to_itself(dist: Path) -> None:
    policy = Client(Starlette(routes=WebApp(dist).routes())).get("/app/").headers["content-security-policy"]
    assert "connect-src 'self';" in policy


@pytest.mark.parametrize("origin", ["*", "https:", "http://a.example; script-src *", "'unsafe-inline'", ""])
def test_the_policy_refuses_what_is_not_an_origin(origin: str) -> None:
    with pytest.raises(ValueError, match="not a CSP source origin"):
        web_app_policy(connect_to=(origin,))
