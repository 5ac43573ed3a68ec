"""Property-based fuzzing of the HTTP API from its own OpenAPI document (schemathesis).

The ASGI app runs in-process against moto (one ``mock_aws`` for the module), so every generated request goes
through validation, the services and the adapters. Checked on every response: never a 5xx, the
status code, content type, headers and body are the ones the document declares. Bounded examples
per operation (``MAX_EXAMPLES``, derandomized so CI is repeatable) keep the module under a
minute. Host names in generated URLs are never
resolved (no test reaches a network): they are refused as unresolvable, like a bad host would be.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 10


@pytest.fixture(scope="module")
def fuzz_aws() -> Iterator[dict[str, str]]:
    """moto with every resource, once for the module (each example adds a little data)."""
    from moto import mock_aws

    from shared import bootstrap
    from shared.local.provision import provision_resources

    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        env = provision_resources(stage="fuzz", endpoint_url=None)
        for name, value in {
            **env,
            "ROOMCRAFT_STAGE": "fuzz",
            "ROOMCRAFT_CDN_BASE_URL": "https://cdn.test",
        }.items():
            patch.setenv(name, value)
        patch.delenv("ROOMCRAFT_AWS_ENDPOINT_URL", raising=False)
        bootstrap.reset()
        yield env
        bootstrap.reset()


@pytest.fixture
def offline_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    original = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            ipaddress.ip_address(str(host).strip("[]"))
        except ValueError:
            raise socket.gaierror(socket.EAI_NONAME, "no network in tests") from None
        return original(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def _app() -> Any:
    from shared import bootstrap
    from shared.api.app import create_app

    return create_app(bootstrap.api_services())


# The app's services are built on first use, inside each test's ``aws`` fixture (moto).
schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_openapi_document(case: Any, fuzz_aws: dict[str, str], offline_dns: None) -> None:
    case.call_and_validate(checks=CHECKS)
