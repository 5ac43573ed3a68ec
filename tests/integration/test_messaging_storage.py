"""S3, SQS and EventBridge adapters against moto, through the resources the local cloud provisions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from shared.adapters.eventbridge import StatusEventBus
from shared.adapters.s3 import Bucket
from shared.adapters.sqs import GenerationQueue
from shared.domain.design import Brief, Design, SourceImage
from shared.domain.errors import ImageTooLarge
from shared.domain.events import design_event
from shared.domain.messages import GenerationMessage
from shared.domain.status import DesignStatus

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_presigned_post_carries_type_and_size_conditions(aws: dict[str, Any]) -> None:
    bucket = Bucket(aws["ROOMCRAFT_UPLOADS_BUCKET"])
    url, fields = bucket.presigned_post(
        "uploads/t/u", content_type="image/png", max_bytes=1000, expires_seconds=60
    )
    assert aws["ROOMCRAFT_UPLOADS_BUCKET"] in url
    assert fields["Content-Type"] == "image/png"
    assert fields["key"] == "uploads/t/u"
    policy = json.loads(__import__("base64").b64decode(fields["policy"]))
    assert ["content-length-range", 1, 1000] in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]


def test_bounded_read_refuses_oversize_objects(aws: dict[str, Any]) -> None:
    bucket = Bucket(aws["ROOMCRAFT_UPLOADS_BUCKET"])
    bucket.write("uploads/t/big", b"x" * 2000, content_type="image/jpeg")
    assert bucket.size_of("uploads/t/big") == 2000
    assert bucket.size_of("uploads/t/missing") is None
    assert bucket.read("uploads/t/big", max_bytes=2000) == b"x" * 2000
    with pytest.raises(ImageTooLarge):
        bucket.read("uploads/t/big", max_bytes=1999)


def test_output_urls_are_built_on_the_cdn_base(aws: dict[str, Any]) -> None:
    bucket = Bucket(aws["ROOMCRAFT_OUTPUTS_BUCKET"], public_base_url="https://cdn.example.test/")
    assert bucket.url_for("designs/a/b.jpg") == "https://cdn.example.test/designs/a/b.jpg"


def test_generate_queue_redrives_to_its_dlq(aws: dict[str, Any]) -> None:
    sqs = boto3.client("sqs")
    url = aws["ROOMCRAFT_GENERATE_QUEUE_URL"]
    GenerationQueue(url).enqueue(GenerationMessage(tenant_id="t", design_id="d"))
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["maxReceiveCount"] == 5
    assert redrive["deadLetterTargetArn"].endswith("-generate-dlq")
    received = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"][0]
    assert GenerationMessage.model_validate_json(received["Body"]) == GenerationMessage(
        tenant_id="t", design_id="d"
    )
    assert received["MessageAttributes"]["tenant_id"]["StringValue"] == "t"


def test_status_events_reach_the_webhook_queue_through_the_rule(aws: dict[str, Any]) -> None:
    design = Design(
        design_id="dsn_1",
        tenant_id="tnt_a",
        source=SourceImage(upload_id="u"),
        brief=Brief(room_type="bedroom", style="japandi", seed=1),
        provider="preview",
        storage_token="t",
        created_at=T0,
        updated_at=T0,
    )
    bus = StatusEventBus(aws["ROOMCRAFT_EVENT_BUS_NAME"])
    bus.publish(design_event(design, previous=None))
    bus.publish(design_event(design.transition(DesignStatus.PREPARING, now=T0), previous=DesignStatus.QUEUED))
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=aws["ROOMCRAFT_WEBHOOK_QUEUE_URL"], MaxNumberOfMessages=10)[
        "Messages"
    ]
    events = sorted((json.loads(m["Body"]) for m in messages), key=lambda e: e["detail"]["version"])
    assert [e["detail-type"] for e in events] == ["design.queued", "design.preparing"]
    assert events[0]["source"] == "roomcraft"
    assert events[1]["detail"]["event_id"] == "dsn_1.v2"
    assert events[1]["detail"]["previous_status"] == "queued"


def test_every_table_model_shares_the_containers_botocore_session(aws: dict[str, Any]) -> None:
    """One parse of DynamoDB's service model per container, not one per table (bench: cold start)."""
    from shared.adapters.aws import botocore_session
    from shared.adapters.dynamodb import DesignItem, UploadItem, bind_models
    from shared.adapters.dynamodb_tenancy import ApiKeyItem, TenantItem, UsageItem, bind_tenancy_models
    from shared.settings import get_settings

    models = (DesignItem, UploadItem, ApiKeyItem, TenantItem, UsageItem)
    for model in models:
        model.Meta.table_name = "not-bound-yet"  # as in a new container
    bind_models(get_settings())
    bind_tenancy_models(get_settings())
    connections = [model._get_connection().connection for model in models]
    assert {id(c.session) for c in connections} == {id(botocore_session())}
    assert all(c._client is not None for c in connections)  # made under the session's lock
