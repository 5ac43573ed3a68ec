"""The ingest and writeback Lambda entry points with SQS events shaped as S3 and EventBridge send them."""

from __future__ import annotations

import json
from typing import Any

import boto3

from functions.ingest.handler import handler as ingest
from functions.writeback.handler import handler as writeback
from shared import bootstrap
from shared.domain.design import Brief, Design, InboxObject, Origin, SourceImage
from shared.domain.events import design_event
from shared.domain.status import DesignStatus
from tests.conftest import room_photo
from tests.handlers.events import (
    eventbridge_status_event,
    lambda_context,
    s3_object_created,
    s3_test_event,
    sqs_record,
)

TENANT = "tnt_default"


def test_ingest_creates_designs_skips_test_events_and_fails_only_malformed_records(
    aws: dict[str, Any],
) -> None:
    bucket = aws["ROOMCRAFT_INBOX_BUCKET"]
    key = f"inbox/{TENANT}/open house/living room.jpg"
    photo = room_photo(400, 300)
    etag = boto3.client("s3").put_object(
        Bucket=bucket, Key=key, Body=photo, Metadata={"room-type": "living_room", "style": "japandi"}
    )["ETag"]
    notification = s3_object_created(bucket, key, size=len(photo), etag=etag.strip('"'))
    records = [
        sqs_record(s3_test_event(bucket)),
        sqs_record("not json at all", message_id="bad-1"),
        sqs_record(notification),
        sqs_record(notification),  # the same notification twice in one batch
    ]
    response = ingest({"Records": records}, lambda_context("roomcraft-ingest"))

    assert response == {"batchItemFailures": [{"itemIdentifier": "bad-1"}]}
    designs, _ = bootstrap.design_service().list(TENANT, limit=10, cursor=None)
    assert [(d.origin, d.source.inbox.key if d.source.inbox else None) for d in designs] == [(Origin.S3, key)]


def test_writeback_ignores_api_designs_and_fails_malformed_records(aws: dict[str, Any]) -> None:
    from shared.adapters.dynamodb import DesignRepository
    from shared.settings import get_settings

    now = bootstrap.design_service()._clock()
    api_design = Design(
        design_id="dsn_API",
        tenant_id=TENANT,
        status=DesignStatus.SUCCEEDED,
        source=SourceImage(upload_id="upl_x", key="uploads/x"),
        brief=Brief(room_type="bedroom", style="japandi", seed=1),
        provider="preview",
        storage_token="t",
        created_at=now,
        updated_at=now,
    )
    inbox_design = api_design.model_copy(
        update={
            "design_id": "dsn_S3",
            "origin": Origin.S3,
            "status": DesignStatus.CANCELED,
            "source": SourceImage(inbox=InboxObject(key=f"inbox/{TENANT}/a/b.jpg", etag="e")),
        }
    )
    repository = DesignRepository(get_settings())
    repository.create(api_design)
    repository.create(inbox_design)
    records = [
        sqs_record(eventbridge_status_event(design_event(api_design, None).model_dump(mode="json"))),
        sqs_record(eventbridge_status_event(design_event(inbox_design, None).model_dump(mode="json"))),
        sqs_record('{"detail": {"design": "no such shape"}}', message_id="bad-2"),
    ]
    response = writeback({"Records": records}, lambda_context("roomcraft-writeback"))

    assert response == {"batchItemFailures": [{"itemIdentifier": "bad-2"}]}
    manifest = boto3.client("s3").get_object(
        Bucket=aws["ROOMCRAFT_INBOX_BUCKET"], Key=f"outbox/{TENANT}/a/b.jpg/manifest.json"
    )
    assert json.loads(manifest["Body"].read())["status"] == "canceled"
