"""Observability: alarms to an encrypted SNS topic (optionally e-mailed) and a CloudWatch dashboard.

Alarms: any message in a dead-letter queue; the oldest message of a consumed queue waiting longer
than ``queue_age_alarm_minutes``; a design open past its deadline (the sweeper's metric); any
function error or throttle; API 5xx responses. Each alarm
notifies on ALARM and on OK. Traces come from X-Ray (active tracing on every function).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import DeploymentConfig
from infra.constructs.keys import administered_key
from infra.constructs.pipeline import QueuePair
from infra.naming import pascal
from shared.resources import DESIGN_DEADLINE_SECONDS, OLDEST_OPEN_DESIGN_METRIC, SWEEP_STALE_DESIGNS

METRICS_NAMESPACE = "Roomcraft"
"""``POWERTOOLS_METRICS_NAMESPACE`` of every function (infra/stack.py)."""
METRICS_SERVICE = "roomcraft"
"""``POWERTOOLS_SERVICE_NAME``: Powertools adds it as the ``service`` dimension."""

PERIOD = Duration.minutes(5)


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        functions: dict[str, lambda_.Function],
        queues: dict[str, QueuePair],
        consumed_queues: list[str],
        http_api: apigwv2.HttpApi,
    ) -> None:
        super().__init__(scope, construct_id)
        # CloudWatch cannot publish to a topic encrypted with the AWS-managed aws/sns key, so the topic
        # has its own key whose policy lets CloudWatch use it.
        self.topic_key = administered_key(
            self,
            "AlarmTopicKey",
            description=f"Encrypts Roomcraft {config.stage} alarm notifications",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        self.topic_key.grant(
            iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*"
        )
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"Roomcraft {config.stage} alarms",
            master_key=self.topic_key,
            enforce_ssl=True,
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self._action = cw_actions.SnsAction(self.topic)
        self.alarms: list[cloudwatch.Alarm] = []

        for pair in queues.values():
            name = pascal(pair.spec.id)
            self._alarm(
                f"{name}DeadLetters",
                pair.dlq.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
                threshold=0,
                description=f"Messages of the {pair.spec.id} queue failed {pair.spec.max_receive_count} "
                "times and wait in its dead-letter queue: inspect, fix, then redrive.",
            )
            if pair.spec.id in consumed_queues:
                self._alarm(
                    f"{name}OldestMessage",
                    pair.queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum"),
                    threshold=config.queue_age_alarm_minutes * 60,
                    description=f"A message of the {pair.spec.id} queue has waited over "
                    f"{config.queue_age_alarm_minutes} minutes: its consumer is failing or cannot keep up.",
                )
        for function_id, function in functions.items():
            name = pascal(function_id)
            self._alarm(
                f"{name}Errors",
                function.metric_errors(period=PERIOD, statistic="Sum"),
                threshold=0,
                description=f"The {function_id} function raised errors.",
            )
            self._alarm(
                f"{name}Throttles",
                function.metric_throttles(period=PERIOD, statistic="Sum"),
                threshold=0,
                description=f"The {function_id} function was throttled (account concurrency exhausted).",
            )
        # Published by the sweeper on every run (functions/sweeper/handler.py).
        oldest_open_design = cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=OLDEST_OPEN_DESIGN_METRIC,
            dimensions_map={"service": METRICS_SERVICE},
            period=PERIOD,
            statistic="Maximum",
        )
        self._alarm(
            "OldestOpenDesign",
            oldest_open_design,
            threshold=DESIGN_DEADLINE_SECONDS + SWEEP_STALE_DESIGNS.rate_minutes * 60,
            description="A design has not reached a terminal status within its deadline "
            f"({DESIGN_DEADLINE_SECONDS} s): its message was lost or dead-lettered, or the sweeper is "
            "failing. The sweeper queues it again, then fails it; see `roomcraft admin redrive`.",
        )
        self._alarm(
            "ApiServerErrors",
            http_api.metric_server_error(period=PERIOD, statistic="Sum"),
            threshold=0,
            description="The HTTP API answered 5xx.",
        )

        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=f"Roomcraft-{config.stage}", default_interval=Duration.hours(6)
        )
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(markdown=f"# Roomcraft {config.stage}", width=24, height=1),
            cloudwatch.GraphWidget(
                title="API requests and errors",
                left=[http_api.metric_count(period=PERIOD, statistic="Sum")],
                right=[
                    http_api.metric_client_error(period=PERIOD, statistic="Sum"),
                    http_api.metric_server_error(period=PERIOD, statistic="Sum"),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="API latency (p50, p99)",
                left=[
                    http_api.metric_latency(period=PERIOD, statistic="p50"),
                    http_api.metric_latency(period=PERIOD, statistic="p99"),
                ],
                width=12,
            ),
        )
        for function_id, function in functions.items():
            self.dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title=f"{function_id}: invocations, errors, throttles",
                    left=[function.metric_invocations(period=PERIOD, statistic="Sum")],
                    right=[
                        function.metric_errors(period=PERIOD, statistic="Sum"),
                        function.metric_throttles(period=PERIOD, statistic="Sum"),
                    ],
                    width=12,
                ),
                cloudwatch.GraphWidget(
                    title=f"{function_id}: duration (p50, p99) and concurrency",
                    left=[
                        function.metric_duration(period=PERIOD, statistic="p50"),
                        function.metric_duration(period=PERIOD, statistic="p99"),
                    ],
                    right=[function.metric("ConcurrentExecutions", period=PERIOD, statistic="Maximum")],
                    width=12,
                ),
            )
        for pair in queues.values():
            self.dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title=f"{pair.spec.id} queue: visible and in flight",
                    left=[
                        pair.queue.metric_approximate_number_of_messages_visible(
                            period=PERIOD, statistic="Maximum"
                        ),
                        pair.queue.metric_approximate_number_of_messages_not_visible(
                            period=PERIOD, statistic="Maximum"
                        ),
                    ],
                    right=[
                        pair.queue.metric_approximate_age_of_oldest_message(
                            period=PERIOD, statistic="Maximum"
                        )
                    ],
                    width=12,
                ),
                cloudwatch.SingleValueWidget(
                    title=f"{pair.spec.id} dead letters",
                    metrics=[
                        pair.dlq.metric_approximate_number_of_messages_visible(
                            period=PERIOD, statistic="Maximum"
                        )
                    ],
                    width=12,
                ),
            )
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=24),
        )

    def _alarm(
        self, construct_id: str, metric: cloudwatch.Metric, *, threshold: float, description: str
    ) -> None:
        alarm = metric.create_alarm(
            self,
            construct_id,
            alarm_description=description,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms.append(alarm)
