"""KMS: encrypts webhook signing secrets at rest, bound to their endpoint by encryption context."""

from __future__ import annotations

import base64
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from shared.adapters.aws import client


class KmsSecretCipher:
    """Encrypt once (create, rotate); decrypt on delivery, cached per container for a few minutes
    so a busy endpoint costs one KMS call per cache period, not one per webhook."""

    def __init__(self, key_id: str, *, cache_seconds: float = 300.0, cache_entries: int = 1024) -> None:
        if not key_id:
            raise RuntimeError(
                "ROOMCRAFT_WEBHOOK_SECRETS_KEY_ID is not set: no key to protect webhook secrets"
            )
        self._key_id = key_id
        self._kms: Any = client("kms")
        self._cache_seconds = cache_seconds
        self._cache_entries = cache_entries
        self._cache: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def encrypt(self, plaintext: str, context: Mapping[str, str]) -> str:
        blob = self._kms.encrypt(
            KeyId=self._key_id, Plaintext=plaintext.encode(), EncryptionContext=dict(context)
        )["CiphertextBlob"]
        return base64.b64encode(blob).decode()

    def decrypt(self, ciphertext: str, context: Mapping[str, str]) -> str:
        key = f"{ciphertext}|{sorted(context.items())}"
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
            if cached and cached[1] > now:
                self._cache.move_to_end(key)
                return cached[0]
        plaintext: str = self._kms.decrypt(
            CiphertextBlob=base64.b64decode(ciphertext), EncryptionContext=dict(context), KeyId=self._key_id
        )["Plaintext"].decode()
        with self._lock:
            self._cache[key] = (plaintext, now + self._cache_seconds)
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_entries:
                self._cache.popitem(last=False)
        return plaintext
