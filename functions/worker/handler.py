"""Generate queue (SQS) → the generation pipeline, one design per message, partial batch failures."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from shared.bootstrap import workers
from shared.domain.errors import MalformedMessage
from shared.domain.messages import GenerationMessage
from shared.observability import logger, metrics, tracer


def _seconds_left(context: LambdaContext | None) -> Callable[[], float] | None:
    """What bounds this invocation's outbound fetches (Powertools passes the context in)."""
    if context is None:
        return None
    return lambda: context.get_remaining_time_in_millis() / 1000


@tracer.capture_method
def stage_design(record: SQSRecord, lambda_context: LambdaContext | None = None) -> str:
    try:
        message = GenerationMessage.model_validate_json(record.body)
    except ValidationError as error:
        logger.error(
            "malformed generation message",
            extra={"code": MalformedMessage.code, "message_id": record.message_id},
        )
        metrics.add_metric(name="MalformedMessages", unit=MetricUnit.Count, value=1)
        raise MalformedMessage(f"message {record.message_id} is not a generation message") from error
    logger.append_keys(design_id=message.design_id, tenant_id=message.tenant_id)
    receive_count = int(record.attributes.approximate_receive_count or 1)
    result = workers.generation_pipeline().run(
        message, receive_count=receive_count, time_left=_seconds_left(lambda_context)
    )
    metrics.add_metric(name=f"Designs_{result.value}", unit=MetricUnit.Count, value=1)
    logger.info("generation message handled", extra={"result": result.value})
    return result.value


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    # A processor per invocation: it holds the batch's results, and the embedded local cloud runs
    # this handler from several threads at once (one Lambda container would not).
    processor = BatchProcessor(event_type=EventType.SQS)
    return process_partial_response(
        event=event, record_handler=stage_design, processor=processor, context=context
    )
