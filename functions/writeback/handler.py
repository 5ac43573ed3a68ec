"""Writeback queue (status events of finished inbox designs) → results in the tenant's outbox."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.bootstrap import workers
from shared.inbound import StatusEventRecord, sqs_batch
from shared.observability import logger, metrics, tracer


@tracer.capture_method
def write_back(record: StatusEventRecord) -> str:
    detail = record.body.detail
    logger.append_keys(design_id=detail.design_id, tenant_id=detail.tenant_id)
    outcome = workers.inbox_writeback().write_back(detail.tenant_id, detail.design_id)
    metrics.add_metric(name=f"InboxWriteback_{outcome.value}", unit=MetricUnit.Count, value=1)
    return outcome.value


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=write_back, processor=sqs_batch(StatusEventRecord), context=context
    )
