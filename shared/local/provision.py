"""Create Roomcraft's resources in an AWS API emulator from ``shared.resources``.

The same specs drive the CDK app; ``tests/infra/test_parity.py`` checks the two agree.
Returns the environment (``ROOMCRAFT_*`` variables) that points the handlers at them.
"""

from __future__ import annotations

import json
from typing import Any

from shared.adapters.aws import session
from shared.resources import (
    BUCKETS,
    ENCRYPTION_KEYS,
    EVENT_BUS,
    EVENT_SOURCE,
    QUEUES,
    SCHEDULES,
    TABLES,
    UPLOADS_BUCKET,
    BucketSpec,
    QueueSpec,
    TableSpec,
    local_name,
)

DAY = 86400


def _client(service: str, endpoint_url: str | None, region: str) -> Any:
    return session().client(service, region_name=region, endpoint_url=endpoint_url)


def create_table(dynamodb: Any, spec: TableSpec, name: str) -> None:
    keys = [spec.hash_key] + ([spec.range_key] if spec.range_key else [])
    attributes = {k.name: k.type for k in keys}
    for index in spec.indexes:
        attributes[index.hash_key.name] = index.hash_key.type
        if index.range_key:
            attributes[index.range_key.name] = index.range_key.type
    request: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in attributes.items()],
        "KeySchema": [{"AttributeName": spec.hash_key.name, "KeyType": "HASH"}]
        + ([{"AttributeName": spec.range_key.name, "KeyType": "RANGE"}] if spec.range_key else []),
    }
    if spec.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": [{"AttributeName": index.hash_key.name, "KeyType": "HASH"}]
                + ([{"AttributeName": index.range_key.name, "KeyType": "RANGE"}] if index.range_key else []),
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in spec.indexes
        ]
    dynamodb.create_table(**request)
    if spec.ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute}
        )


def create_queue(sqs: Any, spec: QueueSpec, stage: str) -> tuple[str, str]:
    dlq_url = sqs.create_queue(
        QueueName=local_name(stage, spec.dlq_id),
        Attributes={"MessageRetentionPeriod": str(spec.dlq_retention_days * DAY)},
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName=local_name(stage, spec.id),
        Attributes={
            "VisibilityTimeout": str(spec.visibility_timeout_seconds),
            "MessageRetentionPeriod": str(spec.retention_days * DAY),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": spec.max_receive_count}
            ),
            "DelaySeconds": str(spec.delay_seconds),
        },
    )["QueueUrl"]
    return url, dlq_url


def create_bucket(s3: Any, spec: BucketSpec, name: str, region: str) -> None:
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    if spec.expire_prefixes:
        s3.put_bucket_lifecycle_configuration(
            Bucket=name,
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": f"expire-{prefix.strip('/')}",
                        "Filter": {"Prefix": prefix},
                        "Status": "Enabled",
                        "Expiration": {"Days": days},
                    }
                    for prefix, days in spec.expire_prefixes
                ]
            },
        )


def allow_browser_uploads(s3: Any, name: str, origins: tuple[str, ...]) -> None:
    """Browsers post room photos straight to the uploads bucket, from these origins only (the local
    web app's), as the stack allows the web app's CloudFront origin: never ``*``."""
    if "*" in origins:
        raise ValueError("the uploads bucket's CORS names its origins; '*' is not allowed")
    s3.put_bucket_cors(
        Bucket=name,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedMethods": ["POST"],
                    "AllowedOrigins": list(origins),
                    "AllowedHeaders": ["*"],
                    "MaxAgeSeconds": 3600,
                }
            ]
        },
    )


def put_notifications(s3: Any, spec: BucketSpec, name: str, queue_arns: dict[str, str]) -> None:
    """S3 -> SQS event notifications. (In AWS the queue policy must let S3 send; CDK adds it.)"""
    s3.put_bucket_notification_configuration(
        Bucket=name,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": notification.id,
                    "QueueArn": queue_arns[notification.target_queue],
                    "Events": list(notification.events),
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": notification.prefix}]}},
                }
                for notification in spec.notifications
            ]
        },
    )


def provision_resources(
    *,
    stage: str,
    endpoint_url: str | None,
    region: str = "us-east-1",
    upload_origins: tuple[str, ...] = (),
) -> dict[str, str]:
    """Create every resource; return ``{env var: physical name or URL}``. ``upload_origins``: the
    browser origins that may post to the uploads bucket (none: no CORS, scripts and the CLI only)."""
    env: dict[str, str] = {}
    dynamodb = _client("dynamodb", endpoint_url, region)
    for table in TABLES:
        name = local_name(stage, table.id)
        create_table(dynamodb, table, name)
        env[table.env_var] = name

    sqs = _client("sqs", endpoint_url, region)
    queue_arns: dict[str, str] = {}
    for queue in QUEUES:
        url, _ = create_queue(sqs, queue, stage)
        env[queue.env_var] = url
        queue_arns[queue.id] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    s3 = _client("s3", endpoint_url, region)
    for bucket in BUCKETS:
        name = local_name(stage, bucket.id)
        create_bucket(s3, bucket, name, region)
        if bucket.notifications:
            put_notifications(s3, bucket, name, queue_arns)
        if bucket.id == UPLOADS_BUCKET.id and upload_origins:
            allow_browser_uploads(s3, name, upload_origins)
        env[bucket.env_var] = name

    events = _client("events", endpoint_url, region)
    bus_name = local_name(stage, EVENT_BUS.id)
    events.create_event_bus(Name=bus_name)
    env[EVENT_BUS.env_var] = bus_name
    for rule in EVENT_BUS.rules:
        events.put_rule(
            Name=local_name(stage, rule.id),
            EventBusName=bus_name,
            Description=rule.description,
            EventPattern=json.dumps(rule.event_pattern(EVENT_SOURCE)),
        )
        events.put_targets(
            Rule=local_name(stage, rule.id),
            EventBusName=bus_name,
            Targets=[{"Id": rule.target_queue, "Arn": queue_arns[rule.target_queue]}],
        )

    # Schedule rules on the default bus, as the stack has them; the local cloud's timer runs their
    # functions (the emulator does not invoke functions on a schedule).
    for schedule in SCHEDULES:
        events.put_rule(
            Name=local_name(stage, schedule.id),
            Description=schedule.description,
            ScheduleExpression=schedule.expression,
        )

    kms = _client("kms", endpoint_url, region)
    for key in ENCRYPTION_KEYS:
        env[key.env_var] = kms.create_key(Description=key.description)["KeyMetadata"]["Arn"]
    return env
