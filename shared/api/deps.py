"""What routes depend on, declared once as ``Annotated[..., Depends(...)]`` aliases.

This is the one way a route gets a service or the calling tenant (the full-stack-fastapi-template
style): ``tenant: CurrentTenant, service: Designs``. The services come from the ``ApiServices`` the
entry point hands to ``create_app`` (``shared.bootstrap.api_services()``); nothing under
``shared.api`` builds one. Each is built on first use, so the cold path stays light.

Authentication lives here too, as the dependency every tenant-scoped route declares; it runs before
the route's own code (why not a Lambda authorizer: docs/tenants.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.domain.errors import RoomcraftError, Unauthenticated
from shared.domain.tenants import Principal
from shared.services.analysis import UploadAnalysis
from shared.services.batches import BatchService
from shared.services.callbacks import PredictionCallbacks
from shared.services.design_submission import DesignSubmission
from shared.services.designs import DesignService
from shared.services.metering import Metering
from shared.services.webhook_endpoints import WebhookEndpointService

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

    from shared.services.tenancy import Authenticator

UrlFor = Callable[[str], str]
"""The public URL of an object in the outputs bucket (behind the CDN when there is one)."""


@dataclass(frozen=True)
class ApiServices:
    """Builders of what the API uses, each called per request and cached by whoever passes them."""

    designs: Callable[[], DesignService]
    design_submission: Callable[[], DesignSubmission]
    batches: Callable[[], BatchService]
    webhook_endpoints: Callable[[], WebhookEndpointService]
    analyses: Callable[[], UploadAnalysis]
    prediction_callbacks: Callable[[], PredictionCallbacks]
    authenticator: Callable[[], Authenticator]
    metering: Callable[[], Metering]
    idempotency_store: Callable[[], BasePersistenceLayer]
    output_urls: Callable[[], UrlFor]


def request_id_of(request: Request) -> str:
    """The id the request-id middleware gave this request (API Gateway's, the caller's, or ours)."""
    return str(getattr(request.state, "request_id", "unknown"))


def services_of(request: Request) -> ApiServices:
    services: ApiServices = request.app.state.services
    return services


# --- the caller ---------------------------------------------------------------------------
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
        principal = services_of(request).authenticator().authenticate(_bearer_token(request))
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
        services_of(request).metering().admit_request(principal)
        request.state.admitted = True
    return principal


def authenticated_principal(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(api_key_scheme)],
) -> Principal:
    """401/403 without a valid key, 429 past the tenant's request rate."""
    return admit(request)


CurrentPrincipal = Annotated[Principal, Depends(authenticated_principal)]


def authenticated_tenant(principal: CurrentPrincipal) -> str:
    return principal.tenant_id


CurrentTenant = Annotated[str, Depends(authenticated_tenant)]
"""The calling tenant's id."""


# --- services -----------------------------------------------------------------------------
def _designs(request: Request) -> DesignService:
    return services_of(request).designs()


def _design_submission(request: Request) -> DesignSubmission:
    return services_of(request).design_submission()


def _batches(request: Request) -> BatchService:
    return services_of(request).batches()


def _webhook_endpoints(request: Request) -> WebhookEndpointService:
    return services_of(request).webhook_endpoints()


def _analyses(request: Request) -> UploadAnalysis:
    return services_of(request).analyses()


def _prediction_callbacks(request: Request) -> PredictionCallbacks:
    return services_of(request).prediction_callbacks()


def _metering(request: Request) -> Metering:
    return services_of(request).metering()


def _output_urls(request: Request) -> UrlFor:
    return services_of(request).output_urls()


Designs = Annotated[DesignService, Depends(_designs)]
Submissions = Annotated[DesignSubmission, Depends(_design_submission)]
Batches = Annotated[BatchService, Depends(_batches)]
WebhookEndpoints = Annotated[WebhookEndpointService, Depends(_webhook_endpoints)]
Analyses = Annotated[UploadAnalysis, Depends(_analyses)]
Callbacks = Annotated[PredictionCallbacks, Depends(_prediction_callbacks)]
Meter = Annotated[Metering, Depends(_metering)]
OutputUrls = Annotated[UrlFor, Depends(_output_urls)]
