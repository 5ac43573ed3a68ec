"""Storage: one DynamoDB table per TableSpec and one bucket per BucketSpec, with their safety settings."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from shared.resources import BUCKETS, TABLES, UPLOADS_BUCKET
from tests.infra.conftest import TEST_CONFIG, Synthesized

pytestmark = pytest.mark.infra


def test_one_table_per_spec(synth: Synthesized) -> None:
    synth.template.resource_count_is("AWS::DynamoDB::Table", len(TABLES))


@pytest.mark.parametrize("spec", TABLES, ids=lambda spec: spec.id)
def test_table_matches_its_spec(synth: Synthesized, spec: Any) -> None:
    props = synth.resource(synth.stack.storage.tables[spec.id])["Properties"]
    keys = [{"AttributeName": spec.hash_key.name, "KeyType": "HASH"}]
    if spec.range_key:
        keys.append({"AttributeName": spec.range_key.name, "KeyType": "RANGE"})
    assert props["KeySchema"] == keys
    attributes = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    assert attributes[spec.hash_key.name] == spec.hash_key.type
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["DeletionProtectionEnabled"] is True
    if spec.ttl_attribute:
        assert props["TimeToLiveSpecification"] == {"AttributeName": spec.ttl_attribute, "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in props
    indexes = {index["IndexName"]: index for index in props.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == {index.name for index in spec.indexes}
    for index in spec.indexes:
        schema = indexes[index.name]["KeySchema"]
        assert schema[0] == {"AttributeName": index.hash_key.name, "KeyType": "HASH"}
        assert indexes[index.name]["Projection"] == {"ProjectionType": "ALL"}


def test_data_is_retained_when_the_stack_goes(synth: Synthesized) -> None:
    for resource in synth.resources("AWS::DynamoDB::Table").values():
        assert resource["DeletionPolicy"] == "Retain"
    for resource in synth.resources("AWS::S3::Bucket").values():
        assert resource["DeletionPolicy"] == "Retain"


def test_one_bucket_per_spec_plus_the_access_log_bucket(synth: Synthesized) -> None:
    # + the web app's bucket (infra/constructs/web.py, tested in test_web.py)
    synth.template.resource_count_is("AWS::S3::Bucket", len(BUCKETS) + 2)


@pytest.mark.parametrize("spec", BUCKETS, ids=lambda spec: spec.id)
def test_bucket_is_private_encrypted_logged_and_expires_its_prefixes(synth: Synthesized, spec: Any) -> None:
    bucket = synth.stack.storage.buckets[spec.id]
    props = synth.resource(bucket)["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert props["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": synth.logical_id(synth.stack.storage.access_logs)},
        "LogFilePrefix": f"s3/{spec.id}/",
    }
    rules = {rule["Id"]: rule for rule in props["LifecycleConfiguration"]["Rules"]}
    assert rules["abort-incomplete-uploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    for prefix, days in spec.expire_prefixes:
        rule = rules[f"expire-{prefix.strip('/')}"]
        assert rule["Prefix"] == prefix
        assert rule["ExpirationInDays"] == days
        assert rule["Status"] == "Enabled"
    assert len(rules) == 1 + len(spec.expire_prefixes)


def _deny_statements(synth: Synthesized, bucket_logical_id: str) -> list[dict[str, Any]]:
    for policy in synth.resources("AWS::S3::BucketPolicy").values():
        if policy["Properties"]["Bucket"] == {"Ref": bucket_logical_id}:
            return [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    raise AssertionError(f"no bucket policy for {bucket_logical_id}")


@pytest.mark.parametrize("bucket_id", [*(spec.id for spec in BUCKETS), "access-logs"])
def test_every_bucket_refuses_plain_http_and_old_tls(synth: Synthesized, bucket_id: str) -> None:
    storage = synth.stack.storage
    bucket = storage.access_logs if bucket_id == "access-logs" else storage.buckets[bucket_id]
    denies = _deny_statements(synth, synth.logical_id(bucket))
    conditions = [json.dumps(statement["Condition"]) for statement in denies]
    assert any('"aws:SecureTransport": "false"' in condition for condition in conditions)
    assert any('"s3:TlsVersion": 1.2' in condition for condition in conditions)
    assert all(
        statement["Principal"] == {"AWS": "*"} and statement["Action"] == "s3:*" for statement in denies
    )


def test_browsers_may_post_uploads_from_the_configured_origins_only(synth: Synthesized) -> None:
    props = synth.resource(synth.stack.storage.buckets[UPLOADS_BUCKET.id])["Properties"]
    (rule,) = props["CorsConfiguration"]["CorsRules"]
    # The web app posts photos from the distribution's own origin (tests/infra/test_web.py), first.
    assert rule["AllowedOrigins"][1:] == list(TEST_CONFIG.cors_allowed_origins)
    assert rule["AllowedMethods"] == ["POST"]
    others = [spec for spec in BUCKETS if spec.id != UPLOADS_BUCKET.id]
    for spec in others:
        assert "CorsConfiguration" not in synth.resource(synth.stack.storage.buckets[spec.id])["Properties"]


def test_access_log_bucket_accepts_cloudfront_logs_and_expires_them(synth: Synthesized) -> None:
    props = synth.resource(synth.stack.storage.access_logs)["Properties"]
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerPreferred"}]
    assert props["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == TEST_CONFIG.log_retention_days
    synth.template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Principal": {"Service": "logging.s3.amazonaws.com"},
                                "Action": "s3:PutObject",
                                "Effect": "Allow",
                            }
                        )
                    ]
                )
            }
        },
    )
