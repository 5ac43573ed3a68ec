"""``/v1/uploads`` and ``/v1/designs``: a presigned upload slot, then designs from the photo."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from shared.api.deps import CurrentTenant, Designs, OutputUrls, Submissions, request_id_of
from shared.api.schemas import CreateDesign, CreateUpload, DesignList, DesignView, UploadResponse
from shared.domain.status import DesignStatus
from shared.observability import logger

router = APIRouter(prefix="/v1")


@router.post("/uploads", status_code=201, tags=["uploads"])
def create_upload(body: CreateUpload, tenant: CurrentTenant, service: Designs) -> UploadResponse:
    return UploadResponse.of(service.create_upload(tenant, content_type=body.content_type))


@router.post("/designs", status_code=202, tags=["designs"])
def create_design(
    body: CreateDesign,
    request: Request,
    response: Response,
    tenant: CurrentTenant,
    submissions: Submissions,
    url_for: OutputUrls,
) -> DesignView:
    design, webhook_secret = submissions.submit(tenant, body, request_id=request_id_of(request))
    logger.info("design created", extra={"design_id": design.design_id})
    response.headers["Location"] = f"/v1/designs/{design.design_id}"
    view = DesignView.of(design, url_for)
    if webhook_secret is not None:
        view.webhook_secret = webhook_secret
    return view


@router.get("/designs", tags=["designs"])
def list_designs(
    tenant: CurrentTenant,
    service: Designs,
    url_for: OutputUrls,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
    status: DesignStatus | None = None,
) -> DesignList:
    found, next_cursor = service.list(tenant, limit=limit, cursor=cursor, status=status)
    return DesignList(data=[DesignView.of(d, url_for) for d in found], next_cursor=next_cursor)


@router.get("/designs/{design_id}", tags=["designs"])
def get_design(design_id: str, tenant: CurrentTenant, service: Designs, url_for: OutputUrls) -> DesignView:
    return DesignView.of(service.get(tenant, design_id), url_for)


@router.post("/designs/{design_id}/cancel", tags=["designs"])
def cancel_design(design_id: str, tenant: CurrentTenant, service: Designs, url_for: OutputUrls) -> DesignView:
    return DesignView.of(service.cancel(tenant, design_id), url_for)
