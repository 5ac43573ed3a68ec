"""S3 as it answers a role without full ``s3:ListBucket`` (moto checks no IAM at all).

AWS answers GetObject/HeadObject of a missing key with 403 AccessDenied, not 404, unless the caller
may list the bucket; ``s3:ListBucket`` limited by an ``s3:prefix`` condition allows only listings
under those prefixes. ``deny_like_aws(client, listable=...)`` makes a boto3 S3 client (moto behind
it) answer that way, through botocore's ``before-call`` event, so the code under test meets the
same errors as in AWS.
"""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

ACCESS_DENIED = {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}


def _denied() -> tuple[AWSResponse, dict[str, Any]]:
    response = AWSResponse("https://s3.amazonaws.com", 403, {}, None)  # type: ignore[arg-type]
    return response, {**ACCESS_DENIED, "ResponseMetadata": {"HTTPStatusCode": 403}}


def deny_like_aws(s3: Any, *, listable: tuple[str, ...]) -> None:
    """``s3`` answers as it would to a role whose ``s3:ListBucket`` has ``s3:prefix`` = ``listable``."""
    import boto3

    unchecked = boto3.client("s3", region_name=s3.meta.region_name)  # the same moto backend

    def keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["api_params"] = dict(params)

    def exists(bucket: str, key: str) -> bool:
        try:
            unchecked.head_object(Bucket=bucket, Key=key)
        except ClientError:
            return False
        return True

    def check_get(context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        params = context.get("api_params", {})
        if not exists(params["Bucket"], params["Key"]):
            # Only a caller that may list the whole bucket (no prefix condition) is told 404.
            return _denied()
        return None

    def check_list(context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        prefix = str(context.get("api_params", {}).get("Prefix", ""))
        if not any(prefix.startswith(allowed) for allowed in listable):
            return _denied()
        return None

    for operation in ("GetObject", "HeadObject", "ListObjectsV2"):
        s3.meta.events.register(f"before-parameter-build.s3.{operation}", keep_params)
    s3.meta.events.register("before-call.s3.GetObject", check_get)
    s3.meta.events.register("before-call.s3.HeadObject", check_get)
    s3.meta.events.register("before-call.s3.ListObjectsV2", check_list)
