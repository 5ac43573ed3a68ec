"""Secrets Manager: provider credentials, read once per container and cached for a few minutes.

Values are returned, never logged; error messages name the secret's ARN, never its value.
A secret may hold the plain value or a JSON object; ``key`` picks a field of the object.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.adapters.aws import client
from shared.domain.errors import ProviderNotConfigured

CACHE_SECONDS = 300.0

_cache: dict[tuple[str, str | None], tuple[float, str]] = {}
_lock = threading.Lock()


def read_secret(arn: str, *, key: str | None = None) -> str:
    """The secret's string (or field ``key`` of its JSON); ``ProviderNotConfigured`` when unreadable."""
    now = time.monotonic()
    with _lock:
        cached = _cache.get((arn, key))
        if cached and now - cached[0] < CACHE_SECONDS:
            return cached[1]
    try:
        response: dict[str, Any] = client("secretsmanager").get_secret_value(SecretId=arn)
    except (ClientError, BotoCoreError) as error:
        code = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
        raise ProviderNotConfigured(f"the secret {arn} could not be read ({code})") from None
    value = str(response.get("SecretString") or "").strip()
    if key is not None and value.startswith("{"):
        try:
            document = json.loads(value)
        except ValueError:
            raise ProviderNotConfigured(f"the secret {arn} is not valid JSON") from None
        value = str(document.get(key) or "").strip()
    if not value:
        raise ProviderNotConfigured(f"the secret {arn} is empty" + (f" (no {key!r} field)" if key else ""))
    with _lock:
        _cache[(arn, key)] = (now, value)
    return value


def forget_secrets() -> None:
    """Drop cached values (tests; and after a rotation, the next read fetches again)."""
    with _lock:
        _cache.clear()
