"""Use cases behind ``/v1/webhook-endpoints``: manage a tenant's endpoints, secrets, logs and replays."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from shared.domain.clock import utcnow
from shared.domain.errors import (
    ConcurrentUpdate,
    UnknownEventType,
    ValidationFailed,
    WebhookEndpointDisabled,
    WebhookEndpointLimitReached,
    WebhookEndpointNotFound,
    WebhookMessageNotFound,
)
from shared.domain.ids import new_id
from shared.domain.webhook_ports import EndpointStore, MessageStore, SecretCipher, WebhookJobQueue
from shared.domain.webhooks import (
    DEFAULT_CHANNEL,
    SUBSCRIBABLE,
    DeliveryJob,
    DisabledReason,
    EndpointHealth,
    MessageStatus,
    ReplayJob,
    StoredSecret,
    WebhookEndpoint,
    WebhookEventType,
    WebhookMessage,
    WebhookPayload,
    WebhookTestData,
    new_signing_secret,
    secret_context,
)
from shared.settings import Settings

UrlCheck = Callable[[str], None]
_RETRIES = 5


def parse_event_types(values: Iterable[str]) -> tuple[WebhookEventType, ...]:
    """Validate an event-type filter; order kept, repeats dropped. Empty means every type."""
    valid = {t.value: t for t in SUBSCRIBABLE}
    chosen: list[WebhookEventType] = []
    for value in values:
        if value not in valid:
            raise UnknownEventType(
                f"{value!r} is not an event type endpoints can subscribe to",
                details={"event_type": value, "valid": sorted(valid)},
            )
        if valid[value] not in chosen:
            chosen.append(valid[value])
    return tuple(chosen)


class WebhookEndpointService:
    def __init__(
        self,
        *,
        settings: Settings,
        endpoints: EndpointStore,
        messages: MessageStore,
        queue: WebhookJobQueue,
        cipher: SecretCipher,
        check_url: UrlCheck,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._settings = settings
        self._endpoints = endpoints
        self._messages = messages
        self._queue = queue
        self._cipher = cipher
        self._check_url = check_url
        self._clock = clock

    # --- endpoints -------------------------------------------------------------------
    def create(
        self, tenant_id: str, *, url: str, description: str = "", event_types: Iterable[str] = ()
    ) -> tuple[WebhookEndpoint, str]:
        """A new endpoint and its signing secret, which is returned here and never again."""
        self._check_url(url)
        types = parse_event_types(event_types)
        limit = self._settings.webhook_max_endpoints
        endpoint, secret = self._new_endpoint(tenant_id, new_id("whe"), url=url, description=description)
        endpoint = endpoint.model_copy(update={"event_types": types})
        if not self._endpoints.create_within_limit(endpoint, limit=limit):
            raise WebhookEndpointLimitReached(
                f"a tenant may have at most {limit} webhook endpoints", details={"limit": limit}
            )
        return endpoint, secret

    def list(self, tenant_id: str) -> list[tuple[WebhookEndpoint, EndpointHealth]]:
        endpoints = sorted(
            (e for e in self._endpoints.list(tenant_id) if not e.is_default_channel),
            key=lambda e: e.endpoint_id,
        )
        return [(e, self._endpoints.health(tenant_id, e.endpoint_id)) for e in endpoints]

    def get(self, tenant_id: str, endpoint_id: str) -> tuple[WebhookEndpoint, EndpointHealth]:
        endpoint = self._get(tenant_id, endpoint_id)
        return endpoint, self._endpoints.health(tenant_id, endpoint_id)

    def update(
        self,
        tenant_id: str,
        endpoint_id: str,
        *,
        url: str | None = None,
        description: str | None = None,
        event_types: Iterable[str] | None = None,
        enabled: bool | None = None,
    ) -> WebhookEndpoint:
        """Change what is given. ``enabled`` pauses an endpoint or brings a disabled one back."""
        self._refuse_default_channel(endpoint_id)
        if url is not None:
            self._check_url(url)
        changes: dict[str, object] = {}
        if url is not None:
            changes["url"] = url
        if description is not None:
            changes["description"] = description
        if event_types is not None:
            changes["event_types"] = parse_event_types(event_types)
        for _ in range(_RETRIES):
            current = self._get(tenant_id, endpoint_id)
            now = self._clock()
            updated = current.changed(now, **changes) if changes else current
            if enabled is True and not current.enabled:
                updated = updated.reenabled(now=now)
            elif enabled is False and current.enabled:
                updated = updated.disabled(DisabledReason.MANUAL, now=now)
            if updated is current:
                return current
            try:
                self._endpoints.save_if_unchanged(current, updated)
            except ConcurrentUpdate:
                continue
            if enabled is True and not current.enabled:
                self._endpoints.clear_failures(tenant_id, endpoint_id)
            return updated
        raise ConcurrentUpdate(f"webhook endpoint {endpoint_id} keeps changing; try again")

    def delete(self, tenant_id: str, endpoint_id: str) -> None:
        """Pending deliveries to it stop; its delivery log stays until its retention ends."""
        self._refuse_default_channel(endpoint_id)
        if not self._endpoints.delete(tenant_id, endpoint_id):
            raise WebhookEndpointNotFound(f"no webhook endpoint {endpoint_id}")

    # --- secrets ---------------------------------------------------------------------
    def rotate_secret(
        self, tenant_id: str, endpoint_id: str, *, grace_seconds: int | None = None
    ) -> tuple[WebhookEndpoint, str]:
        """A new current secret, returned once; the previous one keeps signing for the grace period.

        On the default channel (``default``) this also creates the tenant's first secret.
        """
        grace = self._settings.webhook_secret_grace_seconds if grace_seconds is None else grace_seconds
        if not 0 <= grace <= self._settings.webhook_max_grace_seconds:
            raise ValidationFailed(
                f"grace_period_seconds must be between 0 and {self._settings.webhook_max_grace_seconds}",
                details={"grace_period_seconds": grace},
            )
        if endpoint_id == DEFAULT_CHANNEL:
            secret = self.issue_default_secret(tenant_id)
            if secret is not None:
                return self._get(tenant_id, DEFAULT_CHANNEL), secret
        for _ in range(_RETRIES):
            current = self._get(tenant_id, endpoint_id)
            secret = new_signing_secret()
            ciphertext = self._cipher.encrypt(secret, secret_context(tenant_id, endpoint_id))
            rotated = current.with_secret(ciphertext, now=self._clock(), grace=timedelta(seconds=grace))
            try:
                self._endpoints.save_if_unchanged(current, rotated)
            except ConcurrentUpdate:
                continue
            return rotated, secret
        raise ConcurrentUpdate(f"webhook endpoint {endpoint_id} keeps changing; try again")

    def issue_default_secret(self, tenant_id: str) -> str | None:
        """Create the tenant's default secret (signs designs' own ``webhook_url``s) if it has none.

        Returns the secret only to the call that created it; None when one already exists.
        """
        if self._endpoints.find(tenant_id, DEFAULT_CHANNEL) is not None:
            return None
        endpoint, secret = self._new_endpoint(tenant_id, DEFAULT_CHANNEL, url="", description="")
        return secret if self._endpoints.create(endpoint) else None

    # --- deliveries ------------------------------------------------------------------
    def send_test(self, tenant_id: str, endpoint_id: str) -> WebhookMessage:
        """Queue a ``webhook.test`` event to this endpoint alone; it is logged like any other."""
        self._refuse_default_channel(endpoint_id)
        endpoint = self._enabled(tenant_id, endpoint_id)
        now = self._clock()
        payload = WebhookPayload(
            type=WebhookEventType.TEST,
            timestamp=now,
            data=WebhookTestData(endpoint_id=endpoint.endpoint_id).model_dump(mode="json"),
        )
        message = WebhookMessage(
            message_id=new_id("msg"),
            tenant_id=tenant_id,
            endpoint_id=endpoint_id,
            event_type=WebhookEventType.TEST,
            source_event_id=f"test.{now.isoformat()}",
            body=payload.body(),
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        self._messages.create(message)
        self._queue.send(
            [
                DeliveryJob(
                    tenant_id=tenant_id,
                    endpoint_id=endpoint_id,
                    message_id=message.message_id,
                    round=1,
                    attempt=1,
                )
            ]
        )
        return message

    def deliveries(
        self,
        tenant_id: str,
        endpoint_id: str,
        *,
        limit: int,
        cursor: str | None = None,
        status: MessageStatus | None = None,
    ) -> tuple[builtins.list[WebhookMessage], str | None]:
        self._get(tenant_id, endpoint_id)
        return self._messages.list(tenant_id, endpoint_id, limit=limit, cursor=cursor, status=status)

    def delivery(self, tenant_id: str, endpoint_id: str, message_id: str) -> WebhookMessage:
        self._get(tenant_id, endpoint_id)
        message = self._messages.find(tenant_id, endpoint_id, message_id)
        if message is None:
            raise WebhookMessageNotFound(f"no message {message_id} for endpoint {endpoint_id}")
        return message

    def replay(self, tenant_id: str, endpoint_id: str, message_id: str) -> WebhookMessage:
        """Send one message again now, with the same ``webhook-id``, and the full retry schedule."""
        self._enabled(tenant_id, endpoint_id)
        for _ in range(_RETRIES):
            current = self.delivery(tenant_id, endpoint_id, message_id)
            replayed = current.replayed(now=self._clock())
            try:
                self._messages.save_if_unchanged(current, replayed)
            except ConcurrentUpdate:
                continue
            self._queue.send(
                [
                    DeliveryJob(
                        tenant_id=tenant_id,
                        endpoint_id=endpoint_id,
                        message_id=message_id,
                        round=replayed.round,
                        attempt=1,
                    )
                ]
            )
            return replayed
        raise ConcurrentUpdate(f"message {message_id} keeps changing; try again")

    def replay_since(
        self, tenant_id: str, endpoint_id: str, *, since: datetime, only_failed: bool
    ) -> ReplayJob:
        """Replay every message (or every failed one) of events since ``since``, in the background."""
        self._enabled(tenant_id, endpoint_id)
        oldest = self._clock() - timedelta(days=self._settings.webhook_log_retention_days)
        job = ReplayJob(
            tenant_id=tenant_id, endpoint_id=endpoint_id, since=max(since, oldest), only_failed=only_failed
        )
        self._queue.send([job])
        return job

    # --- helpers ---------------------------------------------------------------------
    def _new_endpoint(
        self, tenant_id: str, endpoint_id: str, *, url: str, description: str
    ) -> tuple[WebhookEndpoint, str]:
        now = self._clock()
        secret = new_signing_secret()
        ciphertext = self._cipher.encrypt(secret, secret_context(tenant_id, endpoint_id))
        endpoint = WebhookEndpoint(
            endpoint_id=endpoint_id,
            tenant_id=tenant_id,
            url=url,
            description=description,
            secrets=(StoredSecret(ciphertext=ciphertext, created_at=now),),
            created_at=now,
            updated_at=now,
        )
        return endpoint, secret

    def _get(self, tenant_id: str, endpoint_id: str) -> WebhookEndpoint:
        endpoint = self._endpoints.find(tenant_id, endpoint_id)
        if endpoint is None:
            raise WebhookEndpointNotFound(f"no webhook endpoint {endpoint_id}")
        return endpoint

    def _enabled(self, tenant_id: str, endpoint_id: str) -> WebhookEndpoint:
        endpoint = self._get(tenant_id, endpoint_id)
        if not endpoint.enabled:
            raise WebhookEndpointDisabled(
                f"webhook endpoint {endpoint_id} is disabled ({endpoint.disabled_reason}); "
                'enable it first with PATCH {"enabled": true}',
                details={"disabled_reason": str(endpoint.disabled_reason)},
            )
        return endpoint

    @staticmethod
    def _refuse_default_channel(endpoint_id: str) -> None:
        if endpoint_id == DEFAULT_CHANNEL:
            raise WebhookEndpointNotFound(
                "the default channel cannot be changed, deleted or tested: it signs designs' own webhook_url"
            )
