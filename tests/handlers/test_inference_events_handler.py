"""SageMaker Asynchronous Inference end to end on moto: the worker queues the request, the SNS
notification (delivered through SQS) makes the pipeline read the output and finish the design."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest
from moto.sagemakerruntime.models import sagemakerruntime_backends

from functions.inference_events.handler import handler as inference_events
from functions.worker.handler import handler as worker
from shared import bootstrap
from shared.domain.messages import GenerationMessage
from shared.domain.status import DesignStatus
from shared.providers.sagemaker import ContainerResponse
from shared.services.designs import DesignRequest
from tests.conftest import room_photo
from tests.fakes.replicate_server import png
from tests.handlers.events import lambda_context, sqs_record


@pytest.fixture
def sagemaker_async(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("ROOMCRAFT_PROVIDER", "sagemaker")
    monkeypatch.setenv("ROOMCRAFT_SAGEMAKER_ENDPOINT", "roomcraft-staging")
    monkeypatch.setenv("ROOMCRAFT_SAGEMAKER_MODE", "async")
    bootstrap.reset()
    backend = sagemakerruntime_backends["123456789012"]["us-east-1"]
    backend.async_results_queue.clear()
    return backend


def sns_notification(inference_id: str, output_location: str) -> str:
    """What SageMaker publishes to the endpoint's success topic, as SNS delivers it to SQS."""
    message = {
        "awsRegion": "us-east-1",
        "eventTime": "2026-11-23T12:00:05.000Z",
        "receivedTime": "2026-11-23T12:00:00.000Z",
        "invocationStatus": "Completed",
        "requestParameters": {"contentType": "application/json", "endpointName": "roomcraft-staging"},
        "responseParameters": {"contentType": "application/json", "outputLocation": output_location},
        "inferenceId": inference_id,
        "eventVersion": "1.0",
        "eventSource": "aws:sagemaker",
        "eventName": "InferenceResult",
    }
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "5a6f…",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:roomcraft-inference-success",
            "Message": json.dumps(message),
            "Timestamp": "2026-11-23T12:00:05.100Z",
        }
    )


def test_an_async_design_waits_then_completes_on_the_sns_notification(
    aws: dict[str, Any], sagemaker_async: Any
) -> None:
    images = [base64.b64encode(png()).decode()]
    sagemaker_async.async_results_queue.append(
        (False, ContainerResponse(images=images, inference_seconds=6.0).model_dump_json())
    )
    service = bootstrap.design_service()
    slot = service.create_upload("tnt_default", content_type="image/jpeg")
    boto3.client("s3").put_object(
        Bucket=aws["ROOMCRAFT_UPLOADS_BUCKET"], Key=slot.upload.key, Body=room_photo()
    )
    design = service.create(
        "tnt_default", DesignRequest(upload_id=slot.upload.upload_id, room_type="bedroom", style="japandi")
    )
    body = GenerationMessage(tenant_id="tnt_default", design_id=design.design_id).model_dump_json()
    assert (
        worker({"Records": [sqs_record(body)]}, lambda_context("roomcraft-worker"))["batchItemFailures"] == []
    )
    waiting = service.get("tnt_default", design.design_id)
    assert waiting.status is DesignStatus.GENERATING
    assert waiting.prediction_id is not None

    notification = sns_notification(f"tnt_default:{design.design_id}", waiting.prediction_id.split("|")[0])
    records = [sqs_record(notification), sqs_record('{"Type": "Notification", "Message": "not json"}')]
    response = inference_events({"Records": records}, lambda_context("roomcraft-inference-events"))
    assert response["batchItemFailures"] == []
    done = service.get("tnt_default", design.design_id)
    assert done.status is DesignStatus.SUCCEEDED
    assert done.provider_seconds == 6.0
    assert done.outputs[0].metadata["provider"] == "sagemaker"


def test_a_failed_notification_fails_the_design_with_sagemakers_reason(
    aws: dict[str, Any], sagemaker_async: Any
) -> None:
    service = bootstrap.design_service()
    slot = service.create_upload("tnt_default", content_type="image/jpeg")
    boto3.client("s3").put_object(
        Bucket=aws["ROOMCRAFT_UPLOADS_BUCKET"], Key=slot.upload.key, Body=room_photo()
    )
    design = service.create(
        "tnt_default", DesignRequest(upload_id=slot.upload.upload_id, room_type="bedroom", style="japandi")
    )
    body = GenerationMessage(tenant_id="tnt_default", design_id=design.design_id).model_dump_json()
    worker({"Records": [sqs_record(body)]}, lambda_context("roomcraft-worker"))
    waiting = service.get("tnt_default", design.design_id)
    assert waiting.prediction_id is not None
    output, failure, _ = waiting.prediction_id.split("|")
    for location in (output, failure):  # a timed-out invocation leaves neither object
        bucket, key = location[5:].split("/", 1)
        boto3.client("s3").delete_object(Bucket=bucket, Key=key)
    message = json.loads(json.loads(sns_notification(f"tnt_default:{design.design_id}", output))["Message"])
    message.update(
        invocationStatus="Failed",
        failureReason="ClientError: Inference request timed out after 3600 seconds.",
        responseParameters={"contentType": "text/plain", "failureLocation": failure},
    )
    notification = json.dumps({"Type": "Notification", "Message": json.dumps(message)})
    response = inference_events(
        {"Records": [sqs_record(notification)]}, lambda_context("roomcraft-inference-events")
    )
    assert response["batchItemFailures"] == []
    failed = service.get("tnt_default", design.design_id)
    assert failed.status is DesignStatus.FAILED
    assert failed.error is not None
    assert failed.error.code == "provider_failed"
    assert "timed out after 3600 seconds" in failed.error.message
