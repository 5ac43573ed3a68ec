"""Builds the use cases from settings and adapters, once per container (Lambda or local process)."""

from __future__ import annotations

from functools import cache, partial
from typing import TYPE_CHECKING

from shared.adapters.dynamodb import DesignRepository, UploadRepository
from shared.adapters.eventbridge import StatusEventBus
from shared.adapters.s3 import Bucket
from shared.adapters.safe_http import check_url
from shared.adapters.sqs import GenerationQueue
from shared.services.designs import DesignService
from shared.settings import get_settings

if TYPE_CHECKING:
    from shared.services.generation import GenerationPipeline
    from shared.services.ingest import InboxIngest
    from shared.services.writeback import InboxWriteback


@cache
def outputs_bucket() -> Bucket:
    settings = get_settings()
    return Bucket(settings.outputs_bucket, public_base_url=settings.cdn_base_url)


@cache
def design_service() -> DesignService:
    settings = get_settings()
    return DesignService(
        settings=settings,
        designs=DesignRepository(settings),
        uploads=UploadRepository(settings),
        upload_bucket=Bucket(settings.uploads_bucket),
        queue=GenerationQueue(settings.generate_queue_url),
        events=StatusEventBus(settings.event_bus_name),
        check_image_url=partial(check_url, allow_loopback=settings.allow_loopback_urls),
    )


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
            timeout=settings.fetch_timeout_seconds, allow_loopback=settings.allow_loopback_urls
        ),
        providers=partial(provider_for, settings=settings),
        inbox=Bucket(settings.inbox_bucket),
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


def reset() -> None:
    """Forget every built object (tests and the local cloud change settings between runs)."""
    from shared.adapters.aws import reset_clients

    for built in (outputs_bucket, design_service, generation_pipeline, inbox_ingest, inbox_writeback):
        built.cache_clear()
    get_settings.cache_clear()
    reset_clients()
