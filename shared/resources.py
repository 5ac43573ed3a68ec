"""The one definition of Roomcraft's cloud resources.

Both the CDK app (``infra/``) and the embedded local cloud (``shared.local``) build their
tables, queues, buckets, bus and rules from these specs, and a parity test compares the two.
Pure data: no boto3, no CDK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

KeyType = Literal["S", "N"]


@dataclass(frozen=True)
class KeySpec:
    name: str
    type: KeyType = "S"


@dataclass(frozen=True)
class IndexSpec:
    name: str
    hash_key: KeySpec
    range_key: KeySpec | None = None


@dataclass(frozen=True)
class TableSpec:
    id: str
    """Logical id; the CDK construct id and the local table name suffix."""
    env_var: str
    """Environment variable through which functions learn the physical name."""
    hash_key: KeySpec
    range_key: KeySpec | None = None
    indexes: tuple[IndexSpec, ...] = ()
    ttl_attribute: str | None = None


@dataclass(frozen=True)
class QueueSpec:
    id: str
    env_var: str
    visibility_timeout_seconds: int
    max_receive_count: int
    """Deliveries before a message moves to the queue's dead-letter queue."""
    consumer: str
    """The function (folder under ``functions/``) that consumes this queue."""
    batch_size: int = 10
    retention_days: int = 4
    dlq_retention_days: int = 14
    delay_seconds: int = 0
    """Queue-wide delivery delay: every message (S3 notifications included) waits this long."""

    @property
    def dlq_id(self) -> str:
        return f"{self.id}-dlq"


@dataclass(frozen=True)
class BucketNotificationSpec:
    """S3 event notifications for keys under ``prefix``, sent to a queue of ``QUEUES``."""

    id: str
    prefix: str
    target_queue: str
    events: tuple[str, ...] = ("s3:ObjectCreated:*",)


@dataclass(frozen=True)
class BucketSpec:
    id: str
    env_var: str
    expire_prefixes: tuple[tuple[str, int], ...] = ()
    """(prefix, days) lifecycle expiry rules."""
    notifications: tuple[BucketNotificationSpec, ...] = ()


@dataclass(frozen=True)
class RuleSpec:
    id: str
    description: str
    detail_type_prefix: str
    target_queue: str
    detail_match: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Extra ``detail`` conditions: (field, accepted values), e.g. ``(("origin", ("s3",)),)``."""

    def event_pattern(self, source: str) -> dict[str, object]:
        """The EventBridge pattern of this rule (the CDK app and the local cloud both use it)."""
        pattern: dict[str, object] = {
            "source": [source],
            "detail-type": [{"prefix": self.detail_type_prefix}],
        }
        if self.detail_match:
            pattern["detail"] = {name: list(values) for name, values in self.detail_match}
        return pattern


@dataclass(frozen=True)
class BusSpec:
    id: str
    env_var: str
    source: str
    archive_retention_days: int = 30
    rules: tuple[RuleSpec, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class FunctionSpec:
    id: str
    """Folder under ``functions/``; the handler is ``handler.handler`` in it."""
    timeout_seconds: int
    memory_mb: int
    max_concurrency: int | None = None
    """SQS event-source maximum concurrency: how many copies may consume the queue at once."""


@dataclass(frozen=True)
class ScheduleSpec:
    """A function run on a fixed rate: an EventBridge schedule rule in AWS, a timer in the local cloud."""

    id: str
    description: str
    function: str
    rate_minutes: int

    @property
    def expression(self) -> str:
        return f"rate({self.rate_minutes} minute{'s' if self.rate_minutes != 1 else ''})"


@dataclass(frozen=True)
class EncryptionKeySpec:
    id: str
    env_var: str
    """Receives the key's ARN."""
    description: str


WORKER_TIMEOUT_SECONDS = 120
INGEST_TIMEOUT_SECONDS = 60
WRITEBACK_TIMEOUT_SECONDS = 60

SWEEPER_TIMEOUT_SECONDS = 60
DISPATCHER_TIMEOUT_SECONDS = 30
"""Covers one batch delivered concurrently with a 15 s per-request limit; the webhook queue's
visibility timeout (180 s) is 6x this, as AWS recommends for Lambda event sources."""

DESIGN_DEADLINE_SECONDS = 7200
"""A design not terminal this long after its creation is stale: the sweeper queues it again, and
fails it (refunded when no paid work happened) when it is still not terminal as long again later.
Well past the worst honest case: 4 deliveries 720 s apart plus a 900 s prediction."""
OPEN_DESIGN_SHARDS = 8
"""Partitions of the sparse open-designs index, so status writes do not all land on one key."""

DESIGNS_TABLE = TableSpec(
    id="designs",
    env_var="ROOMCRAFT_DESIGNS_TABLE",
    hash_key=KeySpec("tenant_id"),
    range_key=KeySpec("design_id"),
    # Sparse: only non-terminal designs carry ``open_shard``/``open_since``; the sweeper reads it.
    indexes=(IndexSpec("open-designs", hash_key=KeySpec("open_shard"), range_key=KeySpec("open_since")),),
)

UPLOADS_TABLE = TableSpec(
    id="uploads",
    env_var="ROOMCRAFT_UPLOADS_TABLE",
    hash_key=KeySpec("tenant_id"),
    range_key=KeySpec("upload_id"),
    ttl_attribute="expires_at_epoch",
)

INGESTS_TABLE = TableSpec(
    # One record per inbox object version (bucket/key#etag): the S3 inbox's idempotency key.
    id="ingests",
    env_var="ROOMCRAFT_INGESTS_TABLE",
    hash_key=KeySpec("ingest_key"),
    ttl_attribute="expires_at_epoch",
)


# Tenants, API keys, usage counters, batches, idempotency (docs/tenants.md).
TENANTS_TABLE = TableSpec(
    id="tenants",
    env_var="ROOMCRAFT_TENANTS_TABLE",
    hash_key=KeySpec("tenant_id"),
)

API_KEYS_TABLE = TableSpec(
    id="api-keys",
    env_var="ROOMCRAFT_API_KEYS_TABLE",
    hash_key=KeySpec("key_id"),
    indexes=(IndexSpec("by-tenant", hash_key=KeySpec("tenant_id"), range_key=KeySpec("key_id")),),
)

USAGE_TABLE = TableSpec(
    id="usage",
    env_var="ROOMCRAFT_USAGE_TABLE",
    hash_key=KeySpec("scope"),
    range_key=KeySpec("period"),
    ttl_attribute="expires_at_epoch",
)
"""Atomic counters: designs per tenant and per deployment per UTC day, requests per tenant per minute."""

BATCHES_TABLE = TableSpec(
    id="batches",
    env_var="ROOMCRAFT_BATCHES_TABLE",
    hash_key=KeySpec("tenant_id"),
    range_key=KeySpec("batch_id"),
)

IDEMPOTENCY_TABLE = TableSpec(
    id="idempotency",
    env_var="ROOMCRAFT_IDEMPOTENCY_TABLE",
    hash_key=KeySpec("id"),
    ttl_attribute="expiration",
)
"""Powertools idempotency records for ``Idempotency-Key`` on POST requests."""


# Webhook endpoints and their delivery log (docs/webhooks.md).
WEBHOOK_ENDPOINTS_TABLE = TableSpec(
    id="webhook-endpoints",
    env_var="ROOMCRAFT_WEBHOOK_ENDPOINTS_TABLE",
    hash_key=KeySpec("tenant_id"),
    range_key=KeySpec("endpoint_id"),
)

WEBHOOK_MESSAGES_TABLE = TableSpec(
    id="webhook-messages",
    env_var="ROOMCRAFT_WEBHOOK_MESSAGES_TABLE",
    hash_key=KeySpec("endpoint_key"),  # "{tenant_id}#{endpoint_id}": one endpoint's delivery log
    range_key=KeySpec("message_id"),
    ttl_attribute="expires_at_epoch",
)

TABLES: tuple[TableSpec, ...] = (
    DESIGNS_TABLE,
    UPLOADS_TABLE,
    INGESTS_TABLE,
    TENANTS_TABLE,
    API_KEYS_TABLE,
    USAGE_TABLE,
    BATCHES_TABLE,
    IDEMPOTENCY_TABLE,
    WEBHOOK_ENDPOINTS_TABLE,
    WEBHOOK_MESSAGES_TABLE,
)

GENERATE_QUEUE = QueueSpec(
    id="generate",
    env_var="ROOMCRAFT_GENERATE_QUEUE_URL",
    # At least 6x the worker timeout, as AWS recommends for Lambda event sources.
    visibility_timeout_seconds=6 * WORKER_TIMEOUT_SECONDS,
    max_receive_count=5,
    consumer="worker",
    # One design per invocation: a slow image server or provider holds only its own design's
    # invocation (bounded by the fetch deadline), never four other tenants' designs in the same
    # batch, and a timeout returns one message, not five (docs/architecture.md).
    batch_size=1,
)

WEBHOOK_QUEUE = QueueSpec(
    id="webhooks",
    env_var="ROOMCRAFT_WEBHOOK_QUEUE_URL",
    visibility_timeout_seconds=180,
    max_receive_count=10,
    consumer="dispatcher",
)

INGEST_QUEUE = QueueSpec(
    id="ingest",
    env_var="ROOMCRAFT_INGEST_QUEUE_URL",
    visibility_timeout_seconds=6 * INGEST_TIMEOUT_SECONDS,
    max_receive_count=5,
    consumer="ingest",
    # A settle window: a photo's sidecar (and a folder's roomcraft.json) copied in the same
    # `aws s3 cp --recursive` usually lands within seconds of the photo. See docs/inbox.md.
    delay_seconds=10,
)

WRITEBACK_QUEUE = QueueSpec(
    id="writeback",
    env_var="ROOMCRAFT_WRITEBACK_QUEUE_URL",
    visibility_timeout_seconds=6 * WRITEBACK_TIMEOUT_SECONDS,
    max_receive_count=5,
    consumer="writeback",
)

INFERENCE_EVENTS_QUEUE = QueueSpec(
    id="inference-events",
    env_var="ROOMCRAFT_INFERENCE_EVENTS_QUEUE_URL",
    # SageMaker Asynchronous Inference success/error SNS topics deliver here; each message
    # nudges the pipeline to read the output object now instead of at its next delayed check.
    visibility_timeout_seconds=6 * WORKER_TIMEOUT_SECONDS,
    max_receive_count=5,
    consumer="inference_events",
    batch_size=5,
)

QUEUES: tuple[QueueSpec, ...] = (
    GENERATE_QUEUE,
    WEBHOOK_QUEUE,
    INGEST_QUEUE,
    WRITEBACK_QUEUE,
    INFERENCE_EVENTS_QUEUE,
)

UPLOADS_BUCKET = BucketSpec(
    id="uploads",
    env_var="ROOMCRAFT_UPLOADS_BUCKET",
    expire_prefixes=(("uploads/", 7), ("work/", 7)),
)
OUTPUTS_BUCKET = BucketSpec(id="outputs", env_var="ROOMCRAFT_OUTPUTS_BUCKET")

INBOX_BUCKET = BucketSpec(
    # Partner-facing: inbox/{tenant}/... (drops), outbox/{tenant}/... (results, error reports),
    # quarantine/{tenant}/... (rejected originals). Why a bucket of its own: docs/inbox.md.
    id="inbox",
    env_var="ROOMCRAFT_INBOX_BUCKET",
    expire_prefixes=(("inbox/", 30), ("quarantine/", 30), ("outbox/", 90)),
    notifications=(
        BucketNotificationSpec(id="inbox-object-created", prefix="inbox/", target_queue=INGEST_QUEUE.id),
    ),
)

BUCKETS: tuple[BucketSpec, ...] = (UPLOADS_BUCKET, OUTPUTS_BUCKET, INBOX_BUCKET)

WEBHOOK_SECRETS_KEY = EncryptionKeySpec(
    id="webhook-secrets",
    env_var="ROOMCRAFT_WEBHOOK_SECRETS_KEY_ID",
    description="Encrypts webhook signing secrets at rest (encryption context: tenant and endpoint)",
)

ENCRYPTION_KEYS: tuple[EncryptionKeySpec, ...] = (WEBHOOK_SECRETS_KEY,)

EVENT_SOURCE = "roomcraft"

EVENT_BUS = BusSpec(
    id="events",
    env_var="ROOMCRAFT_EVENT_BUS_NAME",
    source=EVENT_SOURCE,
    rules=(
        RuleSpec(
            id="design-status-to-webhooks",
            description="Every design status event goes to the webhook dispatcher",
            detail_type_prefix="design.",
            target_queue=WEBHOOK_QUEUE.id,
        ),
        RuleSpec(
            id="inbox-designs-to-writeback",
            description="Finished designs dropped in the S3 inbox get their results written back",
            detail_type_prefix="design.",
            target_queue=WRITEBACK_QUEUE.id,
            detail_match=(("origin", ("s3",)), ("status", ("succeeded", "failed", "canceled"))),
        ),
        RuleSpec(
            id="batch-events-to-webhooks",
            description="Batch events (batch.completed) go to the webhook dispatcher",
            detail_type_prefix="batch.",
            target_queue=WEBHOOK_QUEUE.id,
        ),
        RuleSpec(
            id="endpoint-events-to-webhooks",
            description="Webhook endpoint events (endpoint.disabled) go to the webhook dispatcher",
            detail_type_prefix="endpoint.",
            target_queue=WEBHOOK_QUEUE.id,
        ),
    ),
)

FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(id="api", timeout_seconds=29, memory_mb=1024),
    # Bounded concurrency protects the GPU provider from a burst of queued designs.
    FunctionSpec(id="worker", timeout_seconds=WORKER_TIMEOUT_SECONDS, memory_mb=2048, max_concurrency=10),
    # S3 inbox: notifications -> designs, and finished designs -> outbox/.
    FunctionSpec(id="ingest", timeout_seconds=INGEST_TIMEOUT_SECONDS, memory_mb=512, max_concurrency=5),
    FunctionSpec(id="writeback", timeout_seconds=WRITEBACK_TIMEOUT_SECONDS, memory_mb=512, max_concurrency=5),
    # Delivers webhooks (docs/webhooks.md).
    FunctionSpec(
        id="dispatcher", timeout_seconds=DISPATCHER_TIMEOUT_SECONDS, memory_mb=512, max_concurrency=20
    ),
    # Runs the pipeline when a SageMaker async result is announced (docs/providers.md).
    FunctionSpec(
        id="inference_events", timeout_seconds=WORKER_TIMEOUT_SECONDS, memory_mb=2048, max_concurrency=5
    ),
    # Queues stale designs again or fails them, and publishes the age of the oldest open design.
    FunctionSpec(id="sweeper", timeout_seconds=SWEEPER_TIMEOUT_SECONDS, memory_mb=512),
)

SWEEP_STALE_DESIGNS = ScheduleSpec(
    id="sweep-stale-designs",
    description="Queue again, or fail with refund, designs not terminal after their deadline",
    function="sweeper",
    rate_minutes=5,
)

SCHEDULES: tuple[ScheduleSpec, ...] = (SWEEP_STALE_DESIGNS,)

OLDEST_OPEN_DESIGN_METRIC = "OldestOpenDesignAgeSeconds"
"""Published by the sweeper on every run (namespace ``Roomcraft``); the stack alarms on it."""


def local_name(stage: str, resource_id: str) -> str:
    """Physical name the embedded local cloud gives a resource."""
    return f"roomcraft-{stage}-{resource_id}"
