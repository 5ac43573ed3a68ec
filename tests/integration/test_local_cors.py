"""Issue 13: the local cloud's uploads bucket answers CORS for the local web app's origins only,
as the stack's does for the CloudFront origin (never '*'); other buckets have no CORS at all."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from shared.local.provision import provision_resources
from shared.resources import BUCKETS, UPLOADS_BUCKET, local_name

APP_ORIGINS = ("http://127.0.0.1:8788", "http://localhost:8788")


def cors_rules(s3: object, bucket: str) -> list[dict[str, object]] | None:
    try:
        return list(s3.get_bucket_cors(Bucket=bucket)["CORSRules"])  # type: ignore[attr-defined]
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchCORSConfiguration":
            raise
        return None


def test_uploads_accept_browser_posts_from_the_app_origins_only() -> None:
    with mock_aws():
        provision_resources(stage="cors", endpoint_url=None, upload_origins=APP_ORIGINS)
        s3 = boto3.client("s3", region_name="us-east-1")
        (rule,) = cors_rules(s3, local_name("cors", UPLOADS_BUCKET.id)) or []
        assert rule["AllowedOrigins"] == list(APP_ORIGINS)
        assert rule["AllowedMethods"] == ["POST"]
        for spec in BUCKETS:
            if spec.id != UPLOADS_BUCKET.id:
                assert cors_rules(s3, local_name("cors", spec.id)) is None, spec.id


def test_without_a_browser_origin_no_bucket_answers_cors() -> None:
    with mock_aws():
        provision_resources(stage="nocors", endpoint_url=None)
        s3 = boto3.client("s3", region_name="us-east-1")
        for spec in BUCKETS:
            assert cors_rules(s3, local_name("nocors", spec.id)) is None, spec.id


def test_any_origin_is_refused() -> None:
    with mock_aws(), pytest.raises(ValueError, match="'\\*' is not allowed"):
        provision_resources(stage="star", endpoint_url=None, upload_origins=("*",))
