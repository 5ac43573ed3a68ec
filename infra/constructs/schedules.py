"""Schedules: a rate rule on the default event bus per ``SCHEDULES`` entry, invoking its function.

The embedded local cloud runs the same functions on a timer (``shared.local.cloud``); the parity
test compares the rules' expressions and descriptions with what the local cloud provisions.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.naming import pascal
from shared.resources import SCHEDULES


class Schedules(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, functions: dict[str, lambda_.Function]
    ) -> None:
        super().__init__(scope, construct_id)
        self.rules: dict[str, events.Rule] = {}
        for spec in SCHEDULES:
            if spec.function not in functions:
                raise ValueError(f"schedule {spec.id!r} runs unknown function {spec.function!r}")
            self.rules[spec.id] = events.Rule(
                self,
                f"{pascal(spec.id)}Schedule",
                description=spec.description,
                schedule=events.Schedule.expression(spec.expression),
                targets=[
                    targets.LambdaFunction(
                        functions[spec.function],
                        # A missed run is made up by the next one a few minutes later.
                        retry_attempts=2,
                        max_event_age=Duration.minutes(spec.rate_minutes),
                    )
                ],
            )
