"""Generate queue (SQS) → the generation pipeline, one design per message, partial batch failures."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.bootstrap import workers
from shared.inbound import GenerationRecord, receive_count, sqs_batch
from shared.observability import logger, metrics, tracer


def _seconds_left(context: LambdaContext | None) -> Callable[[], float] | None:
    """What bounds this invocation's outbound fetches (Powertools passes the context in)."""
    if context is None:
        return None
    return lambda: context.get_remaining_time_in_millis() / 1000


@tracer.capture_method
def stage_design(record: GenerationRecord, lambda_context: LambdaContext | None = None) -> str:
    message = record.body
    logger.append_keys(design_id=message.design_id, tenant_id=message.tenant_id)
    result = workers.generation_pipeline().run(
        message, receive_count=receive_count(record), time_left=_seconds_left(lambda_context)
    )
    metrics.add_metric(name=f"Designs_{result.value}", unit=MetricUnit.Count, value=1)
    logger.info("generation message handled", extra={"result": result.value})
    return result.value


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=stage_design, processor=sqs_batch(GenerationRecord), context=context
    )
