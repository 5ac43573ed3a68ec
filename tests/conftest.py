"""Fixtures shared by every suite: in-process AWS (moto) with Roomcraft's resources, and images."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image, ImageDraw

from shared.local.cloud import LOCAL_CREDENTIALS

# Nothing in the tests may reach real AWS: fake credentials and a region before boto3 loads any.
for _name, _value in LOCAL_CREDENTIALS.items():
    os.environ[_name] = _value
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

TEST_API_KEY = "rc_00000000000000000000000000_the-test-suite-key-never-used-elsewhere"
"""The key of the default tenant the ``aws`` fixture creates; ``http_api_event`` sends it by default."""


def room_photo(
    width: int = 800, height: int = 600, *, fmt: str = "JPEG", colour: tuple[int, int, int] = (180, 170, 150)
) -> bytes:
    """A small drawn room: walls, floor and a window, enough structure for the pipeline."""
    image = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, int(height * 0.65), width, height), fill=(120, 90, 60))
    draw.rectangle(
        (int(width * 0.35), int(height * 0.15), int(width * 0.65), int(height * 0.5)), fill=(220, 235, 250)
    )
    draw.rectangle(
        (int(width * 0.1), int(height * 0.5), int(width * 0.3), int(height * 0.8)), fill=(60, 60, 70)
    )
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


@pytest.fixture
def photo() -> bytes:
    return room_photo()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """moto in-process with every Roomcraft resource created from ``shared.resources``."""
    from moto import mock_aws

    from shared import bootstrap
    from shared.local.emulator import serialize_dynamodb
    from shared.local.provision import provision_resources
    from shared.local.tenants import seed_development_tenant

    serialize_dynamodb()  # DynamoDB's atomic conditional writes, which moto alone does not give threads
    with mock_aws():
        env = provision_resources(stage="test", endpoint_url=None)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("ROOMCRAFT_STAGE", "test")
        monkeypatch.setenv("ROOMCRAFT_CDN_BASE_URL", "https://cdn.example.test")
        monkeypatch.setenv("ROOMCRAFT_GLOBAL_DAILY_DESIGN_CAP", "10000")
        # Fake providers return placeholder images unrelated to the photo: scored and flagged, never
        # regenerated here (regenerations: tests/integration/test_quality_gate.py).
        monkeypatch.setenv("ROOMCRAFT_STRUCTURE_RETRIES", "0")
        monkeypatch.delenv("ROOMCRAFT_AWS_ENDPOINT_URL", raising=False)
        bootstrap.reset()
        seed_development_tenant(TEST_API_KEY)  # the default tenant, as the local cloud has it
        yield env
        bootstrap.reset()
