from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.local.client import RoomcraftClient
from shared.local.cloud import LocalCloud


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(stage="e2e") as running:
        yield running


@pytest.fixture
def client(cloud: LocalCloud) -> Iterator[RoomcraftClient]:
    api = RoomcraftClient(cloud.api_url, api_key=cloud.api_key)
    yield api
    api.close()
