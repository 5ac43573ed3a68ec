"""boto3 clients, created once per container and pointed at the emulator when one is configured."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from shared.settings import get_settings

_CONFIG = Config(
    retries={"max_attempts": 5, "mode": "standard"},
    connect_timeout=5,
    read_timeout=30,
    signature_version="s3v4",
)


@cache
def client(service: str) -> Any:
    settings = get_settings()
    return boto3.session.Session().client(
        service,
        region_name=settings.region,
        endpoint_url=settings.aws_endpoint_url,
        config=_CONFIG,
    )


def reset_clients() -> None:
    """Forget cached clients (the local cloud calls this after it changes the settings)."""
    client.cache_clear()


def uncached_client(service: str, *, read_timeout: float, endpoint_url: str | None = None) -> Any:
    """A client for slow calls (model inference): its own read timeout and no botocore retries,
    because the caller retries with its own bounded policy."""
    settings = get_settings()
    return boto3.session.Session().client(
        service,
        region_name=settings.region,
        endpoint_url=endpoint_url or settings.aws_endpoint_url,
        config=Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=5,
            read_timeout=read_timeout,
        ),
    )
