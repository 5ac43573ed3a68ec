"""boto3 clients, created once per container and pointed at the emulator when one is configured.

Cold-start discipline (measured by ``make bench``, see bench/README.md):

- one boto3 session per container: each new session parses botocore's endpoint rules and service
  models again (about 100 ms per client on a cold Lambda), a shared one parses them once;
- each client is created on first use, not when an adapter is constructed: a request that only
  reads DynamoDB never pays for the S3, SQS and EventBridge clients its use case could need.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

from shared.settings import get_settings

_CONFIG = Config(
    retries={"max_attempts": 5, "mode": "standard"},
    connect_timeout=5,
    read_timeout=30,
    signature_version="s3v4",
)
_LOCK = threading.Lock()
"""boto3 sessions are not thread-safe while they create clients (the local cloud runs threads)."""


@cache
def botocore_session() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def session() -> boto3.session.Session:
    return boto3.session.Session(botocore_session=botocore_session())


def share_session_with_pynamodb(connection: Any) -> None:
    """PynamoDB gives each model's connection a botocore session of its own, and every new session
    parses DynamoDB's service model again (about 100 ms per table at cold start; the API touches
    four tables on its first request). Give ``connection`` (a PynamoDB ``Connection``) this
    container's session, and create its client now, under the lock that guards that session."""
    with _LOCK:
        connection._local.session = botocore_session()  # PynamoDB has no option for it
        connection.client  # noqa: B018 - created now, not later outside the lock


class LazyClient:
    """Stands in for a boto3 client and creates it on first attribute access, once."""

    def __init__(self, service: str) -> None:
        self._service = service
        self._client: Any = None

    def _real(self) -> Any:
        if self._client is None:
            with _LOCK:
                if self._client is None:
                    settings = get_settings()
                    self._client = session().client(
                        self._service,
                        region_name=settings.region,
                        endpoint_url=settings.aws_endpoint_url,
                        config=_CONFIG,
                    )
        return self._client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real(), name)

    def __repr__(self) -> str:
        state = "created" if self._client is not None else "not created yet"
        return f"<LazyClient {self._service} ({state})>"


@cache
def client(service: str) -> Any:
    return LazyClient(service)


def reset_clients() -> None:
    """Forget cached clients (the local cloud calls this after it changes the settings)."""
    client.cache_clear()
    session.cache_clear()
    botocore_session.cache_clear()


def uncached_client(service: str, *, read_timeout: float, endpoint_url: str | None = None) -> Any:
    """A client for slow calls (model inference): its own read timeout and no botocore retries,
    because the caller retries with its own bounded policy."""
    settings = get_settings()
    with _LOCK:  # the shared session: it has parsed botocore's models already
        return session().client(
            service,
            region_name=settings.region,
            endpoint_url=endpoint_url or settings.aws_endpoint_url,
            config=Config(
                retries={"total_max_attempts": 1, "mode": "standard"},
                connect_timeout=5,
                read_timeout=read_timeout,
            ),
        )
