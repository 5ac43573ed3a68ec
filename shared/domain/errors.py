"""Roomcraft's error hierarchy: every failure a user can see has a stable ``code``.

One place maps these to HTTP responses: ``shared.api.app`` (``error_response`` and its exception
handlers; ``shared.api.tenancy`` adds the 401 and 429 headers). The worker records ``code`` and
``message`` on the failed design.
"""

from __future__ import annotations


class RoomcraftError(Exception):
    code = "internal_error"
    http_status = 500
    retryable = False
    """True when the same work may succeed if tried again (an outage, a throttle)."""

    def __init__(self, message: str, *, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


# --- request validation -----------------------------------------------------------------
class ValidationFailed(RoomcraftError):
    code = "validation_failed"
    http_status = 422


class UnknownStyle(ValidationFailed):
    code = "unknown_style"


class UnknownRoomType(ValidationFailed):
    code = "unknown_room_type"


class InvalidPalette(ValidationFailed):
    code = "invalid_palette"


class ImageUrlRefused(ValidationFailed):
    code = "image_url_refused"


class UnsupportedProvider(ValidationFailed):
    code = "unsupported_provider"


class CursorInvalid(ValidationFailed):
    """A ``cursor`` that is not one this API returned for this list (tampered, or another list's)."""

    code = "cursor_invalid"
    http_status = 400


# --- lookups and state ------------------------------------------------------------------
class NotFound(RoomcraftError):
    code = "not_found"
    http_status = 404


class DesignNotFound(NotFound):
    code = "design_not_found"


class UploadNotFound(NotFound):
    code = "upload_not_found"


class Conflict(RoomcraftError):
    code = "conflict"
    http_status = 409


class UploadIncomplete(Conflict):
    code = "upload_incomplete"


class IllegalTransition(Conflict):
    code = "illegal_transition"


class DesignNotCancelable(Conflict):
    code = "design_not_cancelable"


class ConcurrentUpdate(Conflict):
    """A conditional write lost a race; the caller re-reads and decides again."""

    code = "concurrent_update"
    retryable = True


# --- images -----------------------------------------------------------------------------


class DesignBusy(RoomcraftError):
    """Another worker holds the design's lease; this delivery is retried later."""

    code = "design_busy"
    retryable = True
    http_status = 503


class ImageError(RoomcraftError):
    code = "image_invalid"
    http_status = 422


class ImageEmpty(ImageError):
    code = "image_empty"


class ImageTooLarge(ImageError):
    code = "image_too_large"
    http_status = 413


class ImageUnsupportedType(ImageError):
    code = "image_unsupported_type"
    http_status = 415


class ImageCorrupt(ImageError):
    code = "image_corrupt"


class ImageTooManyPixels(ImageError):
    """Decompression-bomb guard: the header promises more pixels than we will decode."""

    code = "image_too_many_pixels"


class ImageTooSmall(ImageError):
    code = "image_too_small"


class SourceFetchFailed(RoomcraftError):
    code = "source_fetch_failed"
    http_status = 422


class SourceFetchTimeout(SourceFetchFailed):
    """The image URL did not send the whole image within the fetch's overall deadline."""

    code = "source_fetch_timeout"


# --- pipeline and providers -------------------------------------------------------------
class DesignStalled(RoomcraftError):
    """Not terminal long after its deadline, even after the sweeper queued it again (its message
    was lost, dead-lettered, or never sent): failed by the sweeper, refunded if no paid work ran."""

    code = "design_stalled"


class MalformedMessage(RoomcraftError):
    code = "malformed_message"
    http_status = 400


class ProviderError(RoomcraftError):
    code = "provider_error"
    http_status = 502
    gpu_may_have_run = True
    """False only where the provider was never able to run the model (no paid work): such a failure
    gives the design's quota unit back; any other provider failure does not (docs/tenants.md)."""


class ProviderUnavailable(ProviderError):
    code = "provider_unavailable"
    http_status = 503
    retryable = True
    gpu_may_have_run = False


class ProviderNotConfigured(ProviderError):
    code = "provider_not_configured"
    http_status = 503
    gpu_may_have_run = False


# --- S3 inbox ---------------------------------------------------------------------------
class InboxPathInvalid(ValidationFailed):
    """The object key is not ``inbox/{tenant}/{path}``: there is no tenant to report to."""

    code = "inbox_path_invalid"


class InboxKeyRefused(ValidationFailed):
    """A tenant's drop whose key the outbox cannot repeat: empty or ``.``/``..`` folder names,
    control characters, or so long that its outbox keys would pass S3's 1,024 bytes."""

    code = "inbox_key_refused"


class UnknownOption(ValidationFailed):
    """Object metadata, a sidecar or a roomcraft.json names an option Roomcraft does not know."""

    code = "unknown_option"


class InvalidOptions(ValidationFailed):
    """Options that cannot be read (bad JSON, wrong type, out of range) or that are missing."""

    code = "invalid_options"


# --- webhooks ---------------------------------------------------------------------------
class WebhookUrlRefused(ValidationFailed):
    code = "webhook_url_refused"


class UnknownEventType(ValidationFailed):
    code = "unknown_event_type"


class WebhookEndpointNotFound(NotFound):
    code = "webhook_endpoint_not_found"


class WebhookMessageNotFound(NotFound):
    code = "webhook_message_not_found"


class WebhookEndpointDisabled(Conflict):
    code = "webhook_endpoint_disabled"


class WebhookEndpointLimitReached(Conflict):
    code = "webhook_endpoint_limit_reached"


class ProviderFailed(ProviderError):
    """The model ran and failed, or refused the input: retrying the same input will not help."""

    code = "provider_failed"


class ProviderCanceled(ProviderError):
    """The prediction was canceled at the provider (not by the user through our API)."""

    code = "provider_canceled"


class ProviderOutputInvalid(ProviderError):
    """The provider reported success but its output is missing, too large or not an image."""

    code = "provider_output_invalid"


class ProviderTimeout(ProviderError):
    """The prediction did not finish within ``ROOMCRAFT_PREDICTION_TIMEOUT_SECONDS``; it was canceled."""

    code = "provider_timeout"
    http_status = 504


# --- provider callbacks -----------------------------------------------------------------
class WebhookSignatureInvalid(RoomcraftError):
    """A provider callback without a valid signature, or signed too long ago (a replay)."""

    code = "webhook_signature_invalid"
    http_status = 401


class CallbacksNotInUse(NotFound):
    """No provider of this deployment sends callbacks: the route answers as if it did not exist."""

    code = "route_not_found"


class CallbackNotConfigured(RoomcraftError):
    """The deployment cannot verify this provider's callbacks (no signing secret)."""

    code = "callback_not_configured"
    http_status = 503


# --- tenants, API keys, quotas, batches, idempotency ------------------------------------
class Unauthenticated(RoomcraftError):
    code = "unauthenticated"
    http_status = 401


class InvalidApiKey(Unauthenticated):
    code = "invalid_api_key"


class ApiKeyRevoked(Unauthenticated):
    code = "api_key_revoked"


class Forbidden(RoomcraftError):
    code = "forbidden"
    http_status = 403


class TenantDisabled(Forbidden):
    code = "tenant_disabled"


class TenantNotFound(NotFound):
    code = "tenant_not_found"


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"


class BatchNotFound(NotFound):
    code = "batch_not_found"


class TenantExists(Conflict):
    code = "tenant_exists"


class InvalidTenantId(ValidationFailed):
    code = "invalid_tenant_id"


class BatchTooLarge(ValidationFailed):
    code = "batch_too_large"


class TooManyRequests(RoomcraftError):
    """A limit is used up for now; ``retry_after`` says in how many seconds it resets."""

    code = "too_many_requests"
    http_status = 429
    retryable = True

    def __init__(self, message: str, *, retry_after: int, details: dict[str, object] | None = None) -> None:
        super().__init__(message, details={**(details or {}), "retry_after": retry_after})
        self.retry_after = retry_after


class RateLimited(TooManyRequests):
    code = "rate_limited"


class DailyQuotaExceeded(TooManyRequests):
    code = "daily_quota_exceeded"


class GlobalCapReached(TooManyRequests):
    code = "global_daily_cap_reached"


class IdempotencyKeyInvalid(ValidationFailed):
    code = "idempotency_key_invalid"


class IdempotencyKeyReused(RoomcraftError):
    """The same ``Idempotency-Key`` came with a different request body."""

    code = "idempotency_key_reused"
    http_status = 422


class IdempotencyInProgress(Conflict):
    """The first request with this ``Idempotency-Key`` is still running."""

    code = "idempotency_request_in_progress"
    retryable = True


# --- quality gate (docs/quality.md) --------------------------------------------------------
class NotARoom(ImageError):
    """The photo analysis is confident the image is not an interior room: no GPU is spent on it."""

    code = "not_a_room"
