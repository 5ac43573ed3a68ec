"""On the running local cloud, webhooks and image URLs cannot reach the cloud's own ports, while
loopback stays allowed for everything else (issue 13, item 10)."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from shared.local.cloud import LocalCloud

pytestmark = pytest.mark.e2e


def own_ports(cloud: LocalCloud) -> dict[str, int]:
    cdn = urlsplit(cloud.env["ROOMCRAFT_CDN_BASE_URL"]).port
    assert cloud.api is not None
    assert cdn is not None
    return {"emulator": cloud.moto.port, "api": cloud.api.port, "cdn": cdn}


@pytest.mark.parametrize("service", ["emulator", "api", "cdn"])
def test_webhooks_and_image_urls_cannot_reach_the_local_cloud(cloud: LocalCloud, service: str) -> None:
    port = own_ports(cloud)[service]
    target = f"http://127.0.0.1:{port}/moto-api/data.json"
    with httpx.Client(base_url=cloud.api_url, headers=cloud.auth_headers) as api:
        endpoint = api.post("/v1/webhook-endpoints", json={"url": target})
        assert endpoint.status_code == 422
        assert endpoint.json()["error"]["code"] == "webhook_url_refused"
        assert "local cloud" in endpoint.json()["error"]["message"]
        brief = {"room_type": "bedroom", "style": "japandi"}
        design = api.post("/v1/designs", json={**brief, "image_url": target})
        assert design.status_code == 422
        assert design.json()["error"]["code"] == "image_url_refused"
        hooked = api.post(
            "/v1/designs", json={**brief, "image_url": "https://93.184.215.14/r.jpg", "webhook_url": target}
        )
        assert hooked.status_code == 422
        assert hooked.json()["error"]["code"] == "webhook_url_refused"


def test_other_loopback_ports_stay_allowed(cloud: LocalCloud) -> None:
    with httpx.Client(base_url=cloud.api_url, headers=cloud.auth_headers) as api:
        created = api.post("/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/hooks"})
        assert created.status_code == 201, created.text
