"""``POST /v1/designs``: create the design, and sign its own ``webhook_url`` from the first one on.

A design that names a ``webhook_url`` is signed with the tenant's default secret. The first such
design creates that secret, and only its response carries it (once; ``rotate-secret`` on
``default`` gives a new one later).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, Protocol

from shared.domain.design import Design
from shared.services.designs import DesignRequest


class DesignCreator(Protocol):
    def create(self, tenant_id: str, request: DesignRequest, *, request_id: str | None = None) -> Design: ...


class SubmittedDesign(NamedTuple):
    design: Design
    webhook_secret: str | None
    """The tenant's new default signing secret, on the one response that created it; else None."""


class DesignSubmission:
    def __init__(self, *, designs: DesignCreator, issue_default_secret: Callable[[str], str | None]) -> None:
        """``issue_default_secret(tenant_id)``: the new secret, or None when the tenant has one."""
        self._designs = designs
        self._issue_default_secret = issue_default_secret

    def submit(self, tenant_id: str, request: DesignRequest, *, request_id: str | None) -> SubmittedDesign:
        design = self._designs.create(tenant_id, request, request_id=request_id)
        secret = self._issue_default_secret(tenant_id) if design.webhook_url else None
        return SubmittedDesign(design, secret)
