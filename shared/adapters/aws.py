"""boto3 clients, created once per container and pointed at the emulator when one is configured."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config

from shared.settings import get_settings

_CONFIG = Config(
    retries={"max_attempts": 5, "mode": "standard"},
    connect_timeout=5,
    read_timeout=30,
    signature_version="s3v4",
)


_LOADER = botocore.loaders.create_loader()
"""One loader for every session: botocore parses each service's JSON model once per process, not
once per session (~0.15 s per client otherwise, paid again after every ``reset_clients``)."""


def session() -> boto3.session.Session:
    """A fresh boto3 session (sessions are not thread-safe) sharing the process's parsed models."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    return boto3.session.Session(botocore_session=core)


@cache
def client(service: str) -> Any:
    settings = get_settings()
    return session().client(
        service,
        region_name=settings.region,
        endpoint_url=settings.aws_endpoint_url,
        config=_CONFIG,
    )


def reset_clients() -> None:
    """Forget cached clients (the local cloud calls this after it changes the settings)."""
    client.cache_clear()
