"""Schedule (every few minutes) → the stale-design sweeper; publishes the age of the oldest open design."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.bootstrap import workers
from shared.inbound import scheduled_event
from shared.observability import logger, metrics, tracer
from shared.resources import OLDEST_OPEN_DESIGN_METRIC


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    scheduled_event(event)  # MalformedMessage for anything but a schedule's event
    report = workers.stale_design_sweeper().sweep()
    metrics.add_metric(
        name=OLDEST_OPEN_DESIGN_METRIC, unit=MetricUnit.Seconds, value=report.oldest_open_age_seconds
    )
    metrics.add_metric(name="StaleDesignsRequeued", unit=MetricUnit.Count, value=len(report.requeued))
    metrics.add_metric(name="StaleDesignsFailed", unit=MetricUnit.Count, value=len(report.failed))
    return {
        "requeued": list(report.requeued),
        "failed": list(report.failed),
        "oldest_open_age_seconds": report.oldest_open_age_seconds,
    }
