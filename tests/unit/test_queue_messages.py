"""Every queue message model ignores fields it does not know (issue 13, item 16).

During a rolling deploy a newer producer may add a field; an older consumer must still handle the
message, not dead-letter it.
"""

from __future__ import annotations

import json

from shared.domain.messages import GenerationMessage
from shared.domain.webhooks import DeliveryJob, ReplayJob
from shared.inbound import DesignStatusEvent, webhook_queue_message
from shared.services.webhook_dispatch import BusEvent

NEWER_FIELD = {"added_by_a_newer_release": {"nested": [1, 2]}}


def test_a_generation_message_with_an_unknown_field_parses() -> None:
    body = json.dumps({"tenant_id": "tnt_a", "design_id": "dsn_1", "announce": True, **NEWER_FIELD})
    message = GenerationMessage.model_validate_json(body)
    assert message == GenerationMessage(tenant_id="tnt_a", design_id="dsn_1", announce=True)


def test_a_delivery_job_with_an_unknown_field_parses() -> None:
    job = {"kind": "deliver", "tenant_id": "tnt_a", "endpoint_id": "whe_1", "message_id": "msg_1"}
    parsed = webhook_queue_message(json.dumps({**job, "round": 1, "attempt": 2, **NEWER_FIELD}))
    assert parsed == DeliveryJob(
        tenant_id="tnt_a", endpoint_id="whe_1", message_id="msg_1", round=1, attempt=2
    )


def test_a_replay_job_with_an_unknown_field_parses() -> None:
    job = {"kind": "replay", "tenant_id": "tnt_a", "endpoint_id": "whe_1", "since": "2026-12-01T00:00:00Z"}
    parsed = webhook_queue_message(json.dumps({**job, **NEWER_FIELD}))
    assert isinstance(parsed, ReplayJob)
    assert (parsed.endpoint_id, parsed.since.isoformat()) == ("whe_1", "2026-12-01T00:00:00+00:00")


def test_a_bus_event_with_an_unknown_field_parses() -> None:
    event = {
        "id": "e1",
        "detail-type": "design.succeeded",
        "source": "roomcraft",
        "time": "2026-12-01T00:00:00Z",
        "detail": {},
    }
    parsed = webhook_queue_message(json.dumps({**event, **NEWER_FIELD}))
    assert isinstance(parsed, BusEvent)
    assert parsed.id == "e1"


def test_a_status_event_with_unknown_fields_parses() -> None:
    detail = {
        "event_id": "dsn_1.v2",
        "design_id": "dsn_1",
        "tenant_id": "tnt_a",
        "status": "succeeded",
        "previous_status": "finalizing",
        "version": 2,
        "progress": 1.0,
        "origin": "inbox",
        "occurred_at": "2026-12-01T00:00:00Z",
        **NEWER_FIELD,
    }
    parsed = DesignStatusEvent.model_validate_json(json.dumps({"detail": detail, **NEWER_FIELD}))
    assert parsed.detail.design_id == "dsn_1"
