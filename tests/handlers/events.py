"""Real-shaped Lambda events, as API Gateway (HTTP API, payload v2) and SQS deliver them."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from typing import Any

from shared.local.cloud import LambdaContext
from tests.conftest import TEST_API_KEY


def lambda_context(name: str = "roomcraft-test", timeout: int = 30) -> LambdaContext:
    return LambdaContext(function_name=name, memory_limit_in_mb=1024, timeout_seconds=timeout)


def http_api_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    query: str = "",
    request_id: str | None = None,
    api_key: str | None = TEST_API_KEY,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An HTTP API event; it carries the ``aws`` fixture's API key unless ``api_key`` says otherwise."""
    raw_body = json.dumps(body) if body is not None else None
    extra = {"authorization": f"Bearer {api_key}"} if api_key else {}
    extra |= {name.lower(): value for name, value in (headers or {}).items()}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {
            "host": "abc123.execute-api.us-east-1.amazonaws.com",
            "content-type": "application/json",
            "user-agent": "pytest",
            "x-forwarded-proto": "https",
            "x-forwarded-port": "443",
            **extra,
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "pytest",
            },
            "requestId": request_id or f"apigw-{uuid.uuid4().hex[:12]}",
            "routeKey": "$default",
            "stage": "$default",
            "time": "23/Nov/2026:12:00:00 +0000",
            "timeEpoch": int(time.time() * 1000),
        },
        "body": raw_body,
        "isBase64Encoded": False,
    }


def sqs_record(body: str, *, receive_count: int = 1, message_id: str | None = None) -> dict[str, Any]:
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": f"rh-{uuid.uuid4().hex}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": str(int(time.time() * 1000)),
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000)),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:roomcraft-test-generate",
        "awsRegion": "us-east-1",
    }


def s3_object_created(bucket: str, key: str, *, size: int, etag: str, event_time: str | None = None) -> str:
    """The SQS message body S3 sends for ``ObjectCreated:Put`` (AWS's documented shape; the key
    URL-encoded as S3 does)."""
    from urllib.parse import quote_plus

    return json.dumps(
        {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": "us-east-1",
                    "eventTime": event_time or time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                    "eventName": "ObjectCreated:Put",
                    "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
                    "requestParameters": {"sourceIPAddress": "203.0.113.9"},
                    "responseElements": {
                        "x-amz-request-id": "C3D13FE58DE4C810",
                        "x-amz-id-2": "FMyUVURIY8/Ig",
                    },
                    "s3": {
                        "s3SchemaVersion": "1.0",
                        "configurationId": "inbox-object-created",
                        "bucket": {
                            "name": bucket,
                            "ownerIdentity": {"principalId": "A3I5XTEXAMAI3E"},
                            "arn": f"arn:aws:s3:::{bucket}",
                        },
                        "object": {
                            "key": quote_plus(key),
                            "size": size,
                            "eTag": etag,
                            "sequencer": "0A1B2C3D4E5F678901",
                        },
                    },
                }
            ]
        }
    )


def s3_test_event(bucket: str) -> str:
    return json.dumps(
        {
            "Service": "Amazon S3",
            "Event": "s3:TestEvent",
            "Time": "2026-11-23T12:00:00.000Z",
            "Bucket": bucket,
            "RequestId": "5582815E1AEA5ADF",
            "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
        }
    )


def eventbridge_status_event(detail: dict[str, Any]) -> str:
    """An EventBridge event as it lands on an SQS target."""
    return json.dumps(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": f"design.{detail['status']}",
            "source": "roomcraft",
            "account": "123456789012",
            "time": "2026-11-23T12:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": detail,
        }
    )
