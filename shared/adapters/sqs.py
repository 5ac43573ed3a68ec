"""SQS: the generate queue."""

from __future__ import annotations

from typing import Any

from shared.adapters.aws import client
from shared.domain.messages import GenerationMessage


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
