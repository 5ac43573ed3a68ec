"""The edge models of every queue: what a message body becomes before any service sees it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared.inbound import SageMakerNotification, dropped_objects
from tests.handlers.events import s3_object_created, s3_test_event

T0 = datetime(2026, 11, 23, 12, 5, tzinfo=UTC)


# --- S3 event notifications (ingest queue) ----------------------------------------------
def test_a_notification_gives_the_decoded_key_etag_and_time() -> None:
    body = s3_object_created(
        "inbox-bucket",
        "inbox/t/open house/Séjour+1.jpg",
        size=123,
        etag="abc",
        event_time="2026-11-23T12:05:00.000Z",
    )
    assert "open+house" in body
    (dropped,) = dropped_objects(body)
    assert (dropped.bucket, dropped.key, dropped.etag, dropped.size, dropped.event_time) == (
        "inbox-bucket",
        "inbox/t/open house/Séjour+1.jpg",
        "abc",
        123,
        T0,
    )
    assert dropped.ingest_key("abc") == "inbox-bucket/inbox/t/open house/Séjour+1.jpg#etag:abc"


def test_the_ingest_key_prefers_the_version_id() -> None:
    (dropped,) = dropped_objects(s3_object_created("b", "inbox/t/x.jpg", size=1, etag="e"))
    versioned = dropped.__class__(**{**dropped.__dict__, "version_id": "3HL4kqtJlcpXroDTDmJ"})
    assert versioned.ingest_key("e") == "b/inbox/t/x.jpg#v:3HL4kqtJlcpXroDTDmJ"
    unversioned = dropped.__class__(**{**dropped.__dict__, "version_id": "null"})
    assert unversioned.ingest_key("e") == "b/inbox/t/x.jpg#etag:e"


def test_the_s3_test_event_has_nothing_to_ingest_and_other_events_are_skipped() -> None:
    assert dropped_objects(s3_test_event("b")) == []
    removed = json.loads(s3_object_created("b", "inbox/t/x.jpg", size=1, etag="e"))
    removed["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    assert dropped_objects(json.dumps(removed)) == []


@pytest.mark.parametrize("body", ["", "[]", '{"Records": []}', '{"Records": [{"eventName": "x"}]}'])
def test_anything_else_is_refused(body: str) -> None:
    with pytest.raises(ValidationError):
        dropped_objects(body)


# --- SageMaker async notifications (inference events queue) --------------------------------
def test_a_sagemaker_failure_names_its_design_and_a_short_reason() -> None:
    body = json.dumps(
        {
            "invocationStatus": "Failed",
            "failureReason": "ClientError:\n  " + "x" * 400,
            "inferenceId": "tnt_a:dsn_1",
            "responseParameters": {"failureLocation": "s3://b/work/sagemaker-async/f.out"},
        }
    )
    notification = SageMakerNotification.model_validate_json(body).for_design()
    assert notification is not None
    assert (notification.tenant_id, notification.design_id, notification.failed) == ("tnt_a", "dsn_1", True)
    assert notification.reason.startswith("ClientError: xxx")
    assert len(notification.reason) == 300
    assert notification.failure_location == "s3://b/work/sagemaker-async/f.out"


def test_an_inference_of_no_design_names_none() -> None:
    body = json.dumps({"invocationStatus": "Completed", "inferenceId": "started-by-hand"})
    assert SageMakerNotification.model_validate_json(body).for_design() is None
