"""Events: the project's EventBridge bus from ``EVENT_BUS``, an archive for replay, and its rules.

Each rule matches ``source = EVENT_BUS.source`` and a ``detail-type`` prefix and delivers to a queue
of the pipeline. Events EventBridge cannot deliver land in that queue's dead-letter queue, in the
same shape as the queue's own messages, so a DLQ redrive replays them.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from constructs import Construct

from infra.constructs.pipeline import QueuePair
from infra.naming import pascal
from shared.resources import EVENT_BUS, local_name


class Events(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, stage: str, queues: dict[str, QueuePair]
    ) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(
            self,
            "Bus",
            # A readable, stable name: customer back-ends add their own rules to this bus.
            event_bus_name=local_name(stage, EVENT_BUS.id),
            description="Roomcraft design status events",
        )
        self.archive = events.Archive(
            self,
            "Archive",
            source_event_bus=self.bus,
            event_pattern=events.EventPattern(source=[EVENT_BUS.source]),
            retention=Duration.days(EVENT_BUS.archive_retention_days),
            description="Every Roomcraft event, for replay",
        )
        self.rules: dict[str, events.Rule] = {}
        for spec in EVENT_BUS.rules:
            if spec.target_queue not in queues:
                raise ValueError(f"event rule {spec.id!r} targets unknown queue {spec.target_queue!r}")
            target = queues[spec.target_queue]
            self.rules[spec.id] = events.Rule(
                self,
                f"{pascal(spec.id)}Rule",
                event_bus=self.bus,
                description=spec.description,
                event_pattern=events.EventPattern(
                    source=[EVENT_BUS.source],
                    detail_type=events.Match.prefix(spec.detail_type_prefix),
                    detail={name: list(values) for name, values in spec.detail_match} or None,
                ),
                targets=[
                    targets.SqsQueue(
                        target.queue,
                        dead_letter_queue=target.dlq,
                        retry_attempts=10,
                        max_event_age=Duration.hours(24),
                    )
                ],
            )
