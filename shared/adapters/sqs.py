"""SQS: the generate queue and the webhook queue."""

from __future__ import annotations

import json
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


class DeadLetterRedrive:
    """Moves the messages of a queue's dead-letter queue back to the queue (``roomcraft admin redrive``).

    The dead-letter queue is found from the queue's own redrive policy, so the same code works on a
    deployment and on the local cloud. Each message is sent to the queue (body and attributes) before
    it is deleted from the dead-letter queue: a crash in between repeats a message, never loses one,
    and every consumer is idempotent."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._url = queue_url

    def dead_letter_queue_url(self) -> str:
        attributes = self._sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["RedrivePolicy"])
        policy = attributes.get("Attributes", {}).get("RedrivePolicy")
        if not policy:
            raise LookupError(f"{self._url} has no dead-letter queue")
        arn = json.loads(policy)["deadLetterTargetArn"]
        _, _, _, _, account, name = arn.split(":", 5)
        return str(self._sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])

    def move(self, *, limit: int) -> tuple[str, int]:
        """Move up to ``limit`` messages; returns the dead-letter queue's URL and how many moved."""
        dlq = self.dead_letter_queue_url()
        moved = 0
        while moved < limit:
            received = self._sqs.receive_message(
                QueueUrl=dlq,
                MaxNumberOfMessages=min(10, limit - moved),
                WaitTimeSeconds=0,
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not received:
                break
            sent = self._sqs.send_message_batch(
                QueueUrl=self._url,
                Entries=[
                    {
                        "Id": str(n),
                        "MessageBody": message["Body"],
                        **(
                            {"MessageAttributes": message["MessageAttributes"]}
                            if message.get("MessageAttributes")
                            else {}
                        ),
                    }
                    for n, message in enumerate(received)
                ],
            )
            done = {entry["Id"] for entry in sent.get("Successful", [])}
            finished = [
                {"Id": str(n), "ReceiptHandle": message["ReceiptHandle"]}
                for n, message in enumerate(received)
                if str(n) in done
            ]
            if finished:
                self._sqs.delete_message_batch(QueueUrl=dlq, Entries=finished)
            moved += len(finished)
            if sent.get("Failed"):
                failed = sent["Failed"][0]
                raise RuntimeError(
                    f"the queue refused a message: {failed.get('Code')}: {failed.get('Message')}"
                )
        return dlq, moved
