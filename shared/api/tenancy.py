"""Who is calling, in HTTP terms: the tenancy middleware and errors, usage, and the documentation.

Authentication itself is the dependency every tenant-scoped route declares (``CurrentTenant`` in
``shared.api.deps``); it runs before any route's own code. Why not a Lambda authorizer: docs/tenants.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from shared.api.deps import CurrentPrincipal, Meter, admit
from shared.api.idempotency import IDEMPOTENCY_KEY_PATTERN, IdempotencyMiddleware
from shared.domain.errors import TooManyRequests, Unauthenticated
from shared.services.metering import TenantUsage

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

ErrorRenderer = Callable[..., JSONResponse]

router = APIRouter(tags=["usage"])


@router.get("/v1/usage")
def usage(principal: CurrentPrincipal, meter: Meter) -> TenantUsage:
    """Designs used today (UTC) and requests used this minute, against the tenant's limits."""
    return meter.usage(principal.tenant)


def _auth_responses() -> dict[str, dict[str, Any]]:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    return {
        "401": {
            "description": "No API key, or one that is malformed, unknown or revoked "
            "(`unauthenticated`, `invalid_api_key`, `api_key_revoked`)",
            "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Bearer`"}},
            "content": error,
        },
        "403": {"description": "The key's tenant is disabled (`tenant_disabled`)", "content": error},
        "404": {
            "description": "Not found for this tenant (another tenant's ids answer 404 too)",
            "content": error,
        },
        "429": {
            "description": "A limit is used up: `rate_limited`, `daily_quota_exceeded`, "
            "`global_daily_cap_reached` (details say which limit and when it resets)",
            "headers": {
                "Retry-After": {
                    "schema": {"type": "integer"},
                    "description": "Seconds until the limit resets",
                }
            },
            "content": error,
        },
    }


def _document(app: FastAPI) -> None:
    """Every operation that needs a key documents 401/403/404/429 and the Idempotency-Key header."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        for path_item in schema.get("paths", {}).values():
            for method, operation in path_item.items():
                if not operation.get("security"):
                    continue
                operation.setdefault("responses", {}).update(_auth_responses())
                if method == "post":
                    operation.setdefault("parameters", []).append(
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "schema": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 255,
                                "pattern": IDEMPOTENCY_KEY_PATTERN,
                            },
                            "description": "Retrying with the same key returns the first response "
                            "(header `Idempotent-Replayed: true`) instead of doing the work again; "
                            "kept 24 h. The same key with a different body: 422 `idempotency_key_reused`.",
                        }
                    )
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_tenancy(
    app: FastAPI, render_error: ErrorRenderer, idempotency_store: Callable[[], BasePersistenceLayer]
) -> None:
    """Install the idempotency middleware, the 401/429 error shapes and their documentation.

    Call before the request-id middleware is added, so that it stays the outermost layer.
    """

    def tenant_of(request: Request) -> str:
        return admit(request).tenant_id

    app.add_middleware(
        IdempotencyMiddleware, render_error=render_error, resolve_tenant=tenant_of, store=idempotency_store
    )

    @app.exception_handler(TooManyRequests)
    async def too_many_requests(request: Request, error: TooManyRequests) -> JSONResponse:
        response = render_error(request, error.http_status, error.code, error.message, error.details)
        response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.exception_handler(Unauthenticated)
    async def unauthenticated(request: Request, error: Unauthenticated) -> JSONResponse:
        response = render_error(request, error.http_status, error.code, error.message, error.details)
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    _document(app)
