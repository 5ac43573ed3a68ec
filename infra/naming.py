"""Construct ids from the specs' ids: ``design-status-to-webhooks`` -> ``DesignStatusToWebhooks``."""

from __future__ import annotations

import re


def pascal(resource_id: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", resource_id) if part)
