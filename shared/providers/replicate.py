"""The Replicate provider: the official ``replicate`` client, webhooks back to the API, polling as a fallback.

``start`` creates the prediction(s) with a webhook to ``POST /v1/callbacks/replicate`` (completed
events only) and ``Prefer: wait=N``, so a short prediction completes inline; a longer one comes
back ``Pending`` and completes through the callback or the pipeline's delayed checks (``poll``).
Each variant gets its own prediction with seed ``seed + i`` (one-image models such as
``adirik/interior-design``, and FLUX, whose one seed draws a whole batch); a model with a
``num_outputs`` input gets one batched prediction when ``replicate_seed_per_variant`` is off. Every
create carries ``Cancel-After``, so Replicate stops a prediction nobody will collect.

The client runs over our own ``httpx.Client`` (no hidden retries, a timeout on every request);
``RetryPolicy`` does bounded retries with backoff, jitter and Retry-After. The API token comes
from Secrets Manager in the cloud (``ROOMCRAFT_REPLICATE_TOKEN_SECRET_ARN``) or from
``REPLICATE_API_TOKEN`` locally; it is never logged. Model choice and alternatives:
docs/providers.md.
"""

from __future__ import annotations

import base64
import io
import os
import re
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import replicate
from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict
from pydantic.v1 import ValidationError as PydanticV1ValidationError

from shared.domain.errors import (
    CallbackNotConfigured,
    ProviderCanceled,
    ProviderFailed,
    ProviderNotConfigured,
    ProviderOutputInvalid,
    ProviderTimeout,
    ProviderUnavailable,
    WebhookSignatureInvalid,
)
from shared.providers.base import Completed, GeneratedImage, GenerationOutcome, GenerationRequest, Pending
from shared.providers.outputs import OutputDownloader, parse_retry_after
from shared.providers.profiles import GENERIC_PROFILE as GENERIC_PROFILE
from shared.providers.profiles import PROFILES as PROFILES
from shared.providers.profiles import ModelProfile, model_seed, parameter_problems
from shared.providers.profiles import profile_for as profile_for
from shared.providers.retry import RetryPolicy, TransientFailure
from shared.settings import Settings

logger = Logger(service="roomcraft", child=True)

DEFAULT_BASE_URL = "https://api.replicate.com"
CALLBACK_PATH = "/v1/callbacks/replicate"
TOKEN_ENV = "REPLICATE_API_TOKEN"  # noqa: S105 - the variable's name, not a token
WEBHOOK_SECRET_ENV = "REPLICATE_WEBHOOK_SECRET"  # noqa: S105 - a variable name
MAX_OUTPUTS_PER_PREDICTION = 4
_TERMINAL = frozenset({"succeeded", "failed", "canceled", "aborted"})
DATA_URI_MAX_BYTES = 256 * 1024
"""Replicate takes inputs inline as data URIs up to about 256 KB; larger photos go up as files."""


# --- models ---------------------------------------------------------------------------------
# Profiles (input names, ranges, seeds, pricing) live in shared.providers.profiles, which is pure;
# GENERIC_PROFILE, PROFILES and profile_for are re-exported here for callers of this module.

PINNED_VERSIONS: dict[str, str] = {
    # Community models run a specific version; pinning it keeps results reproducible.
    "adirik/interior-design": "76604baddc85b1b4616e1c6475eca080da339c8875bd4996705440484a6eac38",
}


def model_and_version(settings: Settings) -> tuple[str, str]:
    """(``owner/name``, version id or "") from ``owner/name[:version]`` and ``replicate_version``."""
    model, _, version = settings.replicate_model.strip().partition(":")
    return model, version or settings.replicate_version or PINNED_VERSIONS.get(model.lower(), "")


class PredictionReport(BaseModel):
    """The part of a Replicate prediction we use: from the API or from a webhook body."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    status: str
    output: Any = None
    error: Any = None
    metrics: dict[str, Any] | None = None
    created_at: str | None = None
    started_at: str | None = None
    completed_at: str | None = None

    def seconds(self) -> float:
        """GPU time: ``metrics.predict_time``, else completed - started, else 0."""
        predict_time = (self.metrics or {}).get("predict_time")
        if isinstance(predict_time, int | float) and predict_time >= 0:
            return float(predict_time)
        started, completed = _parse_time(self.started_at), _parse_time(self.completed_at)
        if started and completed and completed >= started:
            return (completed - started).total_seconds()
        return 0.0


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


# --- credentials --------------------------------------------------------------------------------
def replicate_token(settings: Settings) -> str:
    """The API token: Secrets Manager in the cloud, ``REPLICATE_API_TOKEN`` locally."""
    if settings.replicate_token_secret_arn:
        from shared.adapters.secrets import read_secret

        return read_secret(settings.replicate_token_secret_arn, key="token")
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise ProviderNotConfigured(
            f"the replicate provider needs an API token: set {TOKEN_ENV} (locally) or "
            "ROOMCRAFT_REPLICATE_TOKEN_SECRET_ARN (in the cloud)"
        )
    return token


def token_available(settings: Settings) -> bool:
    return bool(settings.replicate_token_secret_arn or os.environ.get(TOKEN_ENV, "").strip())


_secret_lock = threading.Lock()
_fetched_secret: dict[str, str] = {}


def webhook_secret(settings: Settings, client: replicate.Client | None = None) -> str:
    """The webhook signing secret (``whsec_…``): configured, or asked once from Replicate's API."""
    if settings.replicate_webhook_secret_arn:
        from shared.adapters.secrets import read_secret

        try:
            return _signing_secret(read_secret(settings.replicate_webhook_secret_arn, key="key"))
        except ProviderNotConfigured as error:
            raise CallbackNotConfigured(f"Replicate callbacks cannot be verified: {error.message}") from None
    configured = os.environ.get(WEBHOOK_SECRET_ENV, "").strip()
    if configured:
        return _signing_secret(configured)
    base = settings.replicate_base_url or DEFAULT_BASE_URL
    with _secret_lock:
        if base in _fetched_secret:
            return _fetched_secret[base]
    try:
        api = client or build_client(settings)
        key = RetryPolicy.from_settings(settings).run(
            lambda: _call(lambda: api.webhooks.default.secret().key, creating=False),
            what="reading Replicate's webhook signing secret",
        )
    except ProviderNotConfigured as error:
        raise CallbackNotConfigured(f"Replicate callbacks cannot be verified: {error.message}") from None
    except ProviderUnavailable as error:
        raise ProviderUnavailable(f"Replicate callbacks cannot be verified yet: {error.message}") from None
    with _secret_lock:
        _fetched_secret[base] = key
    return key


def _signing_secret(value: str) -> str:
    if not value.startswith("whsec_"):
        # Still the deployment's placeholder: say so instead of refusing every callback as forged.
        raise CallbackNotConfigured(
            "the Replicate webhook signing secret is not set (expected whsec_…): store the key of "
            "GET /v1/webhooks/default/secret in ROOMCRAFT_REPLICATE_WEBHOOK_SECRET_ARN"
        )
    return value


def forget_webhook_secret() -> None:
    with _secret_lock:
        _fetched_secret.clear()


def verify_webhook(headers: Mapping[str, str], body: bytes, secret: str, *, tolerance: int) -> None:
    """Replicate's signature check (webhook-id / webhook-timestamp / webhook-signature, HMAC-SHA256).

    ``tolerance`` bounds the age of the timestamp, so a captured request cannot be replayed later.
    """
    from replicate.webhook import Webhooks, WebhookSigningSecret

    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookSignatureInvalid("the callback body is not UTF-8") from None
    try:
        Webhooks.validate(
            headers=dict(headers), body=text, secret=WebhookSigningSecret(key=secret), tolerance=tolerance
        )
    except ValueError as error:  # WebhookValidationError, bad base64 or a non-numeric timestamp
        raise WebhookSignatureInvalid(f"the callback signature is not valid: {_first_line(error)}") from None


def _first_line(error: Exception) -> str:
    # Never echo the secret (replicate's InvalidSecretKeyError message contains it).
    text = str(error).split("\n")[0]
    return re.sub(r"whsec_\S+", "whsec_…", text)[:200]


# --- HTTP ---------------------------------------------------------------------------------------
class ReplicateHttpError(Exception):
    def __init__(self, status: int, detail: str, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail
        self.retry_after = retry_after


def _raise_for_status(response: httpx.Response) -> None:
    """httpx response hook: errors leave as ``ReplicateHttpError`` with the Retry-After kept."""
    if response.status_code < 400:
        return
    response.read()
    detail = ""
    try:
        document = response.json()
        if isinstance(document, dict):
            parts = [str(document.get(key) or "") for key in ("title", "detail")]
            detail = ": ".join(part for part in parts if part)
    except ValueError:
        detail = response.text[:200]
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    if retry_after is None and response.status_code == 429:
        retry_after = throttle_reset_seconds(detail)
    raise ReplicateHttpError(response.status_code, detail[:300], retry_after)


_RESETS_IN = re.compile(r"(\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds?)\b", re.IGNORECASE)


def throttle_reset_seconds(detail: str) -> float | None:
    """Seconds from a 429's only hint, its detail (``"... resets in ~30s"``); None if it names none."""
    match = _RESETS_IN.search(detail)
    return float(match.group(1)) if match else None


def _with_cancel_after(seconds: int) -> Callable[[httpx.Request], None]:
    """httpx request hook: every prediction create carries ``Cancel-After``, so Replicate itself
    stops (``aborted``/``canceled``) a prediction nobody will collect."""

    def hook(request: httpx.Request) -> None:
        if request.method == "POST" and re.fullmatch(
            r"/v1/(predictions|models/[^/]+/[^/]+/predictions|deployments/[^/]+/[^/]+/predictions)",
            request.url.path,
        ):
            request.headers["Cancel-After"] = f"{seconds}s"

    return hook


class _BoundedTransport(httpx.BaseTransport):
    """Every request gets a timeout (the client asks for none on uploads); a create that holds the
    connection open (``Prefer: wait=N``) gets N + 5 s to answer, not the client's N + 0.5 s."""

    def __init__(self, timeout: float) -> None:
        self._inner = httpx.HTTPTransport(retries=0)
        self._timeout = timeout

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        limits = dict(request.extensions.get("timeout") or {})
        for phase in ("connect", "read", "write", "pool"):
            if limits.get(phase) is None:
                limits[phase] = self._timeout
        match = re.search(r"wait=(\d+)", request.headers.get("prefer", ""))
        if match:
            limits["read"] = max(float(limits["read"]), int(match.group(1)) + 5.0)
        request.extensions["timeout"] = limits
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


class RoomcraftReplicateClient(replicate.Client):
    """The official client, over an httpx client without the library's built-in retries.

    (replicate's own transport retries GETs up to 10 times and sleeps any Retry-After, however
    long; our ``RetryPolicy`` bounds both.)
    """

    def __init__(
        self,
        *,
        token: str,
        base_url: str | None,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
        cancel_after_seconds: int | None = None,
    ) -> None:
        super().__init__(api_token=token, base_url=base_url)
        request_hooks = [_with_cancel_after(cancel_after_seconds)] if cancel_after_seconds else []
        self._http = httpx.Client(
            base_url=base_url or DEFAULT_BASE_URL,
            headers={"Authorization": f"Bearer {token}", "User-Agent": f"roomcraft replicate/{_version()}"},
            timeout=httpx.Timeout(timeout),
            transport=transport or _BoundedTransport(timeout),
            event_hooks={"request": request_hooks, "response": [_raise_for_status]},
        )

    @property
    def _client(self) -> httpx.Client:
        return self._http

    def close(self) -> None:
        self._http.close()


def _version() -> str:
    from importlib.metadata import version

    return version("replicate")


def build_client(settings: Settings) -> RoomcraftReplicateClient:
    return RoomcraftReplicateClient(
        token=replicate_token(settings),
        base_url=settings.replicate_base_url,
        timeout=settings.provider_request_timeout_seconds,
        cancel_after_seconds=max(5, settings.prediction_timeout_seconds),
    )


def _call(operation: Callable[[], Any], *, creating: bool) -> Any:
    """Run one client call, sorting failures into retryable and terminal."""
    try:
        return operation()
    except ReplicateHttpError as error:
        raise _classified(error, creating=creating) from error
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
        # Nothing reached Replicate: always safe to try again.
        raise TransientFailure(f"cannot reach Replicate ({type(error).__name__})") from error
    except (httpx.TimeoutException, httpx.TransportError) as error:
        if creating:
            # The request may have been accepted: trying again inline could start a second paid
            # prediction. Leave it to SQS redelivery (docs/providers.md: "in-doubt creates").
            raise ProviderUnavailable(
                f"Replicate did not answer the create request ({type(error).__name__}); retried later",
                details={"in_doubt": True},
            ) from error
        raise TransientFailure(f"Replicate did not answer ({type(error).__name__})") from error


def _classified(error: ReplicateHttpError, *, creating: bool) -> Exception:
    status, detail = error.status, error.detail or "no detail"
    if status == 429 or status >= 500:
        return TransientFailure(f"Replicate answered HTTP {status}: {detail}", retry_after=error.retry_after)
    if status in (401, 403):
        return ProviderNotConfigured(f"Replicate refused the API token (HTTP {status})")
    if status == 422 and creating and "version" in detail.lower():
        # "Invalid version or not permitted": the configured version is wrong or not ours to run.
        return ProviderNotConfigured(f"Replicate refused the configured model version (HTTP 422): {detail}")
    if status == 404 and creating:
        return ProviderNotConfigured(f"Replicate does not know the configured model or version: {detail}")
    if status == 404:
        return ProviderFailed("Replicate no longer knows this prediction (HTTP 404)")
    return ProviderFailed(f"Replicate refused the request (HTTP {status}): {detail}")


# --- the provider -------------------------------------------------------------------------------
class ReplicateProvider:
    """Implements ``PredictionProvider`` (start, poll, cancel). Callbacks only hand the design to the
    worker, which polls (shared/services/callbacks.py)."""

    name = "replicate"
    typical_seconds = 35.0

    def __init__(
        self,
        settings: Settings,
        *,
        client: replicate.Client | None = None,
        downloader: OutputDownloader | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._settings = settings
        self._model, self._version = model_and_version(settings)
        self._profile = profile_for(self._model)
        check_parameters(settings, self._profile)
        self._retry = retry or RetryPolicy.from_settings(settings)
        self._client = client
        self._client_lock = threading.Lock()
        self._downloader = downloader or OutputDownloader(
            allowed_hosts=settings.replicate_output_hosts,
            max_bytes=settings.output_max_bytes,
            max_pixels=settings.max_pixels,
            timeout=settings.output_download_timeout_seconds,
            retry=self._retry,
            allow_loopback=settings.loopback_urls_allowed,
            authorization=lambda: f"Bearer {replicate_token(settings)}",
        )

    @property
    def client(self) -> replicate.Client:
        """Built on first use, so a worker without a token fails the design, not the import."""
        with self._client_lock:
            if self._client is None:
                self._client = build_client(self._settings)
            return self._client

    # --- InferenceProvider ------------------------------------------------------------------
    def start(self, request: GenerationRequest) -> GenerationOutcome:
        inputs = self.inputs_for(request)
        webhook = self.webhook_url(request)
        created: list[PredictionReport] = []
        try:
            for index, model_input in enumerate(inputs):
                last = index == len(inputs) - 1
                wait = self._settings.replicate_wait_seconds if last else 0
                created.append(self._create(model_input, webhook=webhook, wait=wait))
        except Exception:
            for report in created:  # a half-started fan-out: stop paying for the orphans
                self.cancel(report.id)
            raise
        ids = tuple(report.id for report in created)
        pending = Pending(prediction_id=ids[0], prediction_ids=ids if len(ids) > 1 else ())
        logger.info("replicate predictions created", extra={"design_id": request.design_id, "ids": ids})
        try:
            return self._complete_inline(created, pending)
        except (ProviderUnavailable, TransientFailure):
            # The predictions exist and their ids must be stored: finish them by callback or polling.
            return pending
        except Exception:
            for prediction_id in ids:
                self.cancel(prediction_id)
            raise

    def _complete_inline(self, created: list[PredictionReport], pending: Pending) -> GenerationOutcome:
        if created[-1].status not in _TERMINAL:
            return pending
        reports = [report if report.status in _TERMINAL else self._get(report.id) for report in created]
        outcomes = [self.outcome_of(report) for report in reports]
        if not all(isinstance(outcome, Completed) for outcome in outcomes):
            return pending
        done = [outcome for outcome in outcomes if isinstance(outcome, Completed)]
        return Completed(
            images=tuple(image for outcome in done for image in outcome.images),
            provider_seconds=sum(outcome.provider_seconds for outcome in done),
            estimated_cost_usd=sum(outcome.estimated_cost_usd for outcome in done),
        )

    def poll(self, prediction_id: str) -> GenerationOutcome:
        return self.outcome_of(self._get(prediction_id))

    def cancel(self, prediction_id: str) -> None:
        """Best effort and quick (one try): a prediction that finished meanwhile is left alone."""
        try:
            _call(lambda: self.client.predictions.cancel(prediction_id), creating=False)
        except Exception as error:  # never let a cleanup hide the real outcome
            logger.warning(
                "replicate cancel failed",
                extra={"prediction_id": prediction_id, "error": type(error).__name__},
            )

    # --- requests ---------------------------------------------------------------------------
    def inputs_for(self, request: GenerationRequest) -> list[dict[str, Any]]:
        """The model input of each prediction: one per variant unless the model has ``num_outputs``
        and its batch seed is acceptable (``replicate_seed_per_variant`` off, or one variant)."""
        profile = self._profile
        common: dict[str, Any] = dict(profile.defaults)
        common[profile.image] = self._image_input(request)
        common[profile.prompt] = request.prompt
        if profile.negative_prompt and request.negative_prompt:
            common[profile.negative_prompt] = request.negative_prompt
        if profile.guidance and request.guidance is not None:
            common[profile.guidance] = request.guidance
        if profile.steps and request.steps is not None:
            common[profile.steps] = request.steps
        common.update(self._settings.replicate_input_overrides)
        batched = profile.num_outputs and not (
            profile.seed_draws_batch and self._settings.replicate_seed_per_variant and request.variants > 1
        )
        if profile.num_outputs and batched:
            single = dict(common)
            single[profile.num_outputs] = request.variants
            if profile.seed:
                single[profile.seed] = model_seed(profile, request.seed)
            return [single]
        inputs = []
        for index in range(request.variants):
            one = dict(common)
            if profile.num_outputs:
                one[profile.num_outputs] = 1
            if profile.seed:
                one[profile.seed] = model_seed(profile, request.seed + index)
            inputs.append(one)
        return inputs

    def webhook_url(self, request: GenerationRequest) -> str | None:
        base = self._settings.api_base_url.rstrip("/")
        if not base:
            return None
        return f"{base}{CALLBACK_PATH}?tenant={quote(request.tenant_id)}&design={quote(request.design_id)}"

    def _image_input(self, request: GenerationRequest) -> str:
        mode = self._settings.replicate_image_input
        data_uri = "data:image/jpeg;base64," + base64.b64encode(request.image).decode("ascii")
        if mode == "file" or (mode == "auto" and len(data_uri) > DATA_URI_MAX_BYTES):
            upload = io.BytesIO(request.image)

            def send() -> str:
                upload.seek(0)
                created = self.client.files.create(
                    upload, filename=f"{request.design_id}.jpg", content_type="image/jpeg"
                )
                return str(created.urls["get"])

            url: str = self._retry.run(
                lambda: _call(send, creating=False), what="uploading the room photo to Replicate"
            )
            return url
        return data_uri

    def _create(self, model_input: dict[str, Any], *, webhook: str | None, wait: int) -> PredictionReport:
        params: dict[str, Any] = {}
        if webhook:
            params["webhook"] = webhook
            params["webhook_events_filter"] = ["completed"]
        if wait > 0:
            params["wait"] = min(int(wait), 60)
        model, version = self._model, self._version

        def create() -> Any:
            if version:
                # The version route sends Prefer: wait (client.predictions.create with model= drops it).
                return self.client.predictions.create(version=version, input=model_input, **params)
            return self.client.models.predictions.create(model=model, input=model_input, **params)

        try:
            prediction = self._retry.run(
                lambda: _call(create, creating=True), what="creating a Replicate prediction"
            )
        except PydanticV1ValidationError as error:
            # replicate 1.0.7's Prediction model knows no "aborted" status; the create still happened.
            if "aborted" in str(error):
                raise ProviderTimeout(
                    "Replicate aborted the prediction before it ran (its deadline passed)"
                ) from None
            raise ProviderFailed(
                "Replicate answered the create with a prediction the client cannot read"
            ) from None
        return _report(prediction)

    def _get(self, prediction_id: str) -> PredictionReport:
        # The prediction's JSON as Replicate sends it: the client's own model refuses statuses it
        # does not know yet ("aborted").
        def get() -> Any:
            return self.client._client.get(f"/v1/predictions/{quote(prediction_id, safe='')}").json()

        prediction = self._retry.run(
            lambda: _call(get, creating=False), what="checking a Replicate prediction"
        )
        return _report(prediction)

    # --- results ----------------------------------------------------------------------------
    def outcome_of(self, report: PredictionReport) -> GenerationOutcome:
        if report.status in ("starting", "processing"):
            return Pending(prediction_id=report.id)
        if report.status == "failed":
            raise ProviderFailed(
                f"the model failed: {_sanitize(report.error) or 'no reason given'}",
                details={"prediction_id": report.id},
            )
        if report.status == "canceled":
            raise ProviderCanceled(
                "the prediction was canceled at Replicate", details={"prediction_id": report.id}
            )
        if report.status == "aborted":
            # Stopped before it ran: its Cancel-After deadline (our prediction timeout) passed.
            raise ProviderTimeout(
                "Replicate aborted the prediction before it ran (its deadline passed)",
                details={"prediction_id": report.id},
            )
        if report.status != "succeeded":
            raise ProviderFailed(f"Replicate reported an unknown status {report.status!r}")
        urls = output_urls(report.output)[self._profile.skip_outputs :][:MAX_OUTPUTS_PER_PREDICTION]
        if not urls:
            raise ProviderOutputInvalid(
                "the prediction succeeded without an image", details={"prediction_id": report.id}
            )
        metadata = {
            "provider": "replicate",
            "prediction-id": report.id,
            "model": self._model,
        }
        images: tuple[GeneratedImage, ...] = tuple(
            self._downloader.download(url, metadata=metadata) for url in urls
        )
        seconds = report.seconds()
        return Completed(
            images=images,
            provider_seconds=seconds,
            estimated_cost_usd=estimated_cost(
                self._settings, self._profile, images=len(images), seconds=seconds
            ),
        )


def estimated_cost(settings: Settings, profile: ModelProfile, *, images: int, seconds: float) -> float:
    """USD of one prediction: per output image (official models) or per GPU second (community)."""
    unit = settings.replicate_pricing_unit or profile.pricing_unit
    price = settings.replicate_price_usd if settings.replicate_price_usd is not None else profile.price_usd
    return round(price * (images if unit == "image" else seconds), 6)


def check_parameters(settings: Settings, profile: ModelProfile) -> None:
    """Refuse, at startup, generation settings the model would refuse on every design."""
    problems = parameter_problems(
        profile,
        guidance=settings.generation_guidance,
        steps=settings.generation_steps,
        overrides=settings.replicate_input_overrides,
    )
    if problems:
        raise ProviderNotConfigured(
            f"the settings do not fit {settings.replicate_model}: " + "; ".join(problems)
        )


def output_urls(output: Any) -> list[str]:
    """Image URLs in a prediction's output: a URL, a list of URLs, or an object holding them."""
    if isinstance(output, str):
        return [output] if output.startswith(("https://", "http://")) else []
    if isinstance(output, list | tuple):
        return [url for item in output for url in output_urls(item)]
    if isinstance(output, dict):
        for key in ("images", "image", "output", "url"):
            if key in output:
                return output_urls(output[key])
    return []


def _report(prediction: Any) -> PredictionReport:
    if isinstance(prediction, Mapping):
        return PredictionReport.model_validate(prediction)
    return PredictionReport.model_validate(prediction.dict())


def _sanitize(error: Any) -> str:
    text = " ".join(str(error or "").split())
    return text[:300]
