"""Writeback queue (status events of finished inbox designs) → results in the tenant's outbox."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.bootstrap import workers
from shared.observability import logger, metrics, tracer
from shared.services.writeback import StatusEvent

processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def write_back(record: SQSRecord) -> str:
    detail = StatusEvent.parse(record.body).detail  # MalformedMessage: retried, then dead-lettered
    logger.append_keys(design_id=detail.design_id, tenant_id=detail.tenant_id)
    outcome = workers.inbox_writeback().write_back(detail.tenant_id, detail.design_id)
    metrics.add_metric(name=f"InboxWriteback_{outcome.value}", unit=MetricUnit.Count, value=1)
    return outcome.value


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=write_back, processor=processor, context=context
    )
