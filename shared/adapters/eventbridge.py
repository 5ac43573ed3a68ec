"""EventBridge: one event per design status change on the project's bus."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from shared.adapters.aws import client
from shared.domain.events import DesignEventDetail
from shared.resources import EVENT_SOURCE


class EventPublishFailed(RuntimeError):
    pass


class StatusEventBus:
    def __init__(self, bus_name: str) -> None:
        self._bus = bus_name
        self._events: Any = client("events")

    def publish(self, detail: DesignEventDetail) -> None:
        response = self._events.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": detail.detail_type,
                    "Detail": detail.model_dump_json(),
                    "EventBusName": self._bus,
                    "Resources": [],
                }
            ]
        )
        if response.get("FailedEntryCount"):
            entry = response["Entries"][0]
            raise EventPublishFailed(f"{entry.get('ErrorCode')}: {entry.get('ErrorMessage')}")

    def publish_event(self, detail_type: str, detail: BaseModel) -> None:
        """Any other Roomcraft event on the same bus (``endpoint.disabled``, ...)."""
        response = self._events.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": detail_type,
                    "Detail": detail.model_dump_json(),
                    "EventBusName": self._bus,
                    "Resources": [],
                }
            ]
        )
        if response.get("FailedEntryCount"):
            entry = response["Entries"][0]
            raise EventPublishFailed(f"{entry.get('ErrorCode')}: {entry.get('ErrorMessage')}")
