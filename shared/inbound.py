"""Every message a Lambda reads, parsed at the edge: one Powertools record model per queue.

Each SQS consumer hands its record model to ``sqs_batch`` (Powertools' ``BatchProcessor`` with
``model=``); the record's ``body`` is ``Json[...]`` of the message, so the record handler gets a
typed value and services never see raw JSON. A record that does not fit its model never reaches
the handler: it is logged with the code ``malformed_message`` and reported as a batch item failure,
and the queue's redrive policy moves it to its DLQ after ``max_receive_count`` tries (kept for an
operator, never retried for ever). Envelope models require only the fields Roomcraft reads and
ignore the rest, so a newer producer's extra fields never dead-letter a message (docs/architecture.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from urllib.parse import unquote_plus

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import BatchTypeModels
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, ConfigDict, Field, Json, TypeAdapter, ValidationError

from shared.domain.errors import MalformedMessage
from shared.domain.events import DesignEventDetail
from shared.domain.inbox import DroppedObject
from shared.domain.messages import GenerationMessage
from shared.domain.webhooks import WebhookJob
from shared.observability import logger, metrics
from shared.providers.sagemaker import AsyncNotification, design_of_inference
from shared.services.webhook_dispatch import BusEvent


# --- batch processing ---------------------------------------------------------------------
class _ReportsMalformed:
    """Logs a record that failed its model (or a ``MalformedMessage`` from its handler) with a stable
    code; with ``acknowledge_malformed`` such a record is acknowledged instead of failed."""

    model: BatchTypeModels | None
    acknowledge_malformed = False

    def failure_handler(self, record: Any, exception: Any) -> Any:
        error = exception[1]
        expected = getattr(self.model, "__name__", None)
        if isinstance(error, MalformedMessage) or (
            isinstance(error, ValidationError) and error.title == expected
        ):
            where = (
                [".".join(str(part) for part in e["loc"]) for e in error.errors()[:5]]
                if isinstance(error, ValidationError)
                else [str(error)]
            )
            logger.error(
                "malformed queue message",
                extra={
                    "code": MalformedMessage.code,
                    "message_id": getattr(record, "message_id", None) or getattr(record, "messageId", None),
                    "expected": expected,
                    "problems": where,  # where, never the values: bodies may carry customer data
                    "acknowledged": self.acknowledge_malformed,
                },
            )
            metrics.add_metric(name="MalformedMessages", unit=MetricUnit.Count, value=1)
            if self.acknowledge_malformed:
                return self.success_handler(record, "malformed")  # type: ignore[attr-defined]
        return super().failure_handler(record, exception)  # type: ignore[misc]


class _SqsBatch(_ReportsMalformed, BatchProcessor):
    pass


class _AsyncSqsBatch(_ReportsMalformed, AsyncBatchProcessor):
    pass


def sqs_batch(model: type[SqsRecordModel], *, acknowledge_malformed: bool = False) -> BatchProcessor:
    """A processor for one SQS batch. Every handler builds one per invocation: it holds that batch's
    results, and the embedded local cloud runs one handler from several threads at once."""
    processor = _SqsBatch(event_type=EventType.SQS, model=model)
    processor.acknowledge_malformed = acknowledge_malformed
    return processor


def async_sqs_batch(model: type[SqsRecordModel]) -> AsyncBatchProcessor:
    """``sqs_batch`` for a handler whose records run at once (the dispatcher)."""
    return _AsyncSqsBatch(event_type=EventType.SQS, model=model)


def receive_count(record: SqsRecordModel) -> int:
    return int(record.attributes.ApproximateReceiveCount or 1)


# --- generate queue -----------------------------------------------------------------------
class GenerationRecord(SqsRecordModel):
    body: Json[GenerationMessage]


# --- ingest queue: S3 event notifications (S3 -> SQS) -------------------------------------
class _S3Object(BaseModel):
    key: str
    size: int | None = None
    eTag: str | None = None
    versionId: str | None = None


class _S3Bucket(BaseModel):
    name: str


class _S3Entity(BaseModel):
    bucket: _S3Bucket
    object: _S3Object


class _S3UserIdentity(BaseModel):
    principalId: str | None = None


class _S3Record(BaseModel):
    eventName: str
    eventTime: datetime
    s3: _S3Entity
    userIdentity: _S3UserIdentity | None = None
    """Who made the request (S3 sets it; shared.domain.inbox_writers checks it)."""


class S3Notification(BaseModel):
    """An S3 event notification with at least one record (Powertools' ``S3Model`` requires fields
    that Roomcraft does not read and that S3-compatible emulators leave out)."""

    Records: list[_S3Record] = Field(min_length=1)

    def dropped(self) -> list[DroppedObject]:
        """The ObjectCreated records (others, such as removals, are not drops)."""
        return [
            DroppedObject(
                bucket=record.s3.bucket.name,
                key=unquote_plus(record.s3.object.key),  # S3 URL-encodes keys in notifications
                etag=record.s3.object.eTag.strip('"') if record.s3.object.eTag else None,
                version_id=record.s3.object.versionId,
                size=record.s3.object.size,
                event_time=record.eventTime,
                writer=record.userIdentity.principalId if record.userIdentity else None,
            )
            for record in self.Records
            if record.eventName.startswith("ObjectCreated:")
        ]


class S3TestEvent(BaseModel):
    """What S3 sends first when a notification is configured: acknowledged and ignored."""

    Event: Literal["s3:TestEvent"]
    Bucket: str | None = None


class InboxRecord(SqsRecordModel):
    body: Json[S3Notification | S3TestEvent]

    def dropped(self) -> list[DroppedObject]:
        return self.body.dropped() if isinstance(self.body, S3Notification) else []


_INBOX_BODY = TypeAdapter[S3Notification | S3TestEvent](S3Notification | S3TestEvent)


def dropped_objects(body: str) -> list[DroppedObject]:
    """The drops of one ingest queue message body (``[]`` for ``s3:TestEvent``), for tools and tests
    that read the queue themselves; ``ValidationError`` for anything else."""
    notification = _INBOX_BODY.validate_json(body)
    return notification.dropped() if isinstance(notification, S3Notification) else []


# --- writeback queue: design status events (EventBridge -> SQS) ----------------------------
class DesignStatusEvent(BaseModel):
    """An EventBridge ``design.*`` event as an SQS target receives it; only ``detail`` is read."""

    model_config = ConfigDict(extra="ignore")

    detail: DesignEventDetail


class StatusEventRecord(SqsRecordModel):
    body: Json[DesignStatusEvent]


# --- webhook queue: bus events (EventBridge -> SQS) and the dispatcher's own jobs ----------
class WebhookQueueRecord(SqsRecordModel):
    body: Json[BusEvent | WebhookJob]


_WEBHOOK_QUEUE_BODY = TypeAdapter[BusEvent | WebhookJob](BusEvent | WebhookJob)


def webhook_queue_message(body: str) -> BusEvent | WebhookJob:
    """One webhook queue message body parsed, for tools and tests that read the queue themselves."""
    return _WEBHOOK_QUEUE_BODY.validate_json(body)


# --- inference events queue: SageMaker async notifications (SNS -> SQS) ---------------------
class _ResponseParameters(BaseModel):
    outputLocation: str | None = None
    failureLocation: str | None = None


class SageMakerNotification(BaseModel):
    """What SageMaker publishes to the endpoint's success or error topic."""

    inferenceId: str
    invocationStatus: str = ""
    failureReason: str | None = None
    responseParameters: _ResponseParameters | None = None

    def for_design(self) -> AsyncNotification | None:
        """The design it names and how its inference ended; ``None`` for an inference of no design."""
        named = design_of_inference(self.inferenceId)
        if named is None:
            return None
        response = self.responseParameters or _ResponseParameters()
        return AsyncNotification(
            tenant_id=named[0],
            design_id=named[1],
            failed=self.invocationStatus.lower() == "failed",
            reason=" ".join((self.failureReason or "").split())[:300],
            output_location=response.outputLocation or "",
            failure_location=response.failureLocation or "",
        )


class SnsNotification(BaseModel):
    """SNS's envelope as an SQS subscriber receives it (without raw message delivery). Powertools'
    ``SnsNotificationModel`` also requires the signing and unsubscribe fields, which are not read."""

    Type: Literal["Notification"]
    Message: Json[SageMakerNotification]


class InferenceEventRecord(SqsRecordModel):
    body: Json[SnsNotification | SageMakerNotification]

    @property
    def notification(self) -> SageMakerNotification:
        return self.body.Message if isinstance(self.body, SnsNotification) else self.body


# --- schedules ----------------------------------------------------------------------------
class ScheduledEvent(BaseModel):
    """An EventBridge schedule rule's event; nothing in it is read but what it is."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    source: Literal["aws.events"]
    detail_type: Literal["Scheduled Event"] = Field(alias="detail-type")


def scheduled_event(event: dict[str, Any]) -> ScheduledEvent:
    """``event`` parsed, or ``MalformedMessage`` (logged with its code) when it is not a schedule's."""
    try:
        return ScheduledEvent.model_validate(event)
    except ValidationError as error:
        logger.error(
            "not a scheduled event", extra={"code": MalformedMessage.code, "problems": error.error_count()}
        )
        raise MalformedMessage("the event is not an EventBridge scheduled event") from None
