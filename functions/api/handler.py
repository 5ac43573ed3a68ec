"""API Gateway (HTTP API) → the FastAPI app."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext
from mangum import Mangum

from shared.api.app import app
from shared.observability import logger, metrics, tracer

_asgi = Mangum(app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return _asgi(event, context)  # type: ignore[arg-type]
