"""The self-hosted provider: Roomcraft's own model server (inference/) over plain HTTP.

For a GPU you run yourself (``roomcraft inference serve``, or the SageMaker image run with
``docker run -p 8080:8080 IMAGE serve``): one ``POST {ROOMCRAFT_INFERENCE_URL}/invocations`` per
design, in the ``roomcraft.inference.v1`` contract of the SageMaker provider, completed inline.
"""

from __future__ import annotations

import httpx
from pydantic import ValidationError

from shared.domain.errors import ProviderFailed, ProviderNotConfigured, ProviderOutputInvalid
from shared.providers.base import Completed, GeneratedImage, GenerationRequest
from shared.providers.outputs import parse_retry_after
from shared.providers.retry import RetryPolicy, TransientFailure
from shared.providers.sagemaker import CONTENT_TYPE, ContainerResponse, container_request, contract_image
from shared.settings import Settings


class ServerResponse(ContainerResponse):
    model: str = ""
    """What the server ran, e.g. that it is the tiny random model; kept in the images' metadata."""


class SelfHostedProvider:
    """Implements ``InferenceProvider``: every ``start`` completes inline."""

    name = "selfhosted"
    typical_seconds = 20.0

    def __init__(
        self, settings: Settings, *, client: httpx.Client | None = None, retry: RetryPolicy | None = None
    ) -> None:
        if not settings.inference_url:
            raise ProviderNotConfigured("the selfhosted provider needs ROOMCRAFT_INFERENCE_URL")
        self._settings = settings
        self._url = settings.inference_url.rstrip("/") + "/invocations"
        self._retry = retry or RetryPolicy.from_settings(settings)
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(settings.inference_timeout_seconds, connect=5.0)
        )
        self._max_response_bytes = settings.output_max_bytes * 6  # 4 images, base64

    def start(self, request: GenerationRequest) -> Completed:
        body = container_request(request).model_dump_json().encode()
        data = self._retry.run(lambda: self._invoke(body), what="invoking the self-hosted model server")
        return self._completed(data)

    def _invoke(self, body: bytes) -> bytes:
        try:
            with self._client.stream(
                "POST",
                self._url,
                content=body,
                headers={"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE},
            ) as response:
                if response.status_code != 200:
                    reason = " ".join(response.read()[:600].decode("utf-8", "replace").split())[:300]
                    raise _classified(response.status_code, reason, response.headers.get("retry-after"))
                data = bytearray()
                for chunk in response.iter_bytes():
                    data.extend(chunk)
                    if len(data) > self._max_response_bytes:
                        raise ProviderOutputInvalid(
                            f"the model server's answer is larger than {self._max_response_bytes} bytes"
                        )
                return bytes(data)
        except httpx.TimeoutException as error:
            raise TransientFailure(
                f"the model server did not answer in time ({type(error).__name__})"
            ) from error
        except httpx.TransportError as error:
            raise TransientFailure(f"the model server cannot be reached ({type(error).__name__})") from error

    def _completed(self, data: bytes) -> Completed:
        try:
            response = ServerResponse.model_validate_json(data)
        except ValidationError as error:
            raise ProviderOutputInvalid(
                f"the model server's answer does not follow the contract ({error.error_count()} problem(s))"
            ) from None
        if not response.images:
            raise ProviderOutputInvalid("the model server answered without an image")
        images = tuple(
            self._image(encoded, index, response.model) for index, encoded in enumerate(response.images)
        )
        return Completed(images=images, provider_seconds=max(0.0, response.inference_seconds or 0.0))

    def _image(self, encoded: str, index: int, model: str) -> GeneratedImage:
        metadata = {"provider": "selfhosted", "model_server": self._settings.inference_url}
        if model:
            metadata["model"] = model[:200]
        return contract_image(
            encoded, index, settings=self._settings, answer="the model server's answer", metadata=metadata
        )


def _classified(status: int, reason: str, retry_after: str | None) -> Exception:
    """503 (loading, busy), 429 and 5xx gateways are worth retrying; a 4xx is this request's fault."""
    if status in (429, 502, 503, 504):
        return TransientFailure(
            f"the model server answered {status}: {reason}", retry_after=parse_retry_after(retry_after)
        )
    if status == 404:
        return ProviderNotConfigured(
            "the model server has no /invocations (404); check ROOMCRAFT_INFERENCE_URL"
        )
    return ProviderFailed(f"the model server refused the request ({status}): {reason or 'no reason given'}")
