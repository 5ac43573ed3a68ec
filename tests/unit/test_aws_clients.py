"""AWS clients: one per service and container, created on first use from one shared session."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from shared.adapters import aws


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ROOMCRAFT_AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    from shared.settings import get_settings

    get_settings.cache_clear()
    aws.reset_clients()
    yield
    aws.reset_clients()
    get_settings.cache_clear()


def count_sessions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    created: list[str] = []
    original = aws.boto3.session.Session.client

    def client(self: Any, service: str, **kwargs: Any) -> Any:
        created.append(service)
        return original(self, service, **kwargs)

    monkeypatch.setattr(aws.boto3.session.Session, "client", client)
    return created


def test_no_client_is_created_until_it_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    created = count_sessions(monkeypatch)
    sqs = aws.client("sqs")
    assert created == []
    assert sqs.meta.service_model.service_name == "sqs"
    assert sqs.meta.endpoint_url == "http://127.0.0.1:9"
    sqs.meta  # noqa: B018 - a second use creates nothing more
    assert created == ["sqs"]


def test_one_client_per_service_from_one_session(monkeypatch: pytest.MonkeyPatch) -> None:
    assert aws.client("s3") is aws.client("s3")
    assert aws.client("s3")._real() is aws.client("s3")._real()
    assert aws.client("s3")._real() is not aws.client("sqs")._real()
    assert aws.session() is aws.session()


def test_threads_racing_for_a_new_client_get_the_same_one(monkeypatch: pytest.MonkeyPatch) -> None:
    created = count_sessions(monkeypatch)
    lazy = aws.client("events")
    start = threading.Barrier(8)
    seen: list[Any] = []

    def use() -> None:
        start.wait()
        seen.append(lazy._real())

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert created == ["events"]
    assert len({id(c) for c in seen}) == 1


def test_reset_forgets_clients_and_session() -> None:
    before_client, before_session = aws.client("s3"), aws.session()
    aws.reset_clients()
    assert aws.client("s3") is not before_client
    assert aws.session() is not before_session
