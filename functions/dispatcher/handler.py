"""Webhook queue (SQS) → the webhook dispatcher: fan-out, deliveries and replays, partial batch failures.

Records of one batch are handled concurrently (each delivery waits on a customer's server for
up to 15 s), with Powertools' async batch processor running the blocking work in threads.
"""

from __future__ import annotations

import asyncio

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.domain.errors import MalformedMessage
from shared.observability import logger, metrics, tracer
from shared.services import wiring

processor = AsyncBatchProcessor(event_type=EventType.SQS)


async def dispatch(record: SQSRecord) -> str:
    dispatcher = wiring.webhook_dispatcher()
    try:
        result = await asyncio.to_thread(dispatcher.handle, record.body)
    except MalformedMessage:
        logger.error(
            "malformed webhook queue message",
            extra={"code": MalformedMessage.code, "message_id": record.message_id},
        )
        metrics.add_metric(name="MalformedMessages", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name=f"Webhooks_{result.value}", unit=MetricUnit.Count, value=1)
    return result.value


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    wiring.webhook_dispatcher()  # built once, before records run in threads
    return async_process_partial_response(
        event=event, record_handler=dispatch, processor=processor, context=context
    )
