"""The composition root: builds the use cases from settings and adapters, once per container.

Only entry points call it: the Lambda handlers (``functions/*/handler.py``), the local cloud
(``shared/local``), the CLIs and the bench. Nothing below them imports it (an import-linter contract
in pyproject.toml): services get their collaborators through their constructors, and the API gets
its services through ``api_services()``, handed to ``create_app``. The background functions' own
builders are in ``shared.bootstrap.workers``, which the api Lambda never imports. Each builder runs
once per container (``functools.cache``); ``reset()`` forgets them all for tests.
"""

from __future__ import annotations

import sys
from functools import cache, partial
from typing import TYPE_CHECKING

from shared.adapters.aws import client, reset_clients
from shared.adapters.dynamodb import DesignRepository, UploadRepository
from shared.adapters.dynamodb_batches import BatchRepository
from shared.adapters.dynamodb_tenancy import ApiKeyRepository, TenantRepository, UsageCounterTable
from shared.adapters.eventbridge import StatusEventBus
from shared.adapters.s3 import Bucket
from shared.adapters.safe_http import check_url
from shared.adapters.sqs import CancelThroughWorker, GenerationQueue
from shared.adapters.webhook_http import check_webhook_url
from shared.providers.registry import forget_providers
from shared.services.batches import BatchCompletion, BatchService
from shared.services.designs import DesignService
from shared.services.metering import Metering
from shared.services.settlement import Settlement
from shared.services.tenancy import Authenticator, TenantAdmin
from shared.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from shared.adapters.kms import KmsSecretCipher
    from shared.api.deps import ApiServices
    from shared.services.analysis import UploadAnalysis
    from shared.services.callbacks import PredictionCallbacks
    from shared.services.design_submission import DesignSubmission
    from shared.services.quality import PhotoAnalyser, QualityGate
    from shared.services.webhook_endpoints import WebhookEndpointService


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
        check_image_url=partial(
            check_url,
            allow_loopback=settings.loopback_urls_allowed,
            blocked_ports=settings.loopback_blocked_ports,
        ),
        check_webhook_url=partial(
            check_webhook_url,
            allow_loopback=settings.loopback_urls_allowed,
            blocked_ports=settings.loopback_blocked_ports,
        ),
        predictions=CancelThroughWorker(GenerationQueue(settings.generate_queue_url)),
        quota=metering(),
        on_terminal=settlement().settle,
    )


@cache
def prediction_callbacks() -> PredictionCallbacks:
    from shared.services.callbacks import PredictionCallbacks

    settings = get_settings()
    return PredictionCallbacks(
        settings=settings,
        designs=DesignRepository(settings),
        jobs=GenerationQueue(settings.generate_queue_url),
    )


@cache
def design_submission() -> DesignSubmission:
    from shared.services.design_submission import DesignSubmission  # the api Lambda's only

    # The webhook service (and its KMS cipher) is built only when a design names a webhook_url.
    return DesignSubmission(
        designs=design_service(),
        issue_default_secret=lambda tenant_id: webhook_endpoints().issue_default_secret(tenant_id),
    )


@cache
def photo_analyser() -> PhotoAnalyser:
    """Bedrock's Converse API when a model is configured, else the offline heuristic (docs/quality.md)."""
    settings = get_settings()
    if not settings.analysis_model_id:
        from shared.imaging.photo_stats import HeuristicPhotoAnalyser

        return HeuristicPhotoAnalyser()
    from shared.adapters.aws import uncached_client
    from shared.adapters.bedrock_analysis import BedrockPhotoAnalyser
    from shared.domain.styles import ROOM_TYPES

    return BedrockPhotoAnalyser(
        client=uncached_client("bedrock-runtime", read_timeout=settings.analysis_timeout_seconds),
        model_id=settings.analysis_model_id,
        room_types=ROOM_TYPES,
        input_usd_per_1k_tokens=settings.analysis_input_usd_per_1k_tokens,
        output_usd_per_1k_tokens=settings.analysis_output_usd_per_1k_tokens,
    )


@cache
def quality_gate() -> QualityGate:
    from shared.services.quality import QualityGate

    settings = get_settings()
    return QualityGate(
        settings=settings,
        analyser=photo_analyser(),
        tenants=TenantRepository(settings),
        work_bucket=Bucket(settings.uploads_bucket),
    )


@cache
def upload_analysis() -> UploadAnalysis:
    from shared.services.analysis import UploadAnalysis

    settings = get_settings()
    return UploadAnalysis(
        settings=settings,
        uploads=UploadRepository(settings),
        upload_bucket=Bucket(settings.uploads_bucket),
        gate=quality_gate(),
    )


@cache
def webhook_cipher() -> KmsSecretCipher:
    from shared.adapters.kms import KmsSecretCipher

    return KmsSecretCipher(get_settings().webhook_secrets_key_id)


@cache
def webhook_endpoints() -> WebhookEndpointService:
    from shared.adapters.dynamodb_webhooks import WebhookEndpointRepository, WebhookMessageRepository
    from shared.adapters.sqs import WebhookQueue
    from shared.services.webhook_endpoints import WebhookEndpointService

    settings = get_settings()
    return WebhookEndpointService(
        settings=settings,
        endpoints=WebhookEndpointRepository(settings),
        messages=WebhookMessageRepository(settings),
        queue=WebhookQueue(settings.webhook_queue_url),
        cipher=webhook_cipher(),
        check_url=partial(
            check_webhook_url,
            allow_loopback=settings.loopback_urls_allowed,
            blocked_ports=settings.loopback_blocked_ports,
        ),
    )


# --- tenants, API keys, quotas, batches, idempotency -------------------------------------
@cache
def tenant_admin() -> TenantAdmin:
    settings = get_settings()
    return TenantAdmin(tenants=TenantRepository(settings), keys=ApiKeyRepository(settings))


@cache
def authenticator() -> Authenticator:
    settings = get_settings()
    return Authenticator(
        keys=ApiKeyRepository(settings),
        tenants=TenantRepository(settings),
        touch_seconds=settings.api_key_touch_seconds,
    )


@cache
def metering() -> Metering:
    settings = get_settings()
    return Metering(
        settings=settings, counters=UsageCounterTable(settings), tenants=TenantRepository(settings)
    )


@cache
def batch_completion() -> BatchCompletion:
    settings = get_settings()
    return BatchCompletion(batches=BatchRepository(settings), events=StatusEventBus(settings.event_bus_name))


@cache
def settlement() -> Settlement:
    return Settlement(refund=metering().refund, batches=batch_completion())


@cache
def batch_service() -> BatchService:
    settings = get_settings()
    return BatchService(
        settings=settings,
        designs=design_service(),
        reader=DesignRepository(settings),
        batches=BatchRepository(settings),
        completion=batch_completion(),
        quota=metering(),
    )


@cache
def idempotency_store() -> DynamoDBPersistenceLayer:
    # Imported here: only requests that carry an Idempotency-Key need it.
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(
        table_name=get_settings().idempotency_table, boto3_client=client("dynamodb")
    )


def api_services() -> ApiServices:
    """What ``shared.api.app.create_app`` needs, as builders: nothing is built before its first request."""
    from shared.api.deps import ApiServices  # here: the other functions never load FastAPI

    # Looked up at each call, not captured: tests replace a builder on this module.
    return ApiServices(
        designs=lambda: design_service(),
        design_submission=lambda: design_submission(),
        batches=lambda: batch_service(),
        webhook_endpoints=lambda: webhook_endpoints(),
        analyses=lambda: upload_analysis(),
        prediction_callbacks=lambda: prediction_callbacks(),
        authenticator=lambda: authenticator(),
        metering=lambda: metering(),
        idempotency_store=lambda: idempotency_store(),
        output_urls=lambda: outputs_bucket().url_for,
    )


_BUILT = (
    outputs_bucket,
    design_service,
    prediction_callbacks,
    design_submission,
    photo_analyser,
    quality_gate,
    upload_analysis,
    webhook_cipher,
    webhook_endpoints,
    tenant_admin,
    authenticator,
    metering,
    batch_completion,
    settlement,
    batch_service,
    idempotency_store,
)


def reset() -> None:
    """Forget every built object (tests and the local cloud change settings between runs)."""
    # The background functions' builders, if this process loaded them (no import: the API never does).
    workers = sys.modules.get(f"{__name__}.workers")
    for built in (*_BUILT, *(workers.BUILT if workers else ())):
        built.cache_clear()
    get_settings.cache_clear()
    reset_clients()
    forget_providers()
