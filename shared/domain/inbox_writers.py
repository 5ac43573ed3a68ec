"""Who wrote an inbox object, and whether that writer may write for the tenant of its key prefix.

The key prefix (``inbox/<tenant>/``) alone proves nothing: anyone who can write to the inbox
bucket can write under any tenant's prefix. What S3 reports and the writer cannot choose is the
identity that made the request: every S3 event notification record carries
``userIdentity.principalId``, ``AWS:<unique id>`` for an IAM user (``AIDA…``) or
``AWS:<unique id>:<session name>`` for a role session (``AROA…``; assumed roles, Lambda, SSO).
Tenants' writers are registered by their IAM unique id (``roomcraft admin inbox-writer``), which a
deleted-and-recreated role or user does not keep, so a reused name is not trusted by accident.

Kept apart from ``shared.domain.inbox`` (key parsing and options): this module decides only the
writer question. Pure: no AWS calls.
"""

from __future__ import annotations

import re

from shared.domain.errors import ValidationFailed

_UNIQUE_ID = re.compile(r"^A[A-Z0-9]{15,127}$")
"""IAM unique ids: AIDA (users), AROA (roles), ... (16-128 characters)."""


class InboxWriterNotAllowed(ValidationFailed):
    """The object was written by an identity the tenant of its prefix has not registered."""

    code = "inbox_writer_not_allowed"


def writer_id(principal_id: str | None) -> str | None:
    """The IAM unique id in an S3 event's ``userIdentity.principalId`` (None when there is none,
    or it is not an IAM principal: an anonymous or AWS-service write)."""
    if not principal_id:
        return None
    parts = principal_id.split(":")
    candidate = parts[1] if parts[0] == "AWS" and len(parts) >= 2 else parts[0]
    return candidate if _UNIQUE_ID.match(candidate) else None


def is_unique_id(value: str) -> bool:
    return bool(_UNIQUE_ID.match(value))


def check_writer(tenant_id: str, principal_id: str | None, allowed: frozenset[str] | tuple[str, ...]) -> None:
    """Raise ``InboxWriterNotAllowed`` unless the writer is one the tenant registered."""
    writer = writer_id(principal_id)
    if writer is not None and writer in allowed:
        return
    shown = writer or "unknown"
    raise InboxWriterNotAllowed(
        f"this object was written by {shown}, which is not registered to write to inbox/{tenant_id}/; "
        f"write with the tenant's inbox writer (see `roomcraft admin inbox-writer`)",
        details={"writer": shown, "tenant_id": tenant_id},
    )
