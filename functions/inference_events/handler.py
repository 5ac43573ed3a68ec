"""SageMaker async inference notifications (SNS → SQS) → the pipeline checks that design now."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.bootstrap import workers
from shared.domain.messages import GenerationMessage
from shared.observability import logger, metrics, tracer
from shared.providers.sagemaker import parse_notification

processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def check_design(record: SQSRecord) -> str:
    notification = parse_notification(record.body)
    if notification is None:
        logger.warning("not a SageMaker inference notification", extra={"message_id": record.message_id})
        return "ignored"
    tenant_id, design_id = notification.tenant_id, notification.design_id
    logger.append_keys(design_id=design_id, tenant_id=tenant_id)
    if notification.failed:
        workers.sagemaker_provider().record_failure(notification)
    receive_count = int(record.attributes.approximate_receive_count or 1)
    message = GenerationMessage(tenant_id=tenant_id, design_id=design_id)
    result = workers.generation_pipeline().run(message, receive_count=receive_count)
    metrics.add_metric(name=f"InferenceEvents_{result.value}", unit=MetricUnit.Count, value=1)
    return result.value


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=check_design, processor=processor, context=context
    )
