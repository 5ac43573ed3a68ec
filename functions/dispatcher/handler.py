"""Webhook queue (SQS) → the webhook dispatcher: fan-out, deliveries and replays, partial batch failures.

A batch's records run at once (each delivery may wait up to 15 s on a customer's server), through
Powertools' async batch processor with the blocking work on a pool as wide as the batch.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import async_process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.bootstrap import workers
from shared.inbound import WebhookQueueRecord, async_sqs_batch
from shared.observability import logger, metrics, tracer
from shared.resources import WEBHOOK_QUEUE

pool = ThreadPoolExecutor(max_workers=WEBHOOK_QUEUE.batch_size, thread_name_prefix="dispatch")


async def dispatch(record: WebhookQueueRecord) -> str:
    dispatcher = workers.webhook_dispatcher()
    result = await asyncio.get_running_loop().run_in_executor(pool, dispatcher.handle, record.body)
    metrics.add_metric(name=f"Webhooks_{result.value}", unit=MetricUnit.Count, value=1)
    return result.value


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    workers.webhook_dispatcher()  # built once, before records run in threads
    return async_process_partial_response(
        event=event, record_handler=dispatch, processor=async_sqs_batch(WebhookQueueRecord), context=context
    )
