"""SageMaker async inference notifications (SNS → SQS) → the pipeline checks that design now."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.bootstrap import workers
from shared.domain.messages import GenerationMessage
from shared.inbound import InferenceEventRecord, receive_count, sqs_batch
from shared.observability import logger, metrics, tracer


@tracer.capture_method
def check_design(record: InferenceEventRecord) -> str:
    notification = record.notification.for_design()
    if notification is None:  # an inference that names no design (started outside Roomcraft)
        logger.warning("inference of no design", extra={"message_id": record.messageId})
        return "ignored"
    tenant_id, design_id = notification.tenant_id, notification.design_id
    logger.append_keys(design_id=design_id, tenant_id=tenant_id)
    if notification.failed:
        workers.sagemaker_provider().record_failure(notification)
    message = GenerationMessage(tenant_id=tenant_id, design_id=design_id)
    result = workers.generation_pipeline().run(message, receive_count=receive_count(record))
    metrics.add_metric(name=f"InferenceEvents_{result.value}", unit=MetricUnit.Count, value=1)
    return result.value


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    # Malformed notifications are acknowledged (logged): a retry cannot mend them, and the design's
    # own delayed check finds the result without one.
    processor = sqs_batch(InferenceEventRecord, acknowledge_malformed=True)
    return process_partial_response(
        event=event, record_handler=check_design, processor=processor, context=context
    )
