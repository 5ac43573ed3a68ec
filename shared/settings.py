"""Runtime settings, read once per container from ``ROOMCRAFT_*`` environment variables."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.resources import DESIGN_DEADLINE_SECONDS

ProviderName = Literal["preview", "replicate", "sagemaker", "selfhosted"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ROOMCRAFT_", extra="ignore", frozen=True)

    stage: str = "local"
    region: str = Field(default="us-east-1", validation_alias="AWS_REGION")
    aws_endpoint_url: str | None = None
    """The AWS API emulator's address on a laptop; unset in the cloud."""

    # Physical resource names; the env var names come from shared.resources.
    designs_table: str = "roomcraft-local-designs"
    uploads_table: str = "roomcraft-local-uploads"
    generate_queue_url: str = ""
    webhook_queue_url: str = ""
    uploads_bucket: str = "roomcraft-local-uploads"
    outputs_bucket: str = "roomcraft-local-outputs"
    event_bus_name: str = "roomcraft-local-events"
    cdn_base_url: str = ""
    """Base of public output URLs (CloudFront in the cloud, the emulator's S3 locally)."""

    provider: ProviderName = "preview"
    allowed_providers: tuple[ProviderName, ...] = ()
    """Providers a request may pick with ``provider``; the configured one is always allowed."""
    default_tenant: str = "tnt_default"

    max_upload_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 89_000_000
    """Decompression-bomb guard: accepts 48 MP phone photos, refuses 30000x30000. Kept under
    Pillow's own limit (89.4 MP), which we do not raise because it is process-global."""
    model_input_long_edge: int = 1024
    output_widths: tuple[int, ...] = (2048, 1024, 512)
    thumbnail_width: int = 256
    upload_url_ttl_seconds: int = 900
    upload_retention_days: int = 7
    fetch_timeout_seconds: float = 10.0
    """Longest wait for one network operation of an image_url fetch (connect, one read)."""
    source_fetch_deadline_seconds: float = Field(default=30.0, gt=0, le=60)
    """Whole time an image_url fetch may take, however the server trickles its bytes; bounded further
    by the invocation's remaining time. Past it the design fails with ``source_fetch_timeout``."""
    allow_loopback_urls: bool = False
    """Local development only: lets image URLs point at 127.0.0.1."""
    loopback_blocked_ports: tuple[int, ...] = ()
    """With loopback allowed: ports on 127.0.0.1 that image and webhook URLs may still not reach,
    the local cloud's own (emulator, API, CDN). The local cloud sets it."""
    lease_seconds: int = 150
    """How long a worker owns a design before another delivery may take it over."""
    max_attempts: int = 4
    """Deliveries of one generation message before the design fails for good."""
    design_deadline_seconds: int = Field(default=DESIGN_DEADLINE_SECONDS, gt=0)
    """A design not terminal this long after creation is queued again by the sweeper, and failed
    (``design_stalled``) if still not terminal as long again after that (docs/architecture.md)."""
    sweep_limit: int = Field(default=500, gt=0)
    """Most stale designs one sweeper run handles (the rest wait for the next run)."""
    queue_estimate_seconds: float = 2.0

    # S3 inbox (upload-triggered staging): see docs/inbox.md.
    inbox_bucket: str = "roomcraft-local-inbox"
    ingests_table: str = "roomcraft-local-ingests"
    ingest_queue_url: str = ""
    writeback_queue_url: str = ""
    ingest_record_days: int = 30
    """How long an inbox object's ingest record (its idempotency key) is kept."""
    # --- webhooks (docs/webhooks.md) ---
    webhook_endpoints_table: str = "roomcraft-local-webhook-endpoints"
    webhook_messages_table: str = "roomcraft-local-webhook-messages"
    webhook_secrets_key_id: str = ""
    """KMS key (id or ARN) that encrypts signing secrets at rest."""
    webhook_timeout_seconds: float = Field(default=15.0, gt=0, le=15)
    """Whole-request limit of one delivery attempt (connect, send, answer)."""
    webhook_retry_schedule_seconds: tuple[int, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
    """Wait before each attempt: now, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (about 27.6 h in all)."""
    webhook_disable_after_seconds: int = Field(default=3 * 86400, ge=0)
    """An endpoint failing every attempt for this long is disabled."""
    webhook_secret_grace_seconds: int = Field(default=86400, ge=0)
    """Default time the previous secret keeps signing after a rotation."""
    webhook_max_grace_seconds: int = Field(default=7 * 86400, ge=0)
    webhook_log_retention_days: int = Field(default=30, ge=1)
    webhook_response_excerpt_bytes: int = Field(default=1024, ge=0, le=16384)
    webhook_max_endpoints: int = Field(default=20, ge=1)
    """Endpoints per tenant (every event fans out to each of them)."""

    @property
    def loopback_urls_allowed(self) -> bool:
        """``allow_loopback_urls``, never honoured inside a deployed Lambda function."""
        return self.allow_loopback_urls and "AWS_LAMBDA_FUNCTION_NAME" not in os.environ

    # --- inference providers (docs/providers.md) --------------------------------------
    api_base_url: str = ""
    """Public base URL of this deployment's API; provider callbacks (webhooks) are sent to it.
    Empty: no webhooks are requested and predictions complete by polling only."""
    generation_guidance: float | None = None
    """Guidance scale sent to the model; None keeps the model's own default."""
    generation_steps: int | None = None
    """Denoising steps sent to the model; None keeps the model's own default."""
    prediction_timeout_seconds: int = 900
    """A prediction still running after this long is canceled and the design fails (provider_timeout)."""
    prediction_check_min_seconds: int = 10
    """First delay of the polling fallback (a delayed message on the generate queue)."""
    prediction_check_max_seconds: int = 120
    """Longest delay between two checks of a running prediction (SQS allows up to 900)."""
    provider_attempts: int = 3
    """Tries of one provider call inside one invocation (429, 5xx, timeouts, connection errors)."""
    provider_backoff_base_seconds: float = 0.5
    provider_backoff_max_seconds: float = 8.0
    provider_retry_after_max_seconds: float = 20.0
    """A Retry-After longer than this is not slept on: the message is retried by SQS instead."""
    provider_call_budget_seconds: float = 60.0
    """Time one provider operation (with its retries) may take inside a worker invocation."""
    provider_request_timeout_seconds: float = 15.0
    """Connect/read timeout of one provider API request (a create with ``wait`` gets wait + 5 s)."""
    output_download_timeout_seconds: float = 20.0
    output_max_bytes: int = 25 * 1024 * 1024

    replicate_model: str = "adirik/interior-design"
    """``owner/name`` or ``owner/name:<version>``; the default model's version is pinned in code."""
    replicate_version: str = ""
    """Version id when not in ``replicate_model``; empty: the pinned one for a known community model,
    else none (official models run their latest version)."""
    replicate_base_url: str | None = None
    """Replicate's API address; tests point it at a local server. None: https://api.replicate.com."""
    inbox_writer_check: Literal["off", "enforce"] = "off"
    """``enforce`` (the stack sets it): an inbox drop must be written by an IAM identity its tenant
    registered (``roomcraft admin inbox-writer``), else it is quarantined. Off locally: the emulator's
    S3 events carry no writer identity."""
    edge_secret_arn: str | None = None
    """Secret CloudFront sends to the API as X-Roomcraft-Edge (cloud); requests without it are
    refused (shared.api.edge). Unset locally: no edge in front of the API."""
    replicate_token_secret_arn: str | None = None
    """Secrets Manager secret holding the API token (cloud). Locally REPLICATE_API_TOKEN is used."""
    replicate_webhook_secret_arn: str | None = None
    """Secret holding the webhook signing secret (whsec_...); unset: asked from Replicate's API."""
    replicate_wait_seconds: int = 20
    """Prefer: wait=N on create: a short prediction completes inline (1-60; 0 disables)."""
    replicate_image_input: Literal["auto", "data_uri", "file"] = "auto"
    """How the room photo is sent: ``auto`` inline as a data URI up to 256 KB, else uploaded to
    Replicate's files API; ``data_uri`` or ``file`` always."""
    replicate_input_overrides: dict[str, Any] = Field(default_factory=dict)
    """Extra model inputs (JSON), checked against the model's ranges at startup."""
    replicate_seed_per_variant: bool = True
    """For models whose seed draws a whole batch (FLUX): one prediction per variant, so variant i
    is seed + i and reproducible alone (same price per image). Off: one batched prediction."""
    replicate_pricing_unit: Literal["image", "second"] | None = None
    """Override of the model profile's billing unit (per output image or per GPU second)."""
    replicate_price_usd: float | None = Field(default=None, ge=0)
    """Override of the model profile's price in USD per ``replicate_pricing_unit``."""
    replicate_output_hosts: tuple[str, ...] = ("replicate.delivery",)
    """Hosts (and their subdomains) outputs may be downloaded from."""
    replicate_webhook_tolerance_seconds: int = 300

    sagemaker_endpoint: str = ""
    sagemaker_mode: Literal["realtime", "async"] = "realtime"
    sagemaker_runtime_endpoint_url: str | None = None
    """Override of the SageMaker runtime address (tests); None uses aws_endpoint_url / AWS."""
    sagemaker_invoke_timeout_seconds: float = 65.0
    """Read timeout of a real-time InvokeEndpoint (SageMaker itself stops at 60 s)."""
    sagemaker_cost_per_second: float = 0.0
    """USD per second of endpoint time (instance price / 3600) for estimated_cost_usd."""
    inference_url: str = ""
    """Base URL of a self-hosted model server (inference/), e.g. http://127.0.0.1:8080."""
    inference_timeout_seconds: float = 300.0
    # Tenants, API keys, quotas, batches and idempotency (docs/tenants.md).
    tenants_table: str = "roomcraft-local-tenants"
    api_keys_table: str = "roomcraft-local-api-keys"
    usage_table: str = "roomcraft-local-usage"
    batches_table: str = "roomcraft-local-batches"
    idempotency_table: str = "roomcraft-local-idempotency"
    default_daily_design_quota: int = Field(default=10, ge=0)
    """Designs a tenant may start per UTC day unless its own limit says otherwise."""
    default_requests_per_minute: int = Field(default=120, ge=1)
    """Authenticated API requests a tenant may make per minute unless its own limit says otherwise."""
    global_daily_design_cap: int = Field(default=30, ge=0)
    """Designs the whole deployment may start per UTC day: the GPU bill's ceiling."""
    api_key_touch_seconds: int = 60
    """``last_used_at`` of a key is written at most this often."""
    idempotency_ttl_seconds: int = 24 * 3600
    """How long a response is kept for replay under its ``Idempotency-Key``."""

    # Quality gate: structure score and photo analysis (docs/quality.md).
    structure_threshold: float = Field(default=0.55, ge=0.0, le=1.0)
    """Default structure score under which an output is regenerated, then flagged; tenants may differ."""
    structure_retries: int = Field(default=1, ge=0, le=3)
    """Default regenerations of one variant whose structure score is under the threshold."""
    structure_retry_budget_seconds: float = Field(default=45.0, gt=0)
    """Time all regenerations of one worker invocation may take (the worker's timeout is 120 s); a
    prediction still running then is canceled, and a regeneration not started then is skipped."""
    not_a_room_confidence: float = Field(default=0.8, ge=0.0, le=1.0)
    """A photo judged not a room with at least this confidence fails with ``not_a_room``."""
    analysis_model_id: str = ""
    """Bedrock model (or inference profile) id of the photo analyser; empty: the offline heuristic."""
    analysis_timeout_seconds: float = Field(default=12.0, gt=0, le=60)
    """Read timeout of one Converse call; a timeout skips the analysis, it never fails the design."""
    analysis_input_usd_per_1k_tokens: float = 0.00006
    analysis_output_usd_per_1k_tokens: float = 0.00024
    """Token prices for the analysis cost line (defaults: Amazon Nova Lite on-demand, us-east-1)."""

    @property
    def providers_allowed(self) -> frozenset[str]:
        return frozenset({self.provider, *self.allowed_providers})


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
