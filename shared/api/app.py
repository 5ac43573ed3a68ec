"""The public HTTP API: one FastAPI app, served by Mangum on Lambda and by uvicorn locally."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from shared.adapters.secrets import read_secret
from shared.api import analyses, batches, callbacks, designs, meta, tenancy, webhooks
from shared.api.deps import ApiServices, request_id_of
from shared.api.edge import install_edge_check
from shared.api.meta import VERSION
from shared.api.schemas import ErrorResponse
from shared.api.tenancy import install_tenancy
from shared.domain.errors import RoomcraftError
from shared.observability import logger
from shared.settings import get_settings

ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorResponse} for status in (400, 404, 409, 413, 415, 422, 429, 500, 503)
}


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


def create_app(services: ApiServices) -> FastAPI:
    """The app, using ``services`` (the entry point builds them: ``shared.bootstrap.api_services()``)."""
    app = FastAPI(
        title="Roomcraft API",
        version=VERSION,
        description="AI interior design and virtual staging: upload a room photo, describe the brief, "
        "get staged images back as CDN URLs, status events and signed webhooks.",
        responses=ERROR_RESPONSES,
    )
    app.state.services = services
    install_tenancy(
        app, error_response, services.idempotency_store
    )  # before the request-id middleware, which must stay outermost
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

    for module in (tenancy, batches, meta, designs, webhooks, analyses, callbacks):
        app.include_router(module.router)
    return app
