"""``/v1/health`` and ``/v1/styles``: public, no API key."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter

from shared.api.schemas import Catalogue, Health, RoomTypeView, StyleView
from shared.domain.clock import utcnow
from shared.domain.styles import ROOM_TYPES, STYLES
from shared.settings import get_settings

try:
    VERSION = version("roomcraft")
except PackageNotFoundError:  # deployed as a plain folder, not an installed distribution
    VERSION = "0.1.0"

router = APIRouter(prefix="/v1")


@router.get("/health", tags=["meta"])
def health() -> Health:
    settings = get_settings()
    return Health(
        status="ok", version=VERSION, stage=settings.stage, provider=settings.provider, time=utcnow()
    )


@router.get("/styles", tags=["catalogue"])
def styles() -> Catalogue:
    return Catalogue(
        styles=[
            StyleView(id=s.id, name=s.name, description=s.description, palette=list(s.palette))
            for s in STYLES.values()
        ],
        room_types=[RoomTypeView(id=r.id, name=r.name) for r in ROOM_TYPES.values()],
    )
