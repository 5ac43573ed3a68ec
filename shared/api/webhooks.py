"""``/v1/webhook-endpoints``: a tenant's webhook endpoints, secrets, delivery logs and replays."""

import json
from datetime import datetime
from typing import Annotated, Any, Self

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field, StrictBool, StrictInt

from shared.api.deps import CurrentTenant, WebhookEndpoints
from shared.domain.clock import utcnow
from shared.domain.webhooks import (
    AttemptOutcome,
    DeliveryAttempt,
    DisabledReason,
    EndpointHealth,
    EndpointStatus,
    FailureReason,
    MessageStatus,
    WebhookEndpoint,
    WebhookEventType,
    WebhookMessage,
)

# --- request bodies ---------------------------------------------------------------------


class CreateEndpoint(BaseModel):
    model_config = {
        "extra": "forbid",
        "json_schema_extra": {
            "examples": [
                {
                    "url": "https://hooks.example.com/roomcraft",
                    "description": "Order system",
                    "event_types": ["design.succeeded", "design.failed"],
                }
            ]
        },
    }

    url: str = Field(
        min_length=1, max_length=2048, description="https only; the host must be a public address"
    )
    description: str = Field(default="", max_length=500)
    event_types: list[str] = Field(default_factory=list, description="Empty: every event type")


class UpdateEndpoint(BaseModel):
    model_config = {"extra": "forbid"}

    url: str | None = Field(default=None, min_length=1, max_length=2048)
    description: str | None = Field(default=None, max_length=500)
    event_types: list[str] | None = None
    enabled: StrictBool | None = Field(
        default=None, description="false pauses; true brings a disabled endpoint back"
    )


class RotateSecret(BaseModel):
    model_config = {"extra": "forbid"}

    grace_period_seconds: StrictInt | None = Field(
        default=None, ge=0, description="How long the old secret keeps signing (default 24 h, at most 7 days)"
    )


class ReplaySince(BaseModel):
    model_config = {"extra": "forbid"}

    since: datetime
    only_failed: StrictBool = False


# --- responses --------------------------------------------------------------------------


class EndpointView(BaseModel):
    id: str
    url: str | None
    description: str
    event_types: list[WebhookEventType]
    """Empty: every event type."""
    status: EndpointStatus
    disabled_reason: DisabledReason | None
    disabled_at: datetime | None
    failing_since: datetime | None
    """Start of the current run of failed attempts; null while deliveries succeed."""
    last_success_at: datetime | None
    last_failure_at: datetime | None
    previous_secret_expires_at: datetime | None
    """While a rotated-out secret still signs (both signatures are sent)."""
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, endpoint: WebhookEndpoint, health: EndpointHealth, now: datetime) -> Self:
        return cls(
            id=endpoint.endpoint_id,
            url=endpoint.url or None,
            description=endpoint.description,
            event_types=list(endpoint.event_types),
            status=endpoint.status,
            disabled_reason=endpoint.disabled_reason,
            disabled_at=endpoint.disabled_at,
            failing_since=health.failing_since,
            last_success_at=health.last_success_at,
            last_failure_at=health.last_failure_at,
            previous_secret_expires_at=endpoint.previous_secret_expires_at(now),
            created_at=endpoint.created_at,
            updated_at=endpoint.updated_at,
        )


class EndpointCreated(EndpointView):
    secret: str | None
    """``whsec_…``: shown only in this response. Store it to verify signatures. Null in an idempotent
    replay (``Idempotent-Redacted: secret``): secrets are never kept for replay; rotate to get a new one."""


class EndpointList(BaseModel):
    data: list[EndpointView]


class SecretRotated(BaseModel):
    id: str
    secret: str | None
    """The new ``whsec_…`` secret, shown only in this response (null in an idempotent replay)."""
    previous_secret_expires_at: datetime | None


class AttemptView(BaseModel):
    attempt: int
    round: int
    at: datetime
    url: str
    outcome: AttemptOutcome
    status_code: int | None
    latency_ms: int
    error: str | None
    response_excerpt: str | None

    @classmethod
    def of(cls, attempt: DeliveryAttempt) -> Self:
        return cls.model_validate(attempt.model_dump())


class DeliveryView(BaseModel):
    id: str
    """The ``webhook-id`` header: the same on every attempt and replay."""
    event_type: WebhookEventType
    status: MessageStatus
    failure_reason: FailureReason | None
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime
    payload: dict[str, Any]
    attempts: list[AttemptView]

    @classmethod
    def of(cls, message: WebhookMessage) -> Self:
        return cls(
            id=message.message_id,
            event_type=message.event_type,
            status=message.status,
            failure_reason=message.failure_reason,
            next_attempt_at=message.next_attempt_at,
            created_at=message.created_at,
            updated_at=message.updated_at,
            payload=json.loads(message.body),
            attempts=[AttemptView.of(a) for a in message.attempts],
        )


class DeliveryList(BaseModel):
    data: list[DeliveryView]
    next_cursor: str | None


class ReplayAccepted(BaseModel):
    endpoint_id: str
    since: datetime
    only_failed: bool


# --- routes -----------------------------------------------------------------------------


router = APIRouter(prefix="/v1/webhook-endpoints", tags=["webhooks"])


@router.post("", status_code=201)
def create_endpoint(
    body: CreateEndpoint, tenant: CurrentTenant, service: WebhookEndpoints
) -> EndpointCreated:
    endpoint, secret = service.create(
        tenant, url=body.url, description=body.description, event_types=body.event_types
    )
    view = EndpointView.of(endpoint, EndpointHealth(), utcnow())
    return EndpointCreated(**view.model_dump(), secret=secret)


@router.get("")
def list_endpoints(tenant: CurrentTenant, service: WebhookEndpoints) -> EndpointList:
    moment = utcnow()
    return EndpointList(data=[EndpointView.of(e, h, moment) for e, h in service.list(tenant)])


@router.get("/{endpoint_id}")
def get_endpoint(endpoint_id: str, tenant: CurrentTenant, service: WebhookEndpoints) -> EndpointView:
    endpoint, health = service.get(tenant, endpoint_id)
    return EndpointView.of(endpoint, health, utcnow())


@router.patch("/{endpoint_id}")
def update_endpoint(
    endpoint_id: str, body: UpdateEndpoint, tenant: CurrentTenant, service: WebhookEndpoints
) -> EndpointView:
    service.update(
        tenant,
        endpoint_id,
        url=body.url,
        description=body.description,
        event_types=body.event_types,
        enabled=body.enabled,
    )
    endpoint, health = service.get(tenant, endpoint_id)
    return EndpointView.of(endpoint, health, utcnow())


@router.delete("/{endpoint_id}", status_code=204)
def delete_endpoint(endpoint_id: str, tenant: CurrentTenant, service: WebhookEndpoints) -> Response:
    service.delete(tenant, endpoint_id)
    return Response(status_code=204)


@router.post("/{endpoint_id}/rotate-secret")
def rotate_secret(
    endpoint_id: str, tenant: CurrentTenant, service: WebhookEndpoints, body: RotateSecret | None = None
) -> SecretRotated:
    """Also works on ``default``, the secret that signs designs' own ``webhook_url``."""
    grace = body.grace_period_seconds if body else None
    endpoint, secret = service.rotate_secret(tenant, endpoint_id, grace_seconds=grace)
    return SecretRotated(
        id=endpoint.endpoint_id,
        secret=secret,
        previous_secret_expires_at=endpoint.previous_secret_expires_at(utcnow()),
    )


@router.post("/{endpoint_id}/test", status_code=202)
def send_test(endpoint_id: str, tenant: CurrentTenant, service: WebhookEndpoints) -> DeliveryView:
    return DeliveryView.of(service.send_test(tenant, endpoint_id))


@router.get("/{endpoint_id}/deliveries")
def list_deliveries(
    endpoint_id: str,
    tenant: CurrentTenant,
    service: WebhookEndpoints,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
    status: MessageStatus | None = None,
) -> DeliveryList:
    """Newest first. ``default`` lists deliveries to designs' own ``webhook_url``."""
    found, next_cursor = service.deliveries(tenant, endpoint_id, limit=limit, cursor=cursor, status=status)
    return DeliveryList(data=[DeliveryView.of(m) for m in found], next_cursor=next_cursor)


@router.get("/{endpoint_id}/deliveries/{message_id}")
def get_delivery(
    endpoint_id: str, message_id: str, tenant: CurrentTenant, service: WebhookEndpoints
) -> DeliveryView:
    return DeliveryView.of(service.delivery(tenant, endpoint_id, message_id))


@router.post("/{endpoint_id}/deliveries/{message_id}/replay", status_code=202)
def replay_delivery(
    endpoint_id: str, message_id: str, tenant: CurrentTenant, service: WebhookEndpoints
) -> DeliveryView:
    return DeliveryView.of(service.replay(tenant, endpoint_id, message_id))


@router.post("/{endpoint_id}/replay", status_code=202)
def replay_since(
    endpoint_id: str, body: ReplaySince, tenant: CurrentTenant, service: WebhookEndpoints
) -> ReplayAccepted:
    job = service.replay_since(tenant, endpoint_id, since=body.since, only_failed=body.only_failed)
    return ReplayAccepted(endpoint_id=endpoint_id, since=job.since, only_failed=job.only_failed)
