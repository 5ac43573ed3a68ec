"""SQS: the generate queue and the webhook queue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.adapters.aws import client
from shared.domain.design import Design
from shared.domain.messages import GenerationMessage
from shared.domain.webhooks import WebhookJob


class GenerationQueue:
    def __init__(self, queue_url: str) -> None:
        self._url = queue_url
        self._sqs: Any = client("sqs")

    def enqueue(self, message: GenerationMessage) -> None:
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=message.model_dump_json(),
            MessageAttributes={"tenant_id": {"DataType": "String", "StringValue": message.tenant_id}},
        )

    def enqueue_later(self, message: GenerationMessage, *, delay_seconds: int) -> None:
        """Deliver ``message`` after ``delay_seconds`` (SQS caps it at 900): the polling fallback."""
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=message.model_dump_json(exclude_none=True),
            DelaySeconds=max(0, min(900, int(delay_seconds))),
            MessageAttributes={"tenant_id": {"DataType": "String", "StringValue": message.tenant_id}},
        )


class CancelThroughWorker:
    """``PredictionCanceller`` for the API: the worker holds the provider's credentials, so a
    canceled design is handed to it; it finds the design canceled and cancels the predictions."""

    def __init__(self, queue: GenerationQueue) -> None:
        self._queue = queue

    def cancel(self, design: Design) -> None:
        self._queue.enqueue(GenerationMessage(tenant_id=design.tenant_id, design_id=design.design_id))


class WebhookQueue:
    """The webhook queue: delivery and replay jobs (EventBridge puts the status events there)."""

    MAX_DELAY_SECONDS = 900
    """SQS's limit per message: longer waits are chained (see ``WebhookDispatcher``)."""

    def __init__(self, queue_url: str) -> None:
        self._url = queue_url
        self._sqs: Any = client("sqs")

    def send(self, jobs: Sequence[WebhookJob], *, delay_seconds: int = 0) -> None:
        delay = max(0, min(delay_seconds, self.MAX_DELAY_SECONDS))
        for start in range(0, len(jobs), 10):
            chunk = jobs[start : start + 10]
            response = self._sqs.send_message_batch(
                QueueUrl=self._url,
                Entries=[
                    {
                        "Id": str(n),
                        "MessageBody": job.model_dump_json(),
                        "DelaySeconds": delay,
                        "MessageAttributes": {
                            "tenant_id": {"DataType": "String", "StringValue": job.tenant_id},
                            "kind": {"DataType": "String", "StringValue": job.kind},
                        },
                    }
                    for n, job in enumerate(chunk)
                ],
            )
            if response.get("Failed"):
                failed = response["Failed"][0]
                raise RuntimeError(
                    f"webhook queue refused a job: {failed.get('Code')}: {failed.get('Message')}"
                )
