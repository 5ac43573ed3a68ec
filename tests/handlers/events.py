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
