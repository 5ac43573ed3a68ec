"""Functions (runtime, tracing, logs, environment) and least privilege: each role holds only what it uses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import runtime
from infra.stack import SAGEMAKER_ASYNC_PREFIX
from shared.providers.sagemaker import ASYNC_PREFIX
from shared.resources import (
    BATCHES_TABLE,
    BUCKETS,
    DESIGNS_TABLE,
    EVENT_BUS,
    FUNCTIONS,
    GENERATE_QUEUE,
    IDEMPOTENCY_TABLE,
    OUTPUTS_BUCKET,
    QUEUES,
    TABLES,
    UPLOADS_BUCKET,
    UPLOADS_TABLE,
    USAGE_TABLE,
    WEBHOOK_ENDPOINTS_TABLE,
    WEBHOOK_MESSAGES_TABLE,
    WEBHOOK_QUEUE,
)
from tests.infra.conftest import TEST_CONFIG, Synthesized

pytestmark = pytest.mark.infra


def test_one_function_per_spec(synth: Synthesized) -> None:
    # + CDK's BucketNotificationsHandler, which sets the inbox bucket's S3 notification at deploy time,
    # + CDK's bucket-deployment function that copies the web app (tests/infra/test_web.py)
    synth.template.resource_count_is("AWS::Lambda::Function", len(FUNCTIONS) + 2)
    # + the AWS CLI layer of that bucket-deployment function
    synth.template.resource_count_is("AWS::Lambda::LayerVersion", 2)


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.id)
def test_function_matches_its_spec(synth: Synthesized, spec: Any) -> None:
    function = synth.stack.compute.functions[spec.id]
    props = synth.resource(function)["Properties"]
    assert props["Runtime"] == f"python{runtime.PYTHON_VERSION}"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "handler.handler"
    assert props["Timeout"] == spec.timeout_seconds
    assert props["MemorySize"] == spec.memory_mb
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["Layers"] == [{"Ref": synth.logical_id(synth.stack.compute.layer)}]
    log_group = synth.stack.compute.log_groups[spec.id]
    assert props["LoggingConfig"] == {"LogGroup": {"Ref": synth.logical_id(log_group)}}
    assert synth.resource(log_group)["Properties"]["RetentionInDays"] == TEST_CONFIG.log_retention_days


def test_layer_is_built_for_the_functions_runtime_and_architecture(synth: Synthesized) -> None:
    props = synth.resource(synth.stack.compute.layer)["Properties"]
    assert props["CompatibleRuntimes"] == [f"python{runtime.PYTHON_VERSION}"]
    assert props["CompatibleArchitectures"] == ["arm64"]


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.id)
def test_environment_names_every_resource_and_setting(synth: Synthesized, spec: Any) -> None:
    env = synth.resource(synth.stack.compute.functions[spec.id])["Properties"]["Environment"]["Variables"]
    stack = synth.stack
    for table in TABLES:
        assert env[table.env_var] == {"Ref": synth.logical_id(stack.storage.tables[table.id])}
    for queue in QUEUES:
        assert env[queue.env_var] == {"Ref": synth.logical_id(stack.pipeline.queues[queue.id].queue)}
    for bucket in BUCKETS:
        assert env[bucket.env_var] == {"Ref": synth.logical_id(stack.storage.buckets[bucket.id])}
    assert env[EVENT_BUS.env_var] == {"Ref": synth.logical_id(stack.events.bus)}
    assert env["ROOMCRAFT_STAGE"] == "test"
    assert env["ROOMCRAFT_PROVIDER"] == "sagemaker"
    assert env["ROOMCRAFT_SAGEMAKER_ENDPOINT"] == "Roomcraft-SDXL"
    assert env["ROOMCRAFT_REPLICATE_MODEL"] == TEST_CONFIG.replicate_model
    assert env["ROOMCRAFT_REPLICATE_TOKEN_SECRET_ARN"] == {
        "Ref": synth.logical_id(stack.inference.replicate_token)
    }
    assert env["POWERTOOLS_SERVICE_NAME"] == "roomcraft"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Roomcraft"
    assert env["POWERTOOLS_LOG_LEVEL"] == "INFO"


# ---- least privilege ----


def statements(synth: Synthesized, function_id: str) -> list[dict[str, Any]]:
    """Every Allow statement of the function's role, actions and resources as lists."""
    role = synth.stack.compute.functions[function_id].role
    assert role is not None
    role_ref = {"Ref": synth.logical_id(role)}
    found = []
    for policy in synth.resources("AWS::IAM::Policy").values():
        if role_ref in policy["Properties"].get("Roles", []):
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                assert statement["Effect"] == "Allow"
                as_list = {
                    key: value if isinstance(value, list) else [value]
                    for key, value in statement.items()
                    if key in {"Action", "Resource"}
                }
                found.append({**statement, **as_list})
    return found


def object_arn(synth: Synthesized, bucket_id: str, prefix: str) -> dict[str, Any]:
    bucket = synth.logical_id(synth.stack.storage.buckets[bucket_id])
    return {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, f"/{prefix}*"]]}


def reachable(found: list[dict[str, Any]], action: str) -> list[Any]:
    return [resource for s in found if action in s["Action"] for resource in s["Resource"]]


def mentions(found: list[dict[str, Any]], logical_id: str) -> bool:
    return logical_id in json.dumps(found)


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.id)
def test_roles_start_empty_and_trust_only_lambda(synth: Synthesized, spec: Any) -> None:
    role = synth.resource(synth.stack.compute.functions[spec.id].role)["Properties"]  # type: ignore[arg-type]
    assert "ManagedPolicyArns" not in role
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    found = statements(synth, spec.id)
    for statement in found:
        assert not any(action.endswith(":*") or action == "*" for action in statement["Action"]), statement
        if statement["Resource"] == ["*"]:
            assert set(statement["Action"]) == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    assert not reachable(found, "dynamodb:Scan")
    log_group = synth.logical_id(synth.stack.compute.log_groups[spec.id])
    assert reachable(found, "logs:PutLogEvents") == [{"Fn::GetAtt": [log_group, "Arn"]}]


def test_api_role(synth: Synthesized) -> None:
    found = statements(synth, "api")
    storage = synth.stack.storage
    tables = [
        {"Fn::GetAtt": [synth.logical_id(storage.tables[t.id]), "Arn"]}
        for t in (
            DESIGNS_TABLE,
            UPLOADS_TABLE,
            WEBHOOK_ENDPOINTS_TABLE,
            WEBHOOK_MESSAGES_TABLE,
            BATCHES_TABLE,  # tests/infra/test_tenancy.py
            IDEMPOTENCY_TABLE,
        )
    ]
    assert sorted(map(json.dumps, reachable(found, "dynamodb:PutItem"))) == sorted(map(json.dumps, tables))
    uploads = object_arn(synth, UPLOADS_BUCKET.id, "uploads/")
    assert reachable(found, "s3:PutObject") == [uploads]
    assert reachable(found, "s3:GetObject") == [uploads]
    uploads_bucket = {"Fn::GetAtt": [synth.logical_id(storage.buckets[UPLOADS_BUCKET.id]), "Arn"]}
    assert reachable(found, "s3:ListBucket") == [uploads_bucket]  # so HeadObject answers 404, not 403
    s3_actions = {a for s in found for a in s["Action"] if a.startswith("s3:")}
    assert s3_actions == {"s3:PutObject", "s3:GetObject", "s3:ListBucket"}
    generate = synth.logical_id(synth.stack.pipeline.queues[GENERATE_QUEUE.id].queue)
    webhooks = synth.logical_id(synth.stack.pipeline.queues[WEBHOOK_QUEUE.id].queue)
    assert reachable(found, "sqs:SendMessage") == [
        {"Fn::GetAtt": [generate, "Arn"]},
        {"Fn::GetAtt": [webhooks, "Arn"]},  # test events and replays (tests/infra/test_webhooks.py)
    ]
    assert not reachable(found, "sqs:ReceiveMessage")
    assert reachable(found, "events:PutEvents") == [
        {"Fn::GetAtt": [synth.logical_id(synth.stack.events.bus), "Arn"]}
    ]
    # Nothing of the worker's: no outputs bucket, no provider credentials, no model endpoint; only
    # the webhook signing secret, to verify provider callbacks (cancels go through the worker).
    assert not mentions(found, synth.logical_id(storage.buckets[OUTPUTS_BUCKET.id]))
    # ... and the edge secret, to refuse calls that skipped CloudFront and its WAF (shared.api.edge).
    assert sorted(json.dumps(r) for r in reachable(found, "secretsmanager:GetSecretValue")) == sorted(
        json.dumps({"Ref": synth.logical_id(secret)})
        for secret in (synth.stack.inference.replicate_webhook_secret, synth.stack.api.edge_secret)
    )
    assert not any(a.startswith("sagemaker:") for s in found for a in s["Action"])


def test_worker_role(synth: Synthesized) -> None:
    found = statements(synth, "worker")
    storage = synth.stack.storage
    designs = {"Fn::GetAtt": [synth.logical_id(storage.tables[DESIGNS_TABLE.id]), "Arn"]}
    settlement = [  # quota refunds and batch counting (tests/infra/test_tenancy.py)
        {"Fn::GetAtt": [synth.logical_id(storage.tables[t.id]), "Arn"]} for t in (USAGE_TABLE, BATCHES_TABLE)
    ]
    assert reachable(found, "dynamodb:UpdateItem") == [designs, *settlement]
    assert not mentions(found, synth.logical_id(storage.tables[UPLOADS_TABLE.id]))
    as_set = lambda resources: sorted(map(json.dumps, resources))  # noqa: E731
    assert as_set(reachable(found, "s3:GetObject")) == as_set(
        [
            object_arn(synth, UPLOADS_BUCKET.id, "uploads/"),
            object_arn(synth, UPLOADS_BUCKET.id, "work/"),
            object_arn(synth, "inbox", "inbox/"),  # originals of designs dropped in the S3 inbox
        ]
    )
    assert as_set(reachable(found, "s3:PutObject")) == as_set(
        [object_arn(synth, UPLOADS_BUCKET.id, "work/"), object_arn(synth, OUTPUTS_BUCKET.id, "")]
    )
    assert {a for s in found for a in s["Action"] if a.startswith("s3:")} == {
        "s3:PutObject",
        "s3:GetObject",
        "s3:ListBucket",
    }
    generate = synth.logical_id(synth.stack.pipeline.queues[GENERATE_QUEUE.id].queue)
    # Sends only its own delayed "check the prediction" messages (the polling fallback).
    assert reachable(found, "sqs:SendMessage") == [{"Fn::GetAtt": [generate, "Arn"]}]
    assert reachable(found, "sqs:DeleteMessage") == [{"Fn::GetAtt": [generate, "Arn"]}]
    assert reachable(found, "events:PutEvents") == [
        {"Fn::GetAtt": [synth.logical_id(synth.stack.events.bus), "Arn"]}
    ]
    secret = {"Ref": synth.logical_id(synth.stack.inference.replicate_token)}
    assert reachable(found, "secretsmanager:GetSecretValue") == [secret]
    (endpoint,) = reachable(found, "sagemaker:InvokeEndpoint")
    assert reachable(found, "sagemaker:InvokeEndpointAsync") == [endpoint]
    # SageMaker ARNs carry the endpoint name in lower case.
    # (A plain string when the region is known, as in every deploy; a join of tokens otherwise.)
    arn = endpoint if isinstance(endpoint, str) else endpoint["Fn::Join"][1][-1]
    assert arn.endswith(":endpoint/roomcraft-sdxl")


def test_worker_may_list_only_the_sagemaker_async_prefix(synth: Synthesized) -> None:
    """S3 answers a missing key with 403 AccessDenied to a caller without s3:ListBucket, so the
    async check could not tell "not written yet" from "refused" (issue 14, item 1)."""
    uploads_bucket = {"Fn::GetAtt": [synth.logical_id(synth.stack.storage.buckets[UPLOADS_BUCKET.id]), "Arn"]}
    for function_id in ("worker", "inference_events"):
        (listing,) = [s for s in statements(synth, function_id) if "s3:ListBucket" in s["Action"]]
        assert listing["Action"] == ["s3:ListBucket"]
        assert listing["Resource"] == [uploads_bucket]
        assert listing["Condition"] == {"StringLike": {"s3:prefix": [f"{ASYNC_PREFIX}*"]}}
    assert SAGEMAKER_ASYNC_PREFIX == ASYNC_PREFIX == "work/sagemaker-async/"  # where the worker reads
