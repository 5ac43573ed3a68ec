"""API Gateway (HTTP API) → the FastAPI app."""

from __future__ import annotations

import asyncio
import threading

from aws_lambda_powertools.utilities.typing import LambdaContext
from mangum import Mangum

from shared import bootstrap
from shared.api.app import create_app
from shared.observability import logger, metrics, tracer

app = create_app(bootstrap.api_services())
_asgi = Mangum(app, lifespan="off")
_loops = threading.local()


def _event_loop() -> asyncio.AbstractEventLoop:
    """This thread's loop, made once. Mangum runs each request on ``asyncio.get_event_loop()``,
    which fails once anything in the process has cleared the current loop (``asyncio.run``) and,
    from Python 3.14, whenever none was set: so set one explicitly."""
    loop: asyncio.AbstractEventLoop | None = getattr(_loops, "loop", None)
    if loop is None or loop.is_closed():
        loop = _loops.loop = asyncio.new_event_loop()
    return loop


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    asyncio.set_event_loop(_event_loop())
    return _asgi(event, context)  # type: ignore[arg-type]
