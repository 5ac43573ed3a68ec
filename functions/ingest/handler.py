"""Ingest queue (S3 ObjectCreated notifications of the inbox) → designs, partial batch failures."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.bootstrap import workers
from shared.inbound import InboxRecord, sqs_batch
from shared.observability import logger, metrics, tracer


@tracer.capture_method
def ingest_notification(record: InboxRecord) -> list[str]:
    metrics.add_metric(name="InboxNotifications", unit=MetricUnit.Count, value=1)
    outcomes = []
    for item in record.dropped():  # none for S3's s3:TestEvent
        logger.append_keys(key=item.key)
        outcome = workers.inbox_ingest().ingest(item)
        metrics.add_metric(name=f"InboxDrops_{outcome.value}", unit=MetricUnit.Count, value=1)
        logger.info("inbox drop handled", extra={"outcome": outcome.value})
        outcomes.append(outcome.value)
    return outcomes


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=ingest_notification, processor=sqs_batch(InboxRecord), context=context
    )
