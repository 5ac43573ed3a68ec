"""The local cloud's own tenant and API key, so that nothing needs configuring on a laptop."""

from __future__ import annotations

import os

from shared import bootstrap
from shared.domain.tenants import Limits
from shared.settings import get_settings

PINNED_KEY_ENV = "ROOMCRAFT_LOCAL_API_KEY"
"""Set to an ``rc_…`` key to keep the same development key across restarts (a web app's .env)."""

DEVELOPMENT_LIMITS = Limits(daily_designs=1000, requests_per_minute=6000)
"""Generous: the demo, the end-to-end tests and a developer clicking around never meet them."""


def seed_development_tenant(token: str | None = None) -> str:
    """Create the default tenant (``ROOMCRAFT_DEFAULT_TENANT``) and a key for it; return the key."""
    admin = bootstrap.tenant_admin()
    tenant_id = get_settings().default_tenant
    admin.ensure_tenant(tenant_id, name="Local development", limits=DEVELOPMENT_LIMITS)
    token = token or os.environ.get(PINNED_KEY_ENV)
    if token:
        admin.import_key(tenant_id, token, name="local development")
        return token
    _, token = admin.create_key(tenant_id, name="local development")
    return token
