"""ULID-style ids: 48-bit millisecond time + 80 random bits, Crockford base32.

Lexicographic order is creation order, which the designs table relies on for newest-first lists.
"""

from __future__ import annotations

import hashlib
import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_ulid(now_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    return _encode(ms, 10) + _encode(secrets.randbits(80), 16)


def new_id(prefix: str) -> str:
    """A typed id such as ``dsn_01J...``: the prefix says what it is in logs and URLs."""
    return f"{prefix}_{new_ulid()}"


def new_secret_token(nbytes: int = 16) -> str:
    """Unguessable path segment for storage keys and CDN URLs."""
    return secrets.token_urlsafe(nbytes).replace("-", "a").replace("_", "b")


def deterministic_id(prefix: str, *parts: str) -> str:
    """A typed id derived from ``parts`` (same parts, same id), shaped like ``new_id``'s ids.

    Unlike ``new_id`` it does not sort by creation time: it is a digest, not a ULID.
    """
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return f"{prefix}_{_encode(int.from_bytes(digest[:17], 'big') >> 6, 26)}"


def ulid_at(now_ms: int, randomness: int = 0) -> str:
    """A ULID with a given time and 80-bit random part: deterministic ids and range-query bounds."""
    return _encode(now_ms, 10) + _encode(randomness & ((1 << 80) - 1), 16)
