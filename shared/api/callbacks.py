"""``POST /v1/callbacks/replicate``: Replicate's signed "prediction completed" webhooks.

Not tenant-authenticated (Replicate holds no API key of ours): the webhook signature is the
authentication, and the design named in the query must own the prediction in the body. The route
only hands the design to the worker (which holds the provider token and the bucket rights), so it
answers in milliseconds: 200 once handed over or known to be irrelevant, 401 for a bad signature,
503 (retried by Replicate) while the design has not recorded its prediction yet. Where no provider
sends callbacks (Replicate not enabled, or without a token) it answers 404 ``route_not_found``,
exactly as a path that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from shared.api.deps import Callbacks
from shared.api.schemas import ErrorResponse
from shared.observability import logger
from shared.services.callbacks import CallbackResult

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"])


class CallbackAck(BaseModel):
    result: CallbackResult
    """``queued`` (the worker collects the prediction now), ``already_done`` (a replay),
    ``ignored`` (not this design's prediction, or not a final report) or ``missing``."""


@router.post(
    "/replicate",
    summary="Replicate prediction webhook (signed)",
    responses={
        401: {"model": ErrorResponse, "description": "Missing, stale or wrong webhook signature"},
        404: {"model": ErrorResponse, "description": "No provider of this deployment sends callbacks"},
        503: {"model": ErrorResponse, "description": "The design has not recorded its prediction yet: retry"},
    },
)
async def replicate_callback(
    request: Request,
    tenant: Annotated[str, Query(min_length=1, max_length=128)],
    design: Annotated[str, Query(min_length=1, max_length=128)],
    callbacks: Callbacks,
) -> CallbackAck:
    body = await request.body()
    headers = dict(request.headers.items())
    # DynamoDB and SQS calls block: keep them off the event loop.
    result = await run_in_threadpool(callbacks.receive_replicate, tenant, design, headers, body)
    logger.info("replicate callback handled", extra={"design_id": design, "result": result.value})
    return CallbackAck(result=result)
