"""The SageMaker provider: real-time InvokeEndpoint, or Asynchronous Inference for slow models.

``ROOMCRAFT_SAGEMAKER_MODE=realtime``: one ``InvokeEndpoint`` per design, completed inline
(SageMaker caps it at 60 s, so only for fast models). ``async``: the request JSON is written to
``work/{tenant}/{design}/sagemaker/request.json`` in the uploads bucket, ``InvokeEndpointAsync``
queues it and the design waits; it completes when the output object appears (the pipeline's
delayed checks read it) or when the endpoint's SNS notification nudges the worker
(``functions/inference_events``). The request and response a model container must speak are
``ContainerRequest`` / ``ContainerResponse`` below and in docs/providers.md.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, ReadTimeoutError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.adapters.aws import uncached_client
from shared.adapters.s3 import Bucket, read_uri
from shared.domain.errors import (
    ImageError,
    ProviderFailed,
    ProviderNotConfigured,
    ProviderOutputInvalid,
)
from shared.providers.base import Completed, GeneratedImage, GenerationOutcome, GenerationRequest, Pending
from shared.providers.outputs import CONTENT_TYPES, parse_retry_after
from shared.providers.retry import RetryPolicy, TransientFailure
from shared.settings import Settings

logger = Logger(service="roomcraft", child=True)

CONTENT_TYPE = "application/json"
CONTRACT_VERSION = "roomcraft.inference.v1"
INFERENCE_ID_MAX = 64
_ID_SEPARATOR = "|"


class ContainerRequest(BaseModel):
    """What the model container receives: the body of InvokeEndpoint, or the async input object."""

    model_config = ConfigDict(frozen=True)

    contract: str = CONTRACT_VERSION
    image: str
    """The prepared room photo: base64 of an sRGB JPEG, long edge ROOMCRAFT_MODEL_INPUT_LONG_EDGE."""
    width: int
    height: int
    prompt: str
    negative_prompt: str
    num_outputs: int = Field(ge=1, le=4)
    seed: int
    """Output ``i`` should use ``seed + i`` so a variant can be reproduced alone."""
    guidance_scale: float | None = None
    num_inference_steps: int | None = None
    room_type: str
    style: str
    palette: list[str]


class ContainerResponse(BaseModel):
    """What the container answers (HTTP 200, application/json), or writes as the async output."""

    model_config = ConfigDict(extra="ignore")

    images: list[str]
    """``num_outputs`` images, each base64 of a PNG, JPEG or WebP, in seed order."""
    inference_seconds: float | None = None
    """GPU time spent, for cost accounting; optional."""


def container_request(request: GenerationRequest) -> ContainerRequest:
    return ContainerRequest(
        image=base64.b64encode(request.image).decode("ascii"),
        width=request.width,
        height=request.height,
        prompt=request.prompt,
        negative_prompt=request.negative_prompt,
        num_outputs=request.variants,
        seed=request.seed,
        guidance_scale=request.guidance,
        num_inference_steps=request.steps,
        room_type=request.room_type,
        style=request.style,
        palette=list(request.palette),
    )


def inference_id(tenant_id: str, design_id: str) -> str | None:
    """The InferenceId sent with async requests; its SNS notification names the design by it."""
    value = f"{tenant_id}:{design_id}"
    return value if 0 < len(value) <= INFERENCE_ID_MAX and tenant_id and design_id else None


def design_of_inference(value: str) -> tuple[str, str] | None:
    tenant_id, _, design_id = value.partition(":")
    return (tenant_id, design_id) if tenant_id and design_id else None


class SageMakerProvider:
    """Implements ``PredictionProvider``: ``start`` completes inline (real-time) or is ``Pending`` (async)."""

    name = "sagemaker"
    typical_seconds = 25.0

    def __init__(
        self,
        settings: Settings,
        *,
        runtime: Any = None,
        work_bucket: Bucket | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._settings = settings
        self._retry = retry or RetryPolicy.from_settings(settings)
        self._runtime = runtime or uncached_client(
            "sagemaker-runtime",
            read_timeout=settings.sagemaker_invoke_timeout_seconds,
            endpoint_url=settings.sagemaker_runtime_endpoint_url,
        )
        self._work = work_bucket or Bucket(settings.uploads_bucket)
        self._max_response_bytes = settings.output_max_bytes * 6  # 4 images, base64

    def start(self, request: GenerationRequest) -> GenerationOutcome:
        body = container_request(request).model_dump_json().encode()
        if self._settings.sagemaker_mode == "async":
            return self._start_async(request, body)
        response = self._retry.run(lambda: self._invoke(body), what="invoking the SageMaker endpoint")
        return self._completed(response)

    def poll(self, prediction_id: str) -> GenerationOutcome:
        output_uri, _, rest = prediction_id.partition(_ID_SEPARATOR)
        failure_uri, _, notice_uri = rest.partition(_ID_SEPARATOR)
        max_bytes = self._max_response_bytes
        output = self._retry.run(
            lambda: _s3_call(lambda: read_uri(output_uri, max_bytes=max_bytes)),
            what="reading the async inference output",
        )
        if output is not None:
            return self._completed(output)
        if failure_uri:
            failure = self._retry.run(
                lambda: _s3_call(lambda: read_uri(failure_uri, max_bytes=64 * 1024)),
                what="reading the async inference failure",
            )
            if failure is not None:
                reason = " ".join(failure.decode("utf-8", "replace").split())[:300]
                raise ProviderFailed(f"the model failed: {reason or 'no reason given'}")
        if notice_uri:
            # SageMaker's error notification (recorded by functions/inference_events): some failures,
            # a timed-out invocation among them, write no failure object.
            notice = self._retry.run(
                lambda: _s3_call(lambda: read_uri(notice_uri, max_bytes=64 * 1024)),
                what="reading the async inference failure notice",
            )
            if notice is not None:
                reported = AsyncNotification.model_validate_json(notice)
                raise ProviderFailed(f"the model failed: {reported.reason or 'no reason given'}")
        return Pending(prediction_id=prediction_id)

    def record_failure(self, notification: AsyncNotification) -> None:
        """Keep SageMaker's error notification where ``poll`` reads it, so the design fails with
        its ``failureReason`` on the next check instead of waiting for the timeout."""
        key = notice_key(notification.tenant_id, notification.design_id)
        self._work.write(key, notification.model_dump_json().encode(), content_type=CONTENT_TYPE)

    def cancel(self, prediction_id: str) -> None:
        # Asynchronous Inference has no cancel API; RequestTTLSeconds / InvocationTimeoutSeconds
        # bound what an unwanted request can cost.
        logger.info("sagemaker async requests cannot be canceled", extra={"prediction_id": prediction_id})

    # --- real-time ------------------------------------------------------------------------
    def _invoke(self, body: bytes) -> bytes:
        try:
            response = self._runtime.invoke_endpoint(
                EndpointName=self._settings.sagemaker_endpoint,
                ContentType=CONTENT_TYPE,
                Accept=CONTENT_TYPE,
                Body=body,
            )
            data: bytes = response["Body"].read(self._max_response_bytes + 1)
        except ClientError as error:
            raise _classified(error) from error
        except (ReadTimeoutError, ConnectionError) as error:
            raise TransientFailure(f"the endpoint did not answer ({type(error).__name__})") from error
        except BotoCoreError as error:
            raise TransientFailure(f"the endpoint call failed ({type(error).__name__})") from error
        if len(data) > self._max_response_bytes:
            raise ProviderOutputInvalid(
                f"the endpoint's answer is larger than {self._max_response_bytes} bytes"
            )
        return data

    # --- asynchronous ---------------------------------------------------------------------
    def _start_async(self, request: GenerationRequest, body: bytes) -> Pending:
        key = f"work/{request.tenant_id}/{request.design_id}/sagemaker/request.json"
        self._work.write(key, body, content_type=CONTENT_TYPE)
        location = f"s3://{self._settings.uploads_bucket}/{key}"
        extra: dict[str, Any] = {}
        identifier = inference_id(request.tenant_id, request.design_id)
        if identifier:
            extra["InferenceId"] = identifier

        def invoke() -> dict[str, Any]:
            try:
                answer: dict[str, Any] = self._runtime.invoke_endpoint_async(
                    EndpointName=self._settings.sagemaker_endpoint,
                    ContentType=CONTENT_TYPE,
                    Accept=CONTENT_TYPE,
                    InputLocation=location,
                    RequestTTLSeconds=max(60, self._settings.prediction_timeout_seconds),
                    InvocationTimeoutSeconds=min(3600, max(1, self._settings.prediction_timeout_seconds)),
                    **extra,
                )
                return answer
            except ClientError as error:
                raise _classified(error) from error
            except BotoCoreError as error:
                # Queuing the same input again is harmless (no second GPU run is paid for twice
                # unless both are processed); the in-doubt window is one request.
                raise TransientFailure(f"the endpoint call failed ({type(error).__name__})") from error

        answer = self._retry.run(invoke, what="queuing an async SageMaker inference")
        output = str(answer.get("OutputLocation") or "")
        if not output.startswith("s3://"):
            raise ProviderFailed("SageMaker did not say where the async output will be written")
        failure = str(answer.get("FailureLocation") or "")
        logger.info(
            "sagemaker async inference queued",
            extra={"design_id": request.design_id, "inference_id": answer.get("InferenceId")},
        )
        notice = f"s3://{self._settings.uploads_bucket}/{notice_key(request.tenant_id, request.design_id)}"
        return Pending(prediction_id=_ID_SEPARATOR.join((output, failure, notice)))

    # --- results --------------------------------------------------------------------------
    def _completed(self, data: bytes) -> Completed:
        try:
            response = ContainerResponse.model_validate_json(data)
        except ValidationError as error:
            raise ProviderOutputInvalid(
                "the endpoint's answer does not follow the container contract "
                f"({error.error_count()} problem(s))"
            ) from None
        if not response.images:
            raise ProviderOutputInvalid("the endpoint answered without an image")
        images = tuple(self._image(encoded, index) for index, encoded in enumerate(response.images))
        seconds = max(0.0, response.inference_seconds or 0.0)
        return Completed(
            images=images,
            provider_seconds=seconds,
            estimated_cost_usd=round(seconds * self._settings.sagemaker_cost_per_second, 6),
        )

    def _image(self, encoded: str, index: int) -> GeneratedImage:
        return contract_image(
            encoded,
            index,
            settings=self._settings,
            answer="the endpoint's answer",
            metadata={"provider": "sagemaker", "endpoint": self._settings.sagemaker_endpoint},
        )


def contract_image(
    encoded: str, index: int, *, settings: Settings, answer: str, metadata: dict[str, str]
) -> GeneratedImage:
    """One base64 image of a ``roomcraft.inference.v1`` answer, checked like any untrusted image."""
    from shared.imaging.prepare import load_image, open_image

    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ProviderOutputInvalid(f"image {index} of {answer} is not base64") from None
    try:
        image, kind = open_image(data, max_bytes=settings.output_max_bytes, max_pixels=settings.max_pixels)
        with image:
            load_image(image)
    except ImageError as error:
        raise ProviderOutputInvalid(f"image {index} of {answer}: {error.message}") from None
    return GeneratedImage(
        data=data, content_type=CONTENT_TYPES.get(kind, "application/octet-stream"), metadata=metadata
    )


_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalDependencyException",
        "ModelNotReadyException",
        "RequestTimeout",
        "SlowDown",
    }
)


def _classified(error: ClientError) -> Exception:
    info = error.response.get("Error", {})
    code = str(info.get("Code", ""))
    message = " ".join(str(info.get("Message", "")).split())[:300]
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    original = error.response.get("OriginalStatusCode")
    if code in _TRANSIENT_CODES or status == 429 or status >= 500 or original in (429, 503):
        headers = error.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        return TransientFailure(
            f"SageMaker answered {code or status}: {message}",
            retry_after=parse_retry_after(headers.get("retry-after")),
        )
    if code == "ModelError":
        return ProviderFailed(f"the model container failed: {message}")
    if code in ("ValidationError", "AccessDeniedException", "UnrecognizedClientException"):
        return ProviderNotConfigured(f"SageMaker refused the call ({code}): {message}")
    return ProviderFailed(f"SageMaker answered {code or status}: {message}")


def _s3_call(operation: Any) -> Any:
    try:
        return operation()
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in ("AccessDenied", "NoSuchBucket"):
            raise ProviderNotConfigured(f"the async inference output cannot be read ({code})") from None
        raise TransientFailure(f"S3 answered {code}") from error
    except BotoCoreError as error:
        raise TransientFailure(f"S3 call failed ({type(error).__name__})") from error


ASYNC_PREFIX = "work/sagemaker-async/"
"""The prefix the worker may list (infra/stack.py): async outputs, failures, and failure notices."""


def notice_key(tenant_id: str, design_id: str) -> str:
    """Where a failed inference's SNS notification is kept: under the listable prefix, so a missing
    notice reads as "none" (404 after a listing), not as a refusal."""
    return f"{ASYNC_PREFIX}notices/{tenant_id}/{design_id}.json"


class AsyncNotification(BaseModel):
    """What Roomcraft reads of a SageMaker async notification (success or error topic)."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    design_id: str
    failed: bool
    reason: str = ""
    """``failureReason``, whitespace collapsed, at most 300 characters."""
    output_location: str = ""
    failure_location: str = ""
