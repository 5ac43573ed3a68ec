"""The SageMaker provider: moto's sagemaker-runtime for the happy paths, and a local runtime that
honours the runtime API and the container contract for everything that can go wrong."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.sagemakerruntime.models import sagemakerruntime_backends

from shared.domain.errors import (
    ProviderFailed,
    ProviderNotConfigured,
    ProviderOutputInvalid,
    ProviderUnavailable,
)
from shared.inbound import SageMakerNotification
from shared.providers.base import Completed, GenerationRequest, Pending
from shared.providers.retry import RetryPolicy
from shared.providers.sagemaker import (
    ContainerRequest,
    ContainerResponse,
    SageMakerProvider,
)
from shared.settings import Settings, get_settings
from tests.conftest import room_photo
from tests.fakes.replicate_server import png
from tests.fakes.s3_permissions import deny_like_aws
from tests.fakes.sagemaker_runtime import ENDPOINT, OUTPUT_PREFIX, RESULTS_BUCKET, FakeSageMakerRuntime


def request(variants: int = 2) -> GenerationRequest:
    return GenerationRequest(
        design_id="dsn_01SM",
        tenant_id="tnt_default",
        image=room_photo(320, 240),
        width=320,
        height=240,
        room_type="kitchen",
        style="industrial",
        palette=("#2f2f2f", "#b87333"),
        prompt="an industrial kitchen",
        negative_prompt="blurry",
        variants=variants,
        seed=40,
        guidance=7.5,
    )


def quick_retry(sleeps: list[float] | None = None) -> RetryPolicy:
    return RetryPolicy(
        attempts=3,
        base_seconds=0.01,
        max_backoff_seconds=0.02,
        budget_seconds=20.0,
        sleep=sleeps.append if sleeps is not None else lambda _: None,
    )


def answer(count: int = 2) -> str:
    return ContainerResponse(
        images=[base64.b64encode(png()).decode()] * count, inference_seconds=3.0
    ).model_dump_json()


def provider(**overrides: object) -> SageMakerProvider:
    settings = get_settings().model_copy(
        update={"sagemaker_endpoint": ENDPOINT, "sagemaker_cost_per_second": 0.001, **overrides}
    )
    return SageMakerProvider(settings, retry=quick_retry())


# --- moto's sagemaker-runtime -----------------------------------------------------------------
@pytest.fixture
def moto_runtime(aws: dict[str, Any]) -> Any:
    backend = sagemakerruntime_backends["123456789012"]["us-east-1"]
    backend.results_queue.clear()
    backend.async_results_queue.clear()
    return backend


def test_realtime_invoke_completes_inline_through_moto(moto_runtime: Any) -> None:
    moto_runtime.results_queue.append((answer(2), "application/json", "AllTraffic", ""))
    outcome = provider().start(request(variants=2))
    assert isinstance(outcome, Completed)
    assert [image.content_type for image in outcome.images] == ["image/png", "image/png"]
    assert outcome.provider_seconds == 3.0
    assert outcome.estimated_cost_usd == pytest.approx(0.003)


def test_async_inference_through_moto_writes_the_input_then_reads_the_output(moto_runtime: Any) -> None:
    moto_runtime.async_results_queue.append((False, answer(2)))
    pending = provider(sagemaker_mode="async").start(request(variants=2))
    assert isinstance(pending, Pending)
    output, failure, notice = pending.prediction_id.split("|")
    assert notice.endswith("/work/sagemaker-async/notices/tnt_default/dsn_01SM.json")
    assert output.startswith("s3://")
    assert failure.startswith("s3://")
    written = (
        boto3.client("s3")
        .get_object(
            Bucket=get_settings().uploads_bucket, Key="work/tnt_default/dsn_01SM/sagemaker/request.json"
        )["Body"]
        .read()
    )
    assert ContainerRequest.model_validate_json(written).num_outputs == 2
    done = provider(sagemaker_mode="async").poll(pending.prediction_id)
    assert isinstance(done, Completed)
    assert len(done.images) == 2


def test_an_async_failure_object_fails_the_prediction(moto_runtime: Any) -> None:
    moto_runtime.async_results_queue.append((True, "model crashed: out of memory"))
    sagemaker = provider(sagemaker_mode="async")
    pending = sagemaker.start(request())
    assert isinstance(pending, Pending)
    with pytest.raises(ProviderFailed, match="out of memory"):
        sagemaker.poll(pending.prediction_id)


# --- a runtime that honours the contract ------------------------------------------------------
@pytest.fixture
def runtime(aws: dict[str, Any]) -> Iterator[FakeSageMakerRuntime]:
    with FakeSageMakerRuntime() as fake:
        yield fake


def local(
    runtime: FakeSageMakerRuntime, sleeps: list[float] | None = None, **overrides: object
) -> SageMakerProvider:
    settings = get_settings().model_copy(
        update={
            "sagemaker_endpoint": ENDPOINT,
            "sagemaker_runtime_endpoint_url": runtime.url,
            "sagemaker_invoke_timeout_seconds": 0.5,
            **overrides,
        }
    )
    return SageMakerProvider(settings, retry=quick_retry(sleeps))


def test_the_container_receives_the_documented_request(runtime: FakeSageMakerRuntime) -> None:
    outcome = local(runtime).start(request(variants=2))
    assert isinstance(outcome, Completed)
    assert len(outcome.images) == 2
    (call,) = runtime.requests
    assert call["path"] == f"/endpoints/{ENDPOINT}/invocations"
    sent = json.loads(call["body"])
    assert sent["contract"] == "roomcraft.inference.v1"
    assert base64.b64decode(sent["image"])[:3] == b"\xff\xd8\xff"
    assert {k: sent[k] for k in ("num_outputs", "seed", "guidance_scale", "style", "palette")} == {
        "num_outputs": 2,
        "seed": 40,
        "guidance_scale": 7.5,
        "style": "industrial",
        "palette": ["#2f2f2f", "#b87333"],
    }


def test_throttling_is_retried(runtime: FakeSageMakerRuntime) -> None:
    sleeps: list[float] = []
    runtime.fail(429, "ThrottlingException", message="Rate exceeded")
    assert isinstance(local(runtime, sleeps).start(request()), Completed)
    assert len(sleeps) == 1
    assert len(runtime.requests) == 2


def test_a_persistent_outage_is_provider_unavailable(runtime: FakeSageMakerRuntime) -> None:
    runtime.fail(503, "ServiceUnavailable", times=10)
    with pytest.raises(ProviderUnavailable):
        local(runtime).start(request())
    assert len(runtime.requests) == 3


def test_a_slow_endpoint_is_retried_after_the_read_timeout(runtime: FakeSageMakerRuntime) -> None:
    runtime.fail(200, "", delay=1.0)
    assert isinstance(local(runtime).start(request()), Completed)


def test_a_model_error_fails_the_design(runtime: FakeSageMakerRuntime) -> None:
    runtime.fail(424, "ModelError", message="Received server error (500) from model")
    with pytest.raises(ProviderFailed, match="model container failed"):
        local(runtime).start(request())
    assert len(runtime.requests) == 1


def test_an_unknown_endpoint_is_a_configuration_error(runtime: FakeSageMakerRuntime) -> None:
    with pytest.raises(ProviderNotConfigured, match="not found"):
        local(runtime, sagemaker_endpoint="no-such-endpoint").start(request())


@pytest.mark.parametrize(
    "reply",
    [
        b'{"unexpected": true}',
        b"not json",
        ContainerResponse(images=[]).model_dump_json().encode(),
        ContainerResponse(images=[base64.b64encode(b"<html>oops</html>").decode()])
        .model_dump_json()
        .encode(),
        b'{"images": ["***not base64***"]}',
    ],
    ids=["wrong-shape", "not-json", "no-image", "not-an-image", "not-base64"],
)
def test_answers_outside_the_contract_are_invalid_output(runtime: FakeSageMakerRuntime, reply: bytes) -> None:
    runtime.model = lambda _request: reply
    with pytest.raises(ProviderOutputInvalid) as raised:
        local(runtime).start(request())
    assert raised.value.code == "provider_output_invalid"


def test_async_waits_for_the_output_object(runtime: FakeSageMakerRuntime) -> None:
    runtime.async_mode = "hold"
    sagemaker = local(runtime, sagemaker_mode="async")
    pending = sagemaker.start(request())
    assert isinstance(pending, Pending)
    call = runtime.requests[0]
    assert call["headers"]["X-Amzn-SageMaker-Inference-Id"] == "tnt_default:dsn_01SM"
    assert sagemaker.poll(pending.prediction_id) == pending
    runtime.finish(pending.prediction_id.split("|")[0])
    assert isinstance(sagemaker.poll(pending.prediction_id), Completed)


def test_cancel_is_a_logged_no_op_for_async_requests(runtime: FakeSageMakerRuntime) -> None:
    local(runtime).cancel("s3://bucket/out.out")  # no API exists; nothing raises


def test_settings_default_to_realtime() -> None:
    assert Settings().sagemaker_mode == "realtime"


# --- S3 as AWS answers the worker's role (issue 14, item 1) -----------------------------------
@pytest.fixture
def s3_as_in_aws(runtime: FakeSageMakerRuntime) -> Any:
    """The worker's S3 client answering like AWS to its role: a missing key is 403 AccessDenied,
    and only listings under the async prefix are allowed (infra/stack.py)."""
    from shared.adapters.aws import client

    s3 = client("s3")
    deny_like_aws(s3, listable=("work/sagemaker-async/",))
    return s3


def test_an_unwritten_async_output_answered_403_is_still_pending(
    runtime: FakeSageMakerRuntime, s3_as_in_aws: Any
) -> None:
    runtime.async_mode = "hold"
    sagemaker = local(runtime, sagemaker_mode="async")
    pending = sagemaker.start(request())
    assert isinstance(pending, Pending)
    with pytest.raises(ClientError, match="AccessDenied"):  # what AWS answers, made visible
        s3_as_in_aws.get_object(Bucket=RESULTS_BUCKET, Key=f"{OUTPUT_PREFIX}missing.out")
    assert sagemaker.poll(pending.prediction_id) == pending
    runtime.finish(pending.prediction_id.split("|")[0])
    assert isinstance(sagemaker.poll(pending.prediction_id), Completed)


def test_an_async_failure_object_is_read_when_s3_answers_like_aws(
    runtime: FakeSageMakerRuntime, s3_as_in_aws: Any
) -> None:
    runtime.async_mode = "fail"
    sagemaker = local(runtime, sagemaker_mode="async")
    pending = sagemaker.start(request())
    assert isinstance(pending, Pending)
    with pytest.raises(ProviderFailed, match="device-side assert"):
        sagemaker.poll(pending.prediction_id)


def test_an_output_outside_the_listable_prefix_is_a_configuration_error(
    runtime: FakeSageMakerRuntime, s3_as_in_aws: Any
) -> None:
    sagemaker = local(runtime, sagemaker_mode="async")
    elsewhere = f"s3://{RESULTS_BUCKET}/elsewhere/out.out|s3://{RESULTS_BUCKET}/elsewhere/failure.out"
    with pytest.raises(ProviderNotConfigured, match="AccessDenied"):
        sagemaker.poll(elsewhere)


def test_a_failed_notification_fails_the_design_with_its_reason(
    runtime: FakeSageMakerRuntime, s3_as_in_aws: Any
) -> None:
    runtime.async_mode = "hold"  # a timed-out invocation writes no failure object
    sagemaker = local(runtime, sagemaker_mode="async")
    pending = sagemaker.start(request())
    assert isinstance(pending, Pending)
    assert sagemaker.poll(pending.prediction_id) == pending
    notification = SageMakerNotification.model_validate_json(
        json.dumps(
            {
                "invocationStatus": "Failed",
                "failureReason": "ClientError: Inference request timed out after 3600 seconds.",
                "inferenceId": "tnt_default:dsn_01SM",
                "requestParameters": {"endpointName": ENDPOINT},
                "eventSource": "aws:sagemaker",
            }
        )
    ).for_design()
    assert notification is not None
    assert notification.failed
    sagemaker.record_failure(notification)
    with pytest.raises(ProviderFailed, match="timed out after 3600 seconds"):
        sagemaker.poll(pending.prediction_id)
