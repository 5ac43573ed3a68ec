"""``POST /v1/analyses``: analyse an uploaded photo before spending any quota on it (docs/quality.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.domain.errors import UploadIncomplete
from shared.domain.ports import ObjectStore, UploadStore
from shared.domain.quality import PhotoAnalysis
from shared.settings import Settings

if TYPE_CHECKING:  # the gate imports numpy and Pillow: kept off the API's cold path
    from shared.services.quality import QualityGate


class UploadAnalysis:
    def __init__(
        self, *, settings: Settings, uploads: UploadStore, upload_bucket: ObjectStore, gate: QualityGate
    ) -> None:
        self._settings = settings
        self._uploads = uploads
        self._bucket = upload_bucket
        self._gate = gate

    def analyse(self, tenant_id: str, upload_id: str) -> PhotoAnalysis:
        """The analysis of the tenant's upload (another tenant's upload is not found); no quota is used."""
        # Imported here: Pillow stays off the API's cold path until an analysis is asked for.
        from shared.imaging.prepare import prepare_image

        upload = self._uploads.get(tenant_id, upload_id)
        if self._bucket.size_of(upload.key) is None:
            raise UploadIncomplete(f"nothing has been uploaded to {upload.upload_id} yet")
        original = self._bucket.read(upload.key, max_bytes=self._settings.max_upload_bytes)
        prepared = prepare_image(
            original,
            max_bytes=self._settings.max_upload_bytes,
            max_pixels=self._settings.max_pixels,
            target_long_edge=self._settings.model_input_long_edge,
        )
        return self._gate.analyse(prepared.data)

    @property
    def not_a_room_confidence(self) -> float:
        return self._settings.not_a_room_confidence
