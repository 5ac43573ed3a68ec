"""Who is calling: API key authentication, the request rate limit, usage, and their HTTP shape.

Authentication runs in the api Lambda, before any route's own code, as the dependency every
tenant-scoped route declares (``current_tenant`` in ``shared.api.app`` delegates here). Why not a
Lambda authorizer: docs/tenants.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.api.idempotency import IDEMPOTENCY_KEY_PATTERN, IdempotencyMiddleware
from shared.domain.errors import RoomcraftError, TooManyRequests, Unauthenticated
from shared.domain.tenants import Principal
from shared.services import wiring
from shared.services.metering import TenantUsage

ErrorRenderer = Callable[..., JSONResponse]

api_key_scheme = HTTPBearer(
    scheme_name="ApiKey",
    bearerFormat="rc_<key id>_<secret>",
    description="An API key of your tenant: `Authorization: Bearer rc_…`. The operator creates keys with "
    "`roomcraft admin key create`; the local cloud prints its development key on start.",
    auto_error=False,
)


def _bearer_token(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise Unauthenticated("send an API key: Authorization: Bearer rc_…")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must read 'Bearer <API key>'")
    return token.strip()


def resolve_principal(request: Request) -> Principal:
    """Authenticate the request's API key, once per request (the idempotency middleware asks first)."""
    state = request.state
    known: Principal | None = getattr(state, "principal", None)
    if known is not None:
        return known
    failure: RoomcraftError | None = getattr(state, "auth_error", None)
    if failure is not None:
        raise failure
    try:
        principal = wiring.authenticator().authenticate(_bearer_token(request))
    except RoomcraftError as error:
        state.auth_error = error
        raise
    state.principal = principal
    return principal


def admit(request: Request) -> Principal:
    """Authenticate, then count the request against the tenant's rate: once per request, whoever asks
    first (the idempotency middleware, so replays are rate limited too, or the route's dependency)."""
    principal = resolve_principal(request)
    if not getattr(request.state, "admitted", False):
        wiring.metering().admit_request(principal)
        request.state.admitted = True
    return principal


def authenticated_tenant(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(api_key_scheme)],
) -> str:
    """The calling tenant's id: 401/403 without a valid key, 429 past the tenant's request rate."""
    return admit(request).tenant_id


AuthenticatedTenant = Annotated[str, Depends(authenticated_tenant)]

router = APIRouter()


@router.get("/v1/usage", tags=["usage"])
def usage(request: Request, _tenant: AuthenticatedTenant) -> TenantUsage:
    """Designs used today (UTC) and requests used this minute, against the tenant's limits."""
    return wiring.metering().usage(resolve_principal(request).tenant)


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


def install_tenancy(app: FastAPI, render_error: ErrorRenderer) -> None:
    """Wire authentication, limits, idempotency, usage and batches into the app.

    Call before the request-id middleware is added, so that it stays the outermost layer.
    """
    from shared.api.batches import router as batches_router

    def tenant_of(request: Request) -> str:
        return admit(request).tenant_id

    app.add_middleware(IdempotencyMiddleware, render_error=render_error, resolve_tenant=tenant_of)

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

    app.include_router(router)
    app.include_router(batches_router)
    _document(app)
