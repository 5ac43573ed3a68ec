"""The API takes its services from the entry point (``create_app(ApiServices)``) and builds none itself.

No AWS here: every service is a fake handed in through ``ApiServices``, which is the point.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from shared.api.app import create_app
from shared.api.deps import ApiServices
from shared.domain.design import Design
from shared.domain.errors import InvalidApiKey
from shared.domain.tenants import Principal, Tenant
from tests.unit.test_design import T0, make_design

GOOD_KEY = "rc_good"


def never_built(name: str) -> Callable[[], Any]:
    def build() -> Any:
        raise AssertionError(f"the app built {name} without a request that needs it")

    return build


def services(**given: Callable[[], Any]) -> ApiServices:
    """Every builder fails unless given: a test names exactly what its requests may use."""
    builders = {field.name: never_built(field.name) for field in dataclasses.fields(ApiServices)}
    return ApiServices(**{**builders, **given})


class Keys:
    def __init__(self) -> None:
        self.tenant = Tenant(tenant_id="tnt_a", name="A", created_at=T0, updated_at=T0)

    def authenticate(self, token: str) -> Principal:
        if token != GOOD_KEY:
            raise InvalidApiKey("unknown API key")
        return Principal(tenant=self.tenant, key_id="key_1")


class Meter:
    def __init__(self) -> None:
        self.admitted: list[str] = []

    def admit_request(self, principal: Principal) -> None:
        self.admitted.append(principal.tenant_id)


class Designs:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def get(self, tenant_id: str, design_id: str) -> Design:
        self.asked.append((tenant_id, design_id))
        return make_design(tenant_id=tenant_id, design_id=design_id)


def test_building_the_app_and_serving_public_routes_builds_no_service() -> None:
    app = create_app(services())
    client = TestClient(app, raise_server_exceptions=False)

    assert client.get("/v1/health").status_code == 200
    assert client.get("/v1/styles").status_code == 200
    assert {"/v1/designs", "/v1/batches", "/v1/usage", "/v1/webhook-endpoints"} <= set(app.openapi()["paths"])


def test_a_route_gets_the_caller_and_its_service_from_what_the_entry_point_gave() -> None:
    keys, meter, designs = Keys(), Meter(), Designs()
    app = create_app(
        services(
            authenticator=lambda: keys,
            metering=lambda: meter,
            designs=lambda: designs,
            output_urls=lambda: lambda key: f"https://cdn.example.test/{key}",
        )
    )
    client = TestClient(app, raise_server_exceptions=False)

    answer = client.get("/v1/designs/dsn_7", headers={"Authorization": f"Bearer {GOOD_KEY}"})

    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == "dsn_7"
    assert designs.asked == [("tnt_a", "dsn_7")]
    assert meter.admitted == ["tnt_a"]


def test_a_bad_key_stops_the_request_before_the_route_asks_for_its_service() -> None:
    keys, meter, designs = Keys(), Meter(), Designs()
    app = create_app(services(authenticator=lambda: keys, metering=lambda: meter, designs=lambda: designs))
    client = TestClient(app, raise_server_exceptions=False)

    answer = client.get("/v1/designs/dsn_7", headers={"Authorization": "Bearer rc_wrong"})

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "invalid_api_key"
    assert designs.asked == []
    assert meter.admitted == []


def test_the_api_entry_point_loads_no_worker_code_pillow_or_replicate() -> None:
    """The cold path (the bench measures it; the ``light-api`` import contract checks the graph)."""
    probe = (
        "import sys, functions.api.handler\n"
        "heavy = ('PIL', 'replicate', 'numpy', 'shared.bootstrap.workers', 'shared.services.generation')\n"
        "print(sorted(m for m in sys.modules if m in heavy or m.split('.')[0] in heavy))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    ).stdout.strip()
    assert loaded == "[]"
