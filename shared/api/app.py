"""The public HTTP API: one FastAPI app, served by Mangum on Lambda and by uvicorn locally."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from shared.adapters.secrets import read_secret
from shared.api.analyses import analyses_router
from shared.api.callbacks import router as callbacks_router
from shared.api.edge import install_edge_check
from shared.api.schemas import (
    Catalogue,
    CreateDesign,
    CreateUpload,
    DesignList,
    DesignView,
    ErrorResponse,
    Health,
    RoomTypeView,
    StyleView,
    UploadResponse,
)
from shared.api.tenancy import AuthenticatedTenant, install_tenancy
from shared.api.webhooks import webhook_router
from shared.domain.clock import utcnow
from shared.domain.errors import RoomcraftError
from shared.domain.status import DesignStatus
from shared.domain.styles import ROOM_TYPES, STYLES
from shared.observability import logger
from shared.services import wiring
from shared.services.designs import DesignService
from shared.settings import get_settings

try:
    VERSION = version("roomcraft")
except PackageNotFoundError:  # deployed as a plain folder, not an installed distribution
    VERSION = "0.1.0"

ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorResponse} for status in (400, 404, 409, 413, 415, 422, 429, 500, 503)
}


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", "unknown"))


def error_response(
    request: Request, status: int, code: str, message: str, details: dict | None = None
) -> JSONResponse:
    body = ErrorResponse.model_validate(
        {
            "error": {
                "code": code,
                "message": message,
                "request_id": request_id_of(request),
                "details": details or {},
            }
        }
    )
    return JSONResponse(status_code=status, content=body.model_dump(mode="json"))


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(app: FastAPI, request: Request) -> set[str]:
    """The methods some route answers on this request's path (asked route by route: included
    routers do not list their methods)."""
    return {
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in app.router.routes
        )
    }


def current_tenant(tenant: AuthenticatedTenant) -> str:
    """The calling tenant, from its API key; 401/403/429 before any route code (shared.api.tenancy)."""
    return tenant


def designs() -> DesignService:
    return wiring.design_service()


Tenant = Annotated[str, Depends(current_tenant)]
Designs = Annotated[DesignService, Depends(designs)]


def create_app() -> FastAPI:
    app = FastAPI(
        title="Roomcraft API",
        version=VERSION,
        description="AI interior design and virtual staging: upload a room photo, describe the brief, "
        "get staged images back as CDN URLs, status events and signed webhooks.",
        responses=ERROR_RESPONSES,
    )
    install_tenancy(app, error_response)  # before the request-id middleware, which must stay outermost
    # Outside tenancy (a request that skipped the WAF costs no key lookup), inside the request id.
    edge_secret_arn = get_settings().edge_secret_arn
    install_edge_check(
        app, error_response, (lambda: read_secret(edge_secret_arn)) if edge_secret_arn else None
    )

    @app.middleware("http")
    async def assign_request_id(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        event = request.scope.get("aws.event") or {}
        request_id = (
            event.get("requestContext", {}).get("requestId")
            or request.headers.get("x-request-id")
            or f"req_{uuid.uuid4().hex}"
        )
        request.state.request_id = request_id
        logger.append_keys(request_id=request_id)
        try:
            response = await call_next(request)
        except Exception:
            logger.exception("unhandled error")
            response = error_response(request, 500, "internal_error", "something went wrong on our side")
        response.headers["X-Request-Id"] = request_id
        logger.remove_keys(["request_id"])
        return response

    @app.exception_handler(RoomcraftError)
    async def domain_error(request: Request, error: RoomcraftError) -> JSONResponse:
        return error_response(request, error.http_status, error.code, error.message, error.details)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            {"location": ".".join(str(p) for p in problem["loc"]), "message": problem["msg"]}
            for problem in error.errors()
        ]
        return error_response(
            request, 422, "validation_failed", "the request is not valid", {"problems": problems}
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "route_not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        response = error_response(request, error.status_code, code, str(error.detail))
        response.headers.update(error.headers or {})
        if error.status_code == 405:
            # Every method of every route on this path (Starlette names only the first route's).
            response.headers["Allow"] = ", ".join(sorted(allowed_methods(app, request)))
        return response

    register_routes(app)
    app.include_router(webhook_router(current_tenant))
    app.include_router(analyses_router(current_tenant))
    app.include_router(callbacks_router)
    return app


def register_routes(app: FastAPI) -> None:
    @app.get("/v1/health", tags=["meta"])
    def health() -> Health:
        settings = get_settings()
        return Health(
            status="ok", version=VERSION, stage=settings.stage, provider=settings.provider, time=utcnow()
        )

    @app.get("/v1/styles", tags=["catalogue"])
    def styles() -> Catalogue:
        return Catalogue(
            styles=[
                StyleView(id=s.id, name=s.name, description=s.description, palette=list(s.palette))
                for s in STYLES.values()
            ],
            room_types=[RoomTypeView(id=r.id, name=r.name) for r in ROOM_TYPES.values()],
        )

    @app.post("/v1/uploads", status_code=201, tags=["uploads"])
    def create_upload(body: CreateUpload, tenant: Tenant, service: Designs) -> UploadResponse:
        return UploadResponse.of(service.create_upload(tenant, content_type=body.content_type))

    @app.post("/v1/designs", status_code=202, tags=["designs"])
    def create_design(
        body: CreateDesign, request: Request, response: Response, tenant: Tenant, service: Designs
    ) -> DesignView:
        design = service.create(tenant, body, request_id=request_id_of(request))
        logger.info("design created", extra={"design_id": design.design_id})
        response.headers["Location"] = f"/v1/designs/{design.design_id}"
        view = DesignView.of(design, wiring.outputs_bucket().url_for)
        if design.webhook_url:
            view.webhook_secret = wiring.webhook_endpoints().issue_default_secret(tenant)
        return view

    @app.get("/v1/designs", tags=["designs"])
    def list_designs(
        tenant: Tenant,
        service: Designs,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        cursor: str | None = None,
        status: DesignStatus | None = None,
    ) -> DesignList:
        found, next_cursor = service.list(tenant, limit=limit, cursor=cursor, status=status)
        url_for = wiring.outputs_bucket().url_for
        return DesignList(data=[DesignView.of(d, url_for) for d in found], next_cursor=next_cursor)

    @app.get("/v1/designs/{design_id}", tags=["designs"])
    def get_design(design_id: str, tenant: Tenant, service: Designs) -> DesignView:
        return DesignView.of(service.get(tenant, design_id), wiring.outputs_bucket().url_for)

    @app.post("/v1/designs/{design_id}/cancel", tags=["designs"])
    def cancel_design(design_id: str, tenant: Tenant, service: Designs) -> DesignView:
        return DesignView.of(service.cancel(tenant, design_id), wiring.outputs_bucket().url_for)


app = create_app()
