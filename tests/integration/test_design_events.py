"""Status events from the design service: stored with the status, sent again when a call is retried."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from shared import bootstrap
from shared.adapters.eventbridge import EventPublishFailed
from shared.bootstrap import workers
from shared.domain.events import DesignEventDetail, stored_status_event
from shared.domain.messages import GenerationMessage
from shared.domain.status import DesignStatus
from shared.services.designs import DesignRequest
from tests.conftest import room_photo

TENANT = "tnt_default"


class EventBridgeRefusesOnce:
    def __init__(self, status: DesignStatus) -> None:
        self.sent: list[DesignEventDetail] = []
        self._refuse: DesignStatus | None = status

    def publish(self, detail: DesignEventDetail) -> None:
        if detail.status is self._refuse:
            self._refuse = None
            raise EventPublishFailed("InternalFailure: try again")
        self.sent.append(detail)


def queued_design(aws: dict[str, Any]) -> str:
    service = bootstrap.design_service()
    slot = service.create_upload(TENANT, content_type="image/jpeg")
    boto3.client("s3").put_object(
        Bucket=aws["ROOMCRAFT_UPLOADS_BUCKET"], Key=slot.upload.key, Body=room_photo()
    )
    request = DesignRequest(upload_id=slot.upload.upload_id, room_type="bedroom", style="japandi", seed=1)
    return service.create(TENANT, request).design_id


def test_the_queued_event_is_stored_with_the_new_design(aws: dict[str, Any]) -> None:
    design = bootstrap.design_service().get(TENANT, queued_design(aws))
    event = stored_status_event(design)
    assert event is not None
    assert (event.status, event.previous_status, event.event_id) == (
        DesignStatus.QUEUED,
        None,
        f"{design.design_id}.v1",
    )


def test_a_cancel_whose_event_was_lost_sends_it_when_the_client_retries(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    design_id = queued_design(aws)
    service = bootstrap.design_service()
    events = EventBridgeRefusesOnce(DesignStatus.CANCELED)
    monkeypatch.setattr(service, "_events", events)
    with pytest.raises(EventPublishFailed):
        service.cancel(TENANT, design_id)  # stored as canceled; EventBridge refused the event
    stored = service.get(TENANT, design_id)
    assert stored.status is DesignStatus.CANCELED
    assert events.sent == []
    assert service.cancel(TENANT, design_id).status is DesignStatus.CANCELED  # the retry
    (sent,) = events.sent
    assert sent.model_dump_json() == stored.status_event
    assert (sent.status, sent.previous_status) == (DesignStatus.CANCELED, DesignStatus.QUEUED)


def test_a_design_whose_queued_event_was_refused_is_accepted_and_the_worker_announces_it(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = bootstrap.design_service()
    refused = EventBridgeRefusesOnce(DesignStatus.QUEUED)
    monkeypatch.setattr(service, "_events", refused)
    design_id = queued_design(aws)  # no exception: a 500 here would make clients create it twice
    assert refused.sent == []
    messages = boto3.client("sqs").receive_message(
        QueueUrl=aws["ROOMCRAFT_GENERATE_QUEUE_URL"], MaxNumberOfMessages=10
    )["Messages"]
    # Queued before announced (issue 13 item 4): the design's own message, then one that asks the
    # worker to send the stored event.
    sent = sorted(
        (GenerationMessage.model_validate_json(m["Body"]) for m in messages), key=lambda m: m.announce
    )
    assert [(m.design_id, m.announce) for m in sent] == [(design_id, False), (design_id, True)]
    message = sent[1]

    pipeline = workers.generation_pipeline()
    worker_events = EventBridgeRefusesOnce(DesignStatus.CANCELED)  # refuses nothing here
    monkeypatch.setattr(pipeline, "_events", worker_events)
    pipeline.run(message)
    statuses = [e.status for e in worker_events.sent]
    assert statuses[0] is DesignStatus.QUEUED  # the stored event, first, before the worker's own
    assert worker_events.sent[0].event_id == f"{design_id}.v1"
    assert statuses[-1] is DesignStatus.SUCCEEDED


def test_an_announced_design_is_queued_without_the_flag(aws: dict[str, Any]) -> None:
    design_id = queued_design(aws)
    messages = boto3.client("sqs").receive_message(QueueUrl=aws["ROOMCRAFT_GENERATE_QUEUE_URL"])["Messages"]
    (message,) = [GenerationMessage.model_validate_json(m["Body"]) for m in messages]
    assert (message.design_id, message.announce) == (design_id, False)
