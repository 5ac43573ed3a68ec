"""Inference providers in the stack: callbacks, the polling fallback, SageMaker async notifications."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from infra.config import DeploymentConfig
from infra.constructs.inference import Inference
from shared.resources import GENERATE_QUEUE, INFERENCE_EVENTS_QUEUE
from tests.infra.conftest import Synthesized
from tests.infra.test_functions_iam import reachable, statements

pytestmark = pytest.mark.infra


def env(synth: Synthesized, function_id: str) -> dict[str, Any]:
    function = synth.stack.compute.functions[function_id]
    return dict(synth.resource(function)["Properties"]["Environment"]["Variables"])


def test_functions_that_start_predictions_know_the_callback_url(synth: Synthesized) -> None:
    api_url = json.dumps(env(synth, "worker")["ROOMCRAFT_API_BASE_URL"])
    # Providers call back through CloudFront (the API refuses calls that skip it: shared.api.edge).
    assert synth.logical_id(synth.stack.delivery.distribution) in api_url
    assert synth.logical_id(synth.stack.api.http_api) not in api_url
    assert (
        env(synth, "inference_events")["ROOMCRAFT_API_BASE_URL"]
        == env(synth, "worker")["ROOMCRAFT_API_BASE_URL"]
    )
    # The API's own function never starts a prediction, so it needs no callback URL.
    assert "ROOMCRAFT_API_BASE_URL" not in env(synth, "api")
    webhook_secret = {"Ref": synth.logical_id(synth.stack.inference.replicate_webhook_secret)}
    assert env(synth, "api")["ROOMCRAFT_REPLICATE_WEBHOOK_SECRET_ARN"] == webhook_secret


def test_inference_events_runs_the_pipeline_with_the_workers_grants(synth: Synthesized) -> None:
    generate = synth.logical_id(synth.stack.pipeline.queues[GENERATE_QUEUE.id].queue)
    inference = synth.logical_id(synth.stack.pipeline.queues[INFERENCE_EVENTS_QUEUE.id].queue)

    def grants(function_id: str) -> set[tuple[str, str]]:
        """(action, resource) pairs, without the function's own log group."""
        return {
            (action, json.dumps(resource, sort_keys=True))
            for statement in statements(synth, function_id)
            if not any(action.startswith("logs:") for action in statement["Action"])
            for action in statement["Action"]
            for resource in statement["Resource"]
        }

    consumed_here = {
        (action, resource.replace(inference, generate)) for action, resource in grants("inference_events")
    }
    # The same grants as the worker, except that it consumes its own queue instead of generate's.
    assert consumed_here == grants("worker")
    found = statements(synth, "inference_events")
    assert reachable(found, "sqs:DeleteMessage") == [{"Fn::GetAtt": [inference, "Arn"]}]
    assert reachable(found, "sqs:SendMessage") == [{"Fn::GetAtt": [generate, "Arn"]}]


def test_sagemaker_async_topics_are_tls_only_and_feed_the_inference_events_queue(synth: Synthesized) -> None:
    topics = synth.stack.inference.async_topics
    assert set(topics) == {"success", "error"}
    queue = synth.logical_id(synth.stack.pipeline.queues[INFERENCE_EVENTS_QUEUE.id].queue)
    for topic in topics.values():
        ref = {"Ref": synth.logical_id(topic)}
        (subscription,) = [
            s["Properties"]
            for s in synth.resources("AWS::SNS::Subscription").values()
            if s["Properties"]["TopicArn"] == ref
        ]
        assert subscription["Protocol"] == "sqs"
        assert subscription["Endpoint"] == {"Fn::GetAtt": [queue, "Arn"]}
        assert subscription.get("RawMessageDelivery") in (None, False)  # the handler reads the SNS envelope
        (policy,) = [
            p for p in synth.resources("AWS::SNS::TopicPolicy").values() if ref in p["Properties"]["Topics"]
        ]
        assert policy["Properties"]["PolicyDocument"]["Statement"][0]["Condition"] == {
            "Bool": {"aws:SecureTransport": "false"}
        }
    queue_policies = json.dumps(synth.resources("AWS::SQS::QueuePolicy"))
    assert all(synth.logical_id(topic) in queue_policies for topic in topics.values())
    outputs = synth.json["Outputs"]
    assert {
        "SageMakerAsyncSuccessTopicArn",
        "SageMakerAsyncErrorTopicArn",
        "ReplicateWebhookSecretArn",
    } <= set(outputs)


def test_no_async_topics_without_a_sagemaker_endpoint() -> None:
    stack = Stack(App(), "InferenceOnly")
    inference = Inference(stack, "Inference", config=DeploymentConfig(stage="test", provider="replicate"))
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SNS::Topic", 0)
    template.resource_count_is("AWS::SecretsManager::Secret", 2)
    assert inference.async_topics == {}


def test_generation_settings_chosen_at_deploy_reach_the_functions_that_start_predictions(
    synth: Synthesized,
) -> None:
    """Checked against the model's ranges at synth (tests/infra/test_config.py), then passed on."""
    for function_id in ("worker", "inference_events"):
        assert env(synth, function_id)["ROOMCRAFT_GENERATION_STEPS"] == "30"
        assert "ROOMCRAFT_GENERATION_GUIDANCE" not in env(synth, function_id)  # unset: model default
