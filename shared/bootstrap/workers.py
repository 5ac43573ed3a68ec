"""The builders only the background functions use: worker, inference events, sweeper, inbox ingest
and write-back, webhook dispatcher. A module of its own so the api entry point never imports it; each
builder imports its service where it runs (a function loads only what it uses). Cached like the
root's builders, and forgotten by ``shared.bootstrap.reset()``.
"""

from __future__ import annotations

from functools import cache, partial
from typing import TYPE_CHECKING

from shared.adapters.dynamodb import DesignRepository
from shared.adapters.dynamodb_tenancy import TenantRepository
from shared.adapters.eventbridge import StatusEventBus
from shared.adapters.s3 import Bucket
from shared.adapters.sqs import GenerationQueue
from shared.bootstrap import (
    batch_completion,
    design_service,
    outputs_bucket,
    quality_gate,
    settlement,
    webhook_cipher,
)
from shared.settings import get_settings

if TYPE_CHECKING:
    from shared.providers.sagemaker import SageMakerProvider
    from shared.services.generation import GenerationPipeline
    from shared.services.ingest import InboxIngest
    from shared.services.sweeper import StaleDesignSweeper
    from shared.services.webhook_dispatch import WebhookDispatcher
    from shared.services.writeback import InboxWriteback


@cache
def generation_pipeline() -> GenerationPipeline:
    # Imported here so the API's cold start never loads Pillow or provider clients.
    from shared.adapters.safe_http import ImageUrlFetcher
    from shared.providers.registry import provider_for
    from shared.services.generation import GenerationPipeline

    settings = get_settings()
    return GenerationPipeline(
        settings=settings,
        designs=DesignRepository(settings),
        work_bucket=Bucket(settings.uploads_bucket),
        outputs=outputs_bucket(),
        events=StatusEventBus(settings.event_bus_name),
        fetcher=ImageUrlFetcher(
            timeout=settings.fetch_timeout_seconds,
            deadline=settings.source_fetch_deadline_seconds,
            allow_loopback=settings.loopback_urls_allowed,
            blocked_ports=settings.loopback_blocked_ports,
        ),
        providers=partial(provider_for, settings=settings),
        checks=GenerationQueue(settings.generate_queue_url),
        inbox=Bucket(settings.inbox_bucket),
        on_terminal=settlement().settle,
        quality=quality_gate(),
    )


def sagemaker_provider() -> SageMakerProvider:
    """The configured SageMaker provider (the inference-events function records failures with it)."""
    from shared.providers.registry import provider_for
    from shared.providers.sagemaker import SageMakerProvider

    provider = provider_for("sagemaker", get_settings())
    assert isinstance(provider, SageMakerProvider)
    return provider


@cache
def stale_design_sweeper() -> StaleDesignSweeper:
    from shared.services.sweeper import StaleDesignSweeper

    settings = get_settings()
    return StaleDesignSweeper(
        settings=settings,
        designs=DesignRepository(settings),
        queue=GenerationQueue(settings.generate_queue_url),
        events=StatusEventBus(settings.event_bus_name),
        on_terminal=settlement().settle,
    )


@cache
def inbox_ingest() -> InboxIngest:
    from shared.adapters.dynamodb import IngestRepository
    from shared.services.ingest import InboxIngest

    settings = get_settings()
    return InboxIngest(
        settings=settings,
        inbox=Bucket(settings.inbox_bucket),
        records=IngestRepository(settings),
        designs=design_service(),
        batches=batch_completion(),
        tenants=TenantRepository(settings),
    )


@cache
def inbox_writeback() -> InboxWriteback:
    from shared.services.writeback import InboxWriteback

    settings = get_settings()
    return InboxWriteback(
        designs=DesignRepository(settings),
        inbox=Bucket(settings.inbox_bucket),
        outputs_bucket=settings.outputs_bucket,
        url_for=outputs_bucket().url_for,
    )


@cache
def webhook_dispatcher() -> WebhookDispatcher:
    from shared.adapters.dynamodb_webhooks import WebhookEndpointRepository, WebhookMessageRepository
    from shared.adapters.sqs import WebhookQueue
    from shared.adapters.webhook_http import WebhookHttpSender
    from shared.services.webhook_dispatch import WebhookDispatcher

    settings = get_settings()
    return WebhookDispatcher(
        settings=settings,
        endpoints=WebhookEndpointRepository(settings),
        messages=WebhookMessageRepository(settings),
        queue=WebhookQueue(settings.webhook_queue_url),
        cipher=webhook_cipher(),
        sender=WebhookHttpSender(
            timeout=settings.webhook_timeout_seconds,
            allow_loopback=settings.loopback_urls_allowed,
            excerpt_bytes=settings.webhook_response_excerpt_bytes,
            blocked_ports=settings.loopback_blocked_ports,
        ),
        events=StatusEventBus(settings.event_bus_name),
    )


BUILT = (
    generation_pipeline,
    stale_design_sweeper,
    inbox_ingest,
    inbox_writeback,
    webhook_dispatcher,
)
