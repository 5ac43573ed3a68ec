"""Pipeline: the SQS queues from ``QUEUES``, each with its dead-letter queue, and their consumers.

A queue's consumer is wired only when its ``FunctionSpec`` exists (a queue whose consumer is not
written yet still exists, so producers and rules can target it). Consumers report partial batch
failures and run at most ``FunctionSpec.max_concurrency`` copies, which bounds the load on the GPU
provider.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.naming import pascal
from shared.resources import FUNCTIONS, QUEUES, QueueSpec

VISIBILITY_PER_TIMEOUT = 6
"""AWS: a Lambda event source's visibility timeout should be at least 6x the function timeout."""


@dataclass(frozen=True)
class QueuePair:
    spec: QueueSpec
    queue: sqs.Queue
    dlq: sqs.Queue


class Pipeline(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.queues: dict[str, QueuePair] = {spec.id: self._queue(spec) for spec in QUEUES}

    def _queue(self, spec: QueueSpec) -> QueuePair:
        # SSE-SQS rather than the aws/sqs KMS key: EventBridge and S3 can only send to the latter
        # with a customer-managed key, and SSE-SQS encrypts at rest just the same.
        dlq = sqs.Queue(
            self,
            f"{pascal(spec.dlq_id)}Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(spec.dlq_retention_days),
        )
        queue = sqs.Queue(
            self,
            f"{pascal(spec.id)}Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(spec.visibility_timeout_seconds),
            retention_period=Duration.days(spec.retention_days),
            delivery_delay=Duration.seconds(spec.delay_seconds) if spec.delay_seconds else None,
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=spec.max_receive_count),
        )
        return QueuePair(spec=spec, queue=queue, dlq=dlq)

    def connect_consumers(self, functions: dict[str, lambda_.Function]) -> list[str]:
        """Give each queue whose consumer exists an SQS event source; return the wired queue ids."""
        specs = {spec.id: spec for spec in FUNCTIONS}
        wired: list[str] = []
        for pair in self.queues.values():
            consumer = specs.get(pair.spec.consumer)
            if consumer is None:
                continue
            if pair.spec.visibility_timeout_seconds < VISIBILITY_PER_TIMEOUT * consumer.timeout_seconds:
                raise ValueError(
                    f"queue {pair.spec.id!r}: visibility timeout {pair.spec.visibility_timeout_seconds}s "
                    f"is under {VISIBILITY_PER_TIMEOUT}x the timeout of its consumer {consumer.id!r} "
                    f"({consumer.timeout_seconds}s); fix shared/resources.py"
                )
            functions[consumer.id].add_event_source(
                sources.SqsEventSource(
                    pair.queue,
                    batch_size=pair.spec.batch_size,
                    report_batch_item_failures=True,
                    max_concurrency=consumer.max_concurrency,
                )
            )
            wired.append(pair.spec.id)
        return wired
