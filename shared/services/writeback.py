"""Use case behind the writeback Lambda: a finished inbox design's results go back to the tenant.

Fed by the design status events themselves (an EventBridge rule on ``origin = s3`` and a
terminal status → the writeback queue), so the generation pipeline knows nothing of the inbox.
For ``outbox/{tenant}/{path}/`` it copies every image variant, then writes ``manifest.json``
last: a manifest present means the folder is complete. A failed design also gets
``{path}.error.json``, and when the failure is the photo's fault its original is quarantined.
Every step is idempotent, so redelivered events rewrite the same objects.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from aws_lambda_powertools import Logger

from shared.domain.clock import utcnow
from shared.domain.design import Design, InboxObject, Origin
from shared.domain.errors import DesignNotFound
from shared.domain.inbox import InboxErrorReport, InboxPath, is_photo_fault, manifest_for
from shared.domain.ports import DesignStore, InboxStore
from shared.domain.status import DesignStatus
from shared.services.ingest import REPORT_CACHE_CONTROL

logger = Logger(service="roomcraft", child=True)


class WritebackOutcome(StrEnum):
    WRITTEN = "written"
    IGNORED = "ignored"
    """Not an inbox design, not finished, or gone."""


class InboxWriteback:
    def __init__(
        self,
        *,
        designs: DesignStore,
        inbox: InboxStore,
        outputs_bucket: str,
        url_for: Callable[[str], str],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._designs = designs
        self._inbox = inbox
        self._outputs_bucket = outputs_bucket
        self._url_for = url_for
        self._clock = clock

    def write_back(self, tenant_id: str, design_id: str) -> WritebackOutcome:
        try:
            design = self._designs.get(tenant_id, design_id)
        except DesignNotFound:
            logger.warning("design not found; nothing to write back", extra={"design_id": design_id})
            return WritebackOutcome.IGNORED
        inbox = design.source.inbox
        if design.origin is not Origin.S3 or inbox is None or not design.status.is_terminal:
            return WritebackOutcome.IGNORED
        path = InboxPath.parse(inbox.key)
        for output in design.outputs:
            for variant in output.variants:
                target = path.output_key(output.index, posixpath.basename(variant.key))
                self._inbox.copy_from(self._outputs_bucket, variant.key, target)
        if design.status is DesignStatus.FAILED:
            self._report_failure(design, path, inbox)
        manifest = manifest_for(design, path, url_for=self._url_for, now=self._clock())
        self._inbox.write(
            path.manifest_key,
            manifest.model_dump_json(indent=2).encode(),
            content_type="application/json",
            cache_control=REPORT_CACHE_CONTROL,
        )
        logger.info(
            "inbox results written",
            extra={"design_id": design_id, "status": design.status, "manifest": path.manifest_key},
        )
        return WritebackOutcome.WRITTEN

    def _report_failure(self, design: Design, path: InboxPath, inbox: InboxObject) -> None:
        assert design.error is not None
        quarantined = is_photo_fault(design.error.code) and self._quarantine(path, inbox)
        report = InboxErrorReport(
            code=design.error.code,
            message=design.error.message,
            source=inbox,
            stage="design",
            design_id=design.design_id,
            quarantine_key=path.quarantine_key if quarantined else None,
            occurred_at=design.finished_at or self._clock(),
        )
        self._inbox.write(
            path.error_report_key,
            report.model_dump_json(indent=2).encode(),
            content_type="application/json",
            cache_control=REPORT_CACHE_CONTROL,
        )

    def _quarantine(self, path: InboxPath, inbox: InboxObject) -> bool:
        """Move the original to quarantine unless it was replaced by a newer drop meanwhile;
        True when it is there (moved now or by an earlier delivery)."""
        head = self._inbox.head(path.key)
        if head is None:
            return self._inbox.head(path.quarantine_key) is not None
        if head.etag != inbox.etag:
            return False  # a newer photo under the same name: it is not the one that failed
        self._inbox.copy_from(self._inbox.name, path.key, path.quarantine_key)
        self._inbox.delete(path.key)
        return True
