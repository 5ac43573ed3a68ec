"""Parity: the embedded local cloud (``shared.local.provision``) creates what the template declares.

Both sides are reduced to the same shape (keys, indexes, TTL, queue settings and redrive, bucket
expiry, bus, rules and their targets) and compared. Local names follow ``local_name(stage, id)``;
template resources are matched to specs through the stack's constructs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from shared.local.provision import provision_resources
from shared.resources import BUCKETS, EVENT_BUS, QUEUES, SCHEDULES, TABLES, local_name
from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra

STAGE = "test"  # the stage of the synthesized stack, so bus names match too
REGION = "us-east-1"


def _index_shape(keys: list[dict[str, str]], projection: dict[str, Any]) -> dict[str, Any]:
    return {
        "keys": [(k["AttributeName"], k["KeyType"]) for k in keys],
        "projection": projection["ProjectionType"],
    }


def template_shape(synth: Synthesized) -> dict[str, Any]:
    stack = synth.stack
    queue_ids = {synth.logical_id(pair.queue): spec_id for spec_id, pair in stack.pipeline.queues.items()}
    shape: dict[str, Any] = {"tables": {}, "queues": {}, "buckets": {}, "rules": {}}
    for table_spec in TABLES:
        props = synth.resource(stack.storage.tables[table_spec.id])["Properties"]
        shape["tables"][table_spec.id] = {
            "keys": [(k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]],
            "attributes": {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]},
            "indexes": {
                i["IndexName"]: _index_shape(i["KeySchema"], i["Projection"])
                for i in props.get("GlobalSecondaryIndexes", [])
            },
            "ttl": props.get("TimeToLiveSpecification", {}).get("AttributeName"),
            "billing": props["BillingMode"],
        }
    for queue in QUEUES:
        pair = stack.pipeline.queues[queue.id]
        props = synth.resource(pair.queue)["Properties"]
        shape["queues"][queue.id] = {
            "visibility": props["VisibilityTimeout"],
            "retention": props["MessageRetentionPeriod"],
            "max_receive_count": props["RedrivePolicy"]["maxReceiveCount"],
            "dlq": queue.dlq_id
            if props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0] == synth.logical_id(pair.dlq)
            else None,
            "dlq_retention": synth.resource(pair.dlq)["Properties"]["MessageRetentionPeriod"],
            "delay": props.get("DelaySeconds", 0),
        }
    for bucket in BUCKETS:
        rules = synth.resource(stack.storage.buckets[bucket.id])["Properties"]["LifecycleConfiguration"][
            "Rules"
        ]
        shape["buckets"][bucket.id] = sorted(
            (r["Prefix"], r["ExpirationInDays"]) for r in rules if "Prefix" in r
        )
    bucket_ids = {synth.logical_id(stack.storage.buckets[b.id]): b.id for b in BUCKETS}
    shape["notifications"] = {
        bucket_ids[props["BucketName"]["Ref"]]: _notifications_shape(
            props["NotificationConfiguration"], lambda arn: queue_ids[arn["Fn::GetAtt"][0]]
        )
        for props in (r["Properties"] for r in synth.resources("Custom::S3BucketNotifications").values())
    }
    shape["bus"] = synth.resource(stack.events.bus)["Properties"]["Name"]
    for rule_spec in EVENT_BUS.rules:
        props = synth.resource(stack.events.rules[rule_spec.id])["Properties"]
        (target,) = props["Targets"]
        shape["rules"][rule_spec.id] = {
            "pattern": props["EventPattern"],
            "description": props["Description"],
            "target": queue_ids[target["Arn"]["Fn::GetAtt"][0]],
        }
    shape["schedules"] = {}
    for schedule in SCHEDULES:
        props = synth.resource(stack.schedules.rules[schedule.id])["Properties"]
        shape["schedules"][schedule.id] = {
            "expression": props["ScheduleExpression"],
            "description": props["Description"],
            "bus": props.get("EventBusName", "default"),
        }
    return shape


def _notifications_shape(config: dict[str, Any], queue_of: Any) -> list[tuple[Any, ...]]:
    """S3 -> SQS notifications as (queue id, events, key filter rules)."""
    return sorted(
        (
            queue_of(q["QueueArn"]),
            tuple(sorted(q["Events"])),
            tuple(
                (r["Name"].lower(), r["Value"])
                for r in q.get("Filter", {}).get("Key", {}).get("FilterRules", [])
            ),
        )
        for q in config["QueueConfigurations"]
    )


@pytest.fixture(scope="module")
def local_shape() -> Iterator[dict[str, Any]]:
    with mock_aws():
        provision_resources(stage=STAGE, endpoint_url=None, region=REGION)
        yield describe_local()


def lifecycle_rules(s3: Any, bucket: str) -> list[dict[str, Any]]:
    try:
        return list(s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"])
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchLifecycleConfiguration":
            return []
        raise


def describe_local() -> dict[str, Any]:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    events = boto3.client("events", region_name=REGION)
    queue_ids = {}
    shape: dict[str, Any] = {"tables": {}, "queues": {}, "buckets": {}, "rules": {}}
    for table_spec in TABLES:
        table = dynamodb.describe_table(TableName=local_name(STAGE, table_spec.id))["Table"]
        ttl = dynamodb.describe_time_to_live(TableName=local_name(STAGE, table_spec.id))[
            "TimeToLiveDescription"
        ]
        shape["tables"][table_spec.id] = {
            "keys": [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]],
            "attributes": {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]},
            "indexes": {
                i["IndexName"]: _index_shape(i["KeySchema"], i["Projection"])
                for i in table.get("GlobalSecondaryIndexes", [])
            },
            "ttl": ttl.get("AttributeName") if ttl["TimeToLiveStatus"] == "ENABLED" else None,
            "billing": table["BillingModeSummary"]["BillingMode"],
        }
    for queue in QUEUES:
        url = sqs.get_queue_url(QueueName=local_name(STAGE, queue.id))["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        queue_ids[attributes["QueueArn"]] = queue.id
        redrive = json.loads(attributes["RedrivePolicy"])
        dlq_url = sqs.get_queue_url(QueueName=redrive["deadLetterTargetArn"].rsplit(":", 1)[1])["QueueUrl"]
        dlq = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"]
        shape["queues"][queue.id] = {
            "visibility": int(attributes["VisibilityTimeout"]),
            "retention": int(attributes["MessageRetentionPeriod"]),
            "max_receive_count": int(redrive["maxReceiveCount"]),
            "dlq": queue.dlq_id if dlq["QueueArn"].endswith(":" + local_name(STAGE, queue.dlq_id)) else None,
            "dlq_retention": int(dlq["MessageRetentionPeriod"]),
            "delay": int(attributes.get("DelaySeconds", 0)),
        }
    for bucket in BUCKETS:
        name = local_name(STAGE, bucket.id)
        s3.head_bucket(Bucket=name)
        shape["buckets"][bucket.id] = sorted(
            (r["Filter"]["Prefix"], r["Expiration"]["Days"]) for r in lifecycle_rules(s3, name)
        )
    shape["notifications"] = {}
    for bucket in BUCKETS:
        config = s3.get_bucket_notification_configuration(Bucket=local_name(STAGE, bucket.id))
        if config.get("QueueConfigurations"):
            shape["notifications"][bucket.id] = _notifications_shape(config, queue_ids.__getitem__)
    bus_name = local_name(STAGE, EVENT_BUS.id)
    shape["bus"] = events.describe_event_bus(Name=bus_name)["Name"]
    for rule_spec in EVENT_BUS.rules:
        rule = events.describe_rule(Name=local_name(STAGE, rule_spec.id), EventBusName=bus_name)
        (target,) = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus_name)["Targets"]
        shape["rules"][rule_spec.id] = {
            "pattern": json.loads(rule["EventPattern"]),
            "description": rule["Description"],
            "target": queue_ids[target["Arn"]],
        }
    shape["schedules"] = {}
    for schedule in SCHEDULES:
        rule = events.describe_rule(Name=local_name(STAGE, schedule.id))
        shape["schedules"][schedule.id] = {
            "expression": rule["ScheduleExpression"],
            "description": rule["Description"],
            "bus": rule.get("EventBusName", "default"),
        }
    return shape


@pytest.mark.parametrize(
    "kind", ["tables", "queues", "buckets", "notifications", "bus", "rules", "schedules"]
)
def test_local_cloud_matches_the_template(synth: Synthesized, local_shape: dict[str, Any], kind: str) -> None:
    assert local_shape[kind] == template_shape(synth)[kind]
