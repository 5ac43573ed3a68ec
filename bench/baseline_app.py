"""The naive baseline for the cold-start benchmark: the same routes as a plain FastAPI + Mangum app.

Written the way many serverless Python APIs start out: every library the service uses anywhere
(boto3, PynamoDB, Pillow, replicate) is imported at module top, all clients are created at import
time, and one module serves both the API and the worker. It talks to the same tables, bucket,
queue and bus as Roomcraft (same item layout), so the benchmark can invoke it with the same events.

Entry points: ``handler`` (API Gateway HTTP API, like ``functions/api``) and ``worker_handler``
(SQS, like ``functions/worker``; it runs the same generation pipeline, so the two differ only in
what they load and when). Never deployed; used only by ``bench/coldstart.py``.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import replicate  # noqa: F401 - imported at top "because the worker may need it"
from fastapi import FastAPI, HTTPException
from mangum import Mangum
from PIL import Image  # noqa: F401 - same
from pydantic import BaseModel
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from shared.bootstrap import workers
from shared.domain.styles import ROOM_TYPES, STYLES
from shared.services.generation import GenerationPipeline  # noqa: F401 - the worker's, eagerly

ENDPOINT = os.environ.get("ROOMCRAFT_AWS_ENDPOINT_URL")
REGION = os.environ.get("AWS_REGION", "us-east-1")
TENANT = os.environ.get("ROOMCRAFT_DEFAULT_TENANT", "tnt_default")

s3 = boto3.client("s3", endpoint_url=ENDPOINT, region_name=REGION)
sqs = boto3.client("sqs", endpoint_url=ENDPOINT, region_name=REGION)
events = boto3.client("events", endpoint_url=ENDPOINT, region_name=REGION)


class DesignItem(Model):
    class Meta:
        table_name = os.environ.get("ROOMCRAFT_DESIGNS_TABLE", "roomcraft-local-designs")
        host = ENDPOINT
        region = REGION

    tenant_id = UnicodeAttribute(hash_key=True)
    design_id = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    version = NumberAttribute()
    updated_at = UnicodeAttribute()
    document = UnicodeAttribute()
    lease_owner = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)


class NewUpload(BaseModel):
    content_type: str


class NewDesign(BaseModel):
    upload_id: str | None = None
    image_url: str | None = None
    room_type: str
    style: str
    variants: int = 1


app = FastAPI(title="baseline")


def _view(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": document["design_id"],
        "status": document["status"],
        "progress": document.get("progress", 0.0),
        "created_at": document["created_at"],
        "outputs": document.get("outputs", []),
        "error": document.get("error"),
    }


@app.get("/v1/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/v1/styles")
def styles() -> dict[str, Any]:
    return {
        "styles": [{"id": s.id, "name": s.name, "palette": list(s.palette)} for s in STYLES.values()],
        "room_types": [{"id": r.id, "name": r.name} for r in ROOM_TYPES.values()],
    }


@app.post("/v1/uploads", status_code=201)
def create_upload(body: NewUpload) -> dict[str, Any]:
    upload_id = f"upl_{uuid.uuid4().hex}"
    key = f"uploads/{TENANT}/{upload_id}"
    post = s3.generate_presigned_post(
        Bucket=os.environ["ROOMCRAFT_UPLOADS_BUCKET"], Key=key, Fields={"Content-Type": body.content_type}
    )
    return {"upload_id": upload_id, "url": post["url"], "fields": post["fields"]}


@app.post("/v1/designs", status_code=202)
def create_design(body: NewDesign) -> dict[str, Any]:
    if body.style not in STYLES or body.room_type not in ROOM_TYPES:
        raise HTTPException(422, "unknown style or room type")
    now = datetime.now(UTC).isoformat()
    design_id = f"dsn_{uuid.uuid4().hex}"
    document = {"design_id": design_id, "status": "queued", "created_at": now, **body.model_dump()}
    DesignItem(
        TENANT, design_id, status="queued", version=1, updated_at=now, document=json.dumps(document)
    ).save()
    sqs.send_message(
        QueueUrl=os.environ["ROOMCRAFT_GENERATE_QUEUE_URL"],
        MessageBody=json.dumps({"tenant_id": TENANT, "design_id": design_id}),
    )
    events.put_events(
        Entries=[
            {
                "Source": "roomcraft",
                "DetailType": "design.queued",
                "Detail": json.dumps(document),
                "EventBusName": os.environ["ROOMCRAFT_EVENT_BUS_NAME"],
            }
        ]
    )
    return _view(document)


@app.get("/v1/designs")
def list_designs(limit: int = 20) -> dict[str, Any]:
    items = DesignItem.query(TENANT, scan_index_forward=False, limit=limit)
    return {"data": [_view(json.loads(item.document)) for item in items]}


@app.get("/v1/designs/{design_id}")
def get_design(design_id: str) -> dict[str, Any]:
    try:
        item = DesignItem.get(TENANT, design_id, consistent_read=True)
    except DoesNotExist as error:
        raise HTTPException(404, "design not found") from error
    return _view(json.loads(item.document))


@app.post("/v1/designs/{design_id}/cancel")
def cancel_design(design_id: str) -> dict[str, Any]:
    try:
        item = DesignItem.get(TENANT, design_id, consistent_read=True)
    except DoesNotExist as error:
        raise HTTPException(404, "design not found") from error
    document = json.loads(item.document)
    if document["status"] != "queued":
        raise HTTPException(409, "too late to cancel")
    document["status"] = "canceled"
    item.update(actions=[DesignItem.status.set("canceled"), DesignItem.document.set(json.dumps(document))])
    return _view(document)


handler = Mangum(app, lifespan="off")


def worker_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from shared.domain.messages import GenerationMessage

    failures = []
    for record in event["Records"]:
        try:
            message = GenerationMessage.model_validate_json(record["body"])
            receive_count = int(record["attributes"].get("ApproximateReceiveCount", "1"))
            workers.generation_pipeline().run(message, receive_count=receive_count)
        except Exception:
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
