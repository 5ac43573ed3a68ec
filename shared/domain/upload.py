"""An upload slot: a presigned POST target in the uploads bucket, owned by one tenant."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

ACCEPTED_CONTENT_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/heic",
        "image/avif",
        # Converted to JPEG when the worker prepares the photo, as the CLI and docs promise.
        "image/gif",
        "image/tiff",
        "image/bmp",
    }
)


class Upload(BaseModel):
    model_config = ConfigDict(frozen=True)

    upload_id: str
    tenant_id: str
    key: str
    content_type: str
    max_bytes: int
    created_at: datetime
    expires_at: datetime


def upload_key(tenant_id: str, upload_id: str) -> str:
    return f"uploads/{tenant_id}/{upload_id}"
