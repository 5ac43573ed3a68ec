"""A design staged by Replicate end to end in one process: moto, the real pipeline, the real API's
callback route, and the real ``replicate`` client against the local Replicate-speaking server.

The callback route only hands the design to the worker (a job on the generate queue); the tests
take that job off the queue and run the pipeline on it, as the worker Lambda would."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient

from shared import bootstrap
from shared.api.app import create_app
from shared.bootstrap import workers
from shared.domain.design import Design
from shared.domain.messages import GenerationMessage
from shared.domain.status import DesignStatus
from shared.providers.replicate import forget_webhook_secret, replicate_token, webhook_secret
from shared.services.designs import DesignRequest
from shared.services.generation import RunResult
from shared.settings import get_settings
from tests.conftest import TEST_API_KEY, room_photo
from tests.fakes.replicate_server import FakeReplicate

TENANT = "tnt_default"


class Stack:
    def __init__(self, aws: dict[str, Any], fake: FakeReplicate, api: TestClient) -> None:
        self.aws = aws
        self.fake = fake
        self.api = api

    def design(self, *, variants: int = 1) -> Design:
        service = bootstrap.design_service()
        slot = service.create_upload(TENANT, content_type="image/jpeg")
        boto3.client("s3").put_object(
            Bucket=self.aws["ROOMCRAFT_UPLOADS_BUCKET"], Key=slot.upload.key, Body=room_photo()
        )
        request = DesignRequest(
            upload_id=slot.upload.upload_id, room_type="bedroom", style="japandi", seed=3, variants=variants
        )
        design = service.create(TENANT, request)
        assert [job.design_id for job in self.handed_off()] == [design.design_id]  # the tests run it
        return design

    def run(self, design: Design, *, receive_count: int = 1, check: str | None = None) -> RunResult:
        message = GenerationMessage(tenant_id=TENANT, design_id=design.design_id, check=check)
        return workers.generation_pipeline().run(message, receive_count=receive_count)

    def get(self, design: Design) -> Design:
        return bootstrap.design_service().get(TENANT, design.design_id)

    def post_webhook(self, url: str, headers: dict[str, str], body: bytes) -> Any:
        return self.api.post(url, content=body, headers=headers)

    def handed_off(self) -> list[GenerationMessage]:
        """Jobs waiting for the worker now, taken off the queue (delayed polling checks stay)."""
        sqs = boto3.client("sqs")
        url = self.aws["ROOMCRAFT_GENERATE_QUEUE_URL"]
        jobs: list[GenerationMessage] = []
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                jobs.append(GenerationMessage.model_validate_json(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return jobs

    def worker_takes_over(self, design: Design, *, receive_count: int = 1) -> RunResult:
        """The one job a callback queued for ``design``, run by the pipeline."""
        (job,) = self.handed_off()
        assert job == GenerationMessage(tenant_id=TENANT, design_id=design.design_id)  # no check token
        return self.run(design, receive_count=receive_count)

    def delayed_checks(self) -> int:
        attributes = boto3.client("sqs").get_queue_attributes(
            QueueUrl=self.aws["ROOMCRAFT_GENERATE_QUEUE_URL"],
            AttributeNames=["ApproximateNumberOfMessagesDelayed"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessagesDelayed"])


@pytest.fixture
def stack(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    with FakeReplicate(
        mode="hold", webhook_attempts=2, webhook_retry_delay=0.0, background_webhooks=False
    ) as fake:
        settings = {
            "ROOMCRAFT_PROVIDER": "replicate",
            "ROOMCRAFT_REPLICATE_BASE_URL": fake.url,
            "ROOMCRAFT_REPLICATE_OUTPUT_HOSTS": '["127.0.0.1"]',
            "ROOMCRAFT_ALLOW_LOOPBACK_URLS": "true",
            "ROOMCRAFT_API_BASE_URL": "http://testserver",
            "ROOMCRAFT_PROVIDER_BACKOFF_BASE_SECONDS": "0.01",
            "ROOMCRAFT_PROVIDER_BACKOFF_MAX_SECONDS": "0.02",
            "ROOMCRAFT_PROVIDER_REQUEST_TIMEOUT_SECONDS": "2",
            "ROOMCRAFT_REPLICATE_WAIT_SECONDS": "1",
            "REPLICATE_API_TOKEN": fake.token,
            "REPLICATE_WEBHOOK_SECRET": fake.webhook_secret,
        }
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        bootstrap.reset()
        forget_webhook_secret()
        with TestClient(create_app(bootstrap.api_services()), raise_server_exceptions=False) as api:
            stack = Stack(aws, fake, api)
            fake.webhook_sender = lambda url, headers, body: (
                stack.post_webhook(url, headers, body).status_code
            )
            yield stack
        forget_webhook_secret()


def waiting_design(stack: Stack, *, variants: int = 1) -> Design:
    design = stack.design(variants=variants)
    assert stack.run(design) is RunResult.WAITING
    return stack.get(design)


# --- the two ways a prediction completes ------------------------------------------------------
def test_a_long_prediction_completes_through_the_signed_webhook(stack: Stack) -> None:
    design = waiting_design(stack)
    assert design.status is DesignStatus.GENERATING
    assert design.predictions is not None
    assert design.prediction_id == design.predictions.ids[0] == stack.fake.created_ids[0]
    assert design.predictions.check is not None
    assert stack.delayed_checks() == 1  # the polling fallback is armed
    create = stack.fake.creates[0]
    assert create.body["webhook"].endswith(f"tenant={TENANT}&design={design.design_id}")

    stack.fake.finish(design.prediction_id, deliver=False)
    assert stack.fake.deliver(design.prediction_id) == [200]
    assert stack.get(design).status is DesignStatus.GENERATING  # the API only handed it over
    assert stack.worker_takes_over(design) is RunResult.SUCCEEDED
    done = stack.get(design)
    assert done.status is DesignStatus.SUCCEEDED
    assert len(done.outputs) == 1
    assert done.provider_seconds == 4.2
    assert done.estimated_cost_usd == pytest.approx(4.2 * 0.000725)
    assert done.outputs[0].metadata["provider"] == "replicate"


def test_when_no_webhook_arrives_the_delayed_check_completes_the_design(stack: Stack) -> None:
    design = waiting_design(stack)
    assert design.predictions is not None
    stack.fake.finish(design.predictions.ids[0], deliver=False)
    assert stack.run(design, check=design.predictions.check) is RunResult.SUCCEEDED
    assert stack.get(design).status is DesignStatus.SUCCEEDED


def test_a_check_that_finds_it_still_running_schedules_the_next_one(stack: Stack) -> None:
    design = waiting_design(stack)
    assert design.predictions is not None
    first_token = design.predictions.check
    assert stack.run(design, check=first_token) is RunResult.WAITING
    again = stack.get(design)
    assert again.predictions is not None
    assert again.predictions.check not in (None, first_token)
    assert stack.delayed_checks() == 2
    assert stack.run(design, check=first_token) is RunResult.IGNORED  # superseded chain stops


def test_a_short_prediction_completes_inline_and_its_late_webhook_is_harmless(stack: Stack) -> None:
    stack.fake.mode = "complete"
    stack.fake.webhooks = False
    design = stack.design()
    assert stack.run(design) is RunResult.SUCCEEDED
    assert stack.delayed_checks() == 0
    url, headers, body = stack.fake.signed_webhook(stack.fake.created_ids[0])
    answer = stack.post_webhook(url, headers, body)
    assert answer.status_code == 200
    assert answer.json() == {"result": "already_done"}


def test_one_prediction_per_variant_completes_when_the_last_one_does(stack: Stack) -> None:
    design = waiting_design(stack, variants=2)
    assert design.predictions is not None
    first, second = design.predictions.ids
    stack.fake.finish(first, deliver=False)
    url, headers, body = stack.fake.signed_webhook(first)
    assert stack.post_webhook(url, headers, body).json() == {"result": "queued"}
    assert stack.worker_takes_over(design) is RunResult.WAITING
    assert stack.get(design).status is DesignStatus.GENERATING
    stack.fake.finish(second, deliver=False)
    url, headers, body = stack.fake.signed_webhook(second)
    assert stack.post_webhook(url, headers, body).json() == {"result": "queued"}
    assert stack.worker_takes_over(design) is RunResult.SUCCEEDED
    done = stack.get(design)
    assert len(done.outputs) == 2
    assert done.provider_seconds == pytest.approx(8.4)


# --- replays, forgeries, early and stray callbacks --------------------------------------------
def test_a_replayed_webhook_changes_nothing(stack: Stack) -> None:
    design = waiting_design(stack)
    assert design.prediction_id is not None
    stack.fake.finish(design.prediction_id, deliver=False)
    url, headers, body = stack.fake.signed_webhook(design.prediction_id)
    assert stack.post_webhook(url, headers, body).json() == {"result": "queued"}
    # Replayed before the worker ran: a second job, which finds nothing left to do.
    assert stack.post_webhook(url, headers, body).json() == {"result": "queued"}
    assert [stack.run(design) for _ in stack.handed_off()] == [RunResult.SUCCEEDED, RunResult.ALREADY_DONE]
    version = stack.get(design).version
    replay = stack.post_webhook(url, headers, body)
    assert replay.status_code == 200
    assert replay.json() == {"result": "already_done"}
    assert stack.get(design).version == version
    assert stack.handed_off() == []
    assert len(stack.fake.calls("GET", r"/v1/predictions/.+")) == 1  # fetched once, by the worker


@pytest.mark.parametrize(
    "forge",
    [
        lambda fake, pid: fake.signed_webhook(pid, secret=FakeReplicate().webhook_secret),
        lambda fake, pid: fake.signed_webhook(pid, timestamp=int(time.time()) - 3600),
    ],
    ids=["other-secret", "stale"],  # the other tamperings: tests/unit/test_replicate_mapping.py
)
def test_forged_or_stale_webhooks_are_refused(stack: Stack, forge: Any) -> None:
    design = waiting_design(stack)
    stack.fake.finish(design.prediction_id, deliver=False)
    url, headers, body = forge(stack.fake, design.prediction_id)
    answer = stack.post_webhook(url, headers, body)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "webhook_signature_invalid"
    assert stack.get(design).status is DesignStatus.GENERATING


def test_a_webhook_for_a_prediction_that_is_not_the_designs_is_ignored(stack: Stack) -> None:
    design = waiting_design(stack)
    other = stack.fake.create({"input": {}}, None)["id"]
    stack.fake.finish(other, deliver=False)
    _, headers, body = stack.fake.signed_webhook(other)
    url = f"http://testserver/v1/callbacks/replicate?tenant={TENANT}&design={design.design_id}"
    assert stack.post_webhook(url, headers, body).json() == {"result": "ignored"}
    assert stack.get(design).status is DesignStatus.GENERATING
    assert stack.handed_off() == []


def test_a_webhook_before_the_prediction_is_recorded_asks_to_be_retried(stack: Stack) -> None:
    design = stack.design()  # queued: the worker has not created the prediction yet
    prediction = stack.fake.create({"input": {}, "webhook": "x"}, None)["id"]
    stack.fake.finish(prediction, deliver=False)
    _, headers, body = stack.fake.signed_webhook(prediction)
    url = f"http://testserver/v1/callbacks/replicate?tenant={TENANT}&design={design.design_id}"
    answer = stack.post_webhook(url, headers, body)
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "design_busy"


def test_a_webhook_for_an_unknown_design_is_acknowledged(stack: Stack) -> None:
    prediction = stack.fake.create({"input": {}}, None)["id"]
    stack.fake.finish(prediction, deliver=False)
    _, headers, body = stack.fake.signed_webhook(prediction)
    url = f"http://testserver/v1/callbacks/replicate?tenant={TENANT}&design=dsn_gone"
    assert stack.post_webhook(url, headers, body).json() == {"result": "missing"}


def test_a_callback_cannot_be_verified_without_a_secret(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    design = waiting_design(stack)
    stack.fake.finish(design.prediction_id or "", deliver=False)
    monkeypatch.delenv("REPLICATE_WEBHOOK_SECRET")
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_revoked")  # so the secret cannot be asked for either
    bootstrap.reset()
    forget_webhook_secret()
    url, headers, body = stack.fake.signed_webhook(design.prediction_id or "")
    answer = stack.post_webhook(url, headers, body)
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "callback_not_configured"
    assert stack.get(design).status is DesignStatus.GENERATING


# --- redelivery, timeouts, failures, cancellation ---------------------------------------------
def test_a_redelivered_message_resumes_the_prediction_instead_of_starting_another(stack: Stack) -> None:
    design = waiting_design(stack)
    assert stack.run(design, receive_count=2) is RunResult.WAITING
    assert stack.run(design, receive_count=3) is RunResult.WAITING
    assert len(stack.fake.creates) == 1
    assert len(stack.fake.calls("GET", r"/v1/predictions/.+")) == 2


def test_a_stuck_prediction_times_out_is_canceled_upstream_and_fails(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    design = waiting_design(stack)
    monkeypatch.setenv("ROOMCRAFT_PREDICTION_TIMEOUT_SECONDS", "0")
    bootstrap.reset()
    assert design.predictions is not None
    assert stack.run(design, check=design.predictions.check) is RunResult.FAILED
    failed = stack.get(design)
    assert failed.error is not None
    assert failed.error.code == "provider_timeout"
    assert stack.fake.predictions[design.predictions.ids[0]]["status"] == "canceled"


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        ("failed", "provider_failed"),
        ("canceled", "provider_canceled"),
        ("not_image", "provider_output_invalid"),
    ],
)
def test_upstream_failures_reported_by_webhook_fail_the_design(stack: Stack, outcome: str, code: str) -> None:
    design = waiting_design(stack)
    stack.fake.finish(design.prediction_id or "", outcome, deliver=False)
    url, headers, body = stack.fake.signed_webhook(design.prediction_id or "")
    assert stack.post_webhook(url, headers, body).json() == {"result": "queued"}
    assert stack.worker_takes_over(design) is RunResult.FAILED
    failed = stack.get(design)
    assert failed.status is DesignStatus.FAILED
    assert failed.error is not None
    assert failed.error.code == code


def test_when_one_variant_fails_by_webhook_the_worker_cancels_the_others(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    design = waiting_design(stack, variants=2)
    assert design.predictions is not None
    first, second = design.predictions.ids
    stack.fake.finish(first, "failed", deliver=False)
    url, headers, body = stack.fake.signed_webhook(first)
    monkeypatch.delenv("REPLICATE_API_TOKEN")  # as in the cloud: the API holds no Replicate token
    bootstrap.reset()
    assert stack.post_webhook(url, headers, body).json() == {"result": "queued"}
    assert stack.fake.predictions[second]["status"] == "processing"
    monkeypatch.setenv("REPLICATE_API_TOKEN", stack.fake.token)  # the worker has it
    bootstrap.reset()
    assert stack.worker_takes_over(design) is RunResult.FAILED
    assert stack.get(design).error.code == "provider_failed"  # type: ignore[union-attr]
    assert stack.fake.predictions[second]["status"] == "canceled"
    assert stack.run(design, check=design.predictions.check) is RunResult.ALREADY_DONE


def test_an_outage_while_downloading_is_retried_by_redelivering_the_job(stack: Stack) -> None:
    design = waiting_design(stack)
    stack.fake.finish(design.prediction_id or "", deliver=False)
    stack.fake.fail("output", status=503, times=3)  # every try of the worker's first attempt
    assert stack.fake.deliver(design.prediction_id or "") == [200]
    with pytest.raises(Exception, match="503"):
        stack.worker_takes_over(design)
    assert stack.run(design, receive_count=2) is RunResult.SUCCEEDED  # SQS delivers the job again
    assert stack.get(design).status is DesignStatus.SUCCEEDED


def test_an_outage_on_create_is_retried_by_redelivery_then_fails_clearly(stack: Stack) -> None:
    stack.fake.fail("create", status=503, times=1000)
    design = stack.design()
    max_attempts = get_settings().max_attempts
    for attempt in range(1, max_attempts):
        with pytest.raises(Exception, match="failed after 3 attempt"):
            stack.run(design, receive_count=attempt)
    assert stack.run(design, receive_count=max_attempts) is RunResult.FAILED
    failed = stack.get(design)
    assert failed.error is not None
    assert failed.error.code == "provider_unavailable"
    assert stack.fake.predictions == {}


def test_canceling_the_design_cancels_its_prediction(stack: Stack) -> None:
    design = waiting_design(stack)
    answer = stack.api.post(
        f"/v1/designs/{design.design_id}/cancel", headers={"Authorization": f"Bearer {TEST_API_KEY}"}
    )
    assert answer.status_code == 200
    assert answer.json()["status"] == "canceled"
    # The API holds no provider credentials: it hands the design to the worker, which cancels.
    assert stack.fake.predictions[design.prediction_id or ""]["status"] == "processing"
    assert stack.run(design) is RunResult.ALREADY_DONE
    assert stack.fake.predictions[design.prediction_id or ""]["status"] == "canceled"
    url, headers, body = stack.fake.signed_webhook(design.prediction_id or "")
    assert stack.post_webhook(url, headers, body).json() == {"result": "already_done"}


def test_a_cancel_racing_the_create_still_cancels_the_new_prediction(stack: Stack) -> None:
    design = stack.design()
    original = stack.fake.create

    def create_then_user_cancels(body: dict[str, Any], model: str | None) -> dict[str, Any]:
        created = original(body, model)
        bootstrap.design_service().cancel(TENANT, design.design_id)
        return created

    stack.fake.create = create_then_user_cancels  # type: ignore[method-assign]
    assert stack.run(design) is RunResult.STOPPED
    assert stack.get(design).status is DesignStatus.CANCELED
    (prediction,) = stack.fake.predictions.values()
    assert prediction["status"] == "canceled"


# --- credentials ------------------------------------------------------------------------------
def test_token_and_webhook_secret_come_from_secrets_manager(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.adapters.secrets import forget_secrets

    secrets = boto3.client("secretsmanager")
    token_arn = secrets.create_secret(
        Name="replicate-token", SecretString=json.dumps({"token": "r8_from_sm"})
    )["ARN"]
    hook_arn = secrets.create_secret(Name="replicate-webhook", SecretString=stack.fake.webhook_secret)["ARN"]
    monkeypatch.delenv("REPLICATE_API_TOKEN")
    monkeypatch.setenv("ROOMCRAFT_REPLICATE_TOKEN_SECRET_ARN", token_arn)
    monkeypatch.setenv("ROOMCRAFT_REPLICATE_WEBHOOK_SECRET_ARN", hook_arn)
    bootstrap.reset()
    forget_secrets()
    settings = get_settings()
    assert replicate_token(settings) == "r8_from_sm"
    assert webhook_secret(settings) == stack.fake.webhook_secret
    monkeypatch.setenv("ROOMCRAFT_REPLICATE_TOKEN_SECRET_ARN", token_arn.replace("replicate-token", "nope"))
    bootstrap.reset()
    forget_secrets()
    from shared.domain.errors import ProviderNotConfigured

    with pytest.raises(ProviderNotConfigured) as raised:
        replicate_token(get_settings())
    assert "r8_" not in raised.value.message


class Everything(logging.Handler):
    """Keeps every log record whole (message and extra fields), whatever the formatter prints."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(json.dumps(record.__dict__, default=str))


def test_the_token_and_the_signing_secret_never_reach_logs_events_or_designs(stack: Stack) -> None:
    captured = Everything()
    loggers = [
        logging.getLogger(name) for name in list(logging.root.manager.loggerDict) if "roomcraft" in name
    ]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(captured)
    try:
        design = waiting_design(stack)
        stack.fake.finish(design.prediction_id or "", deliver=False)
        url, headers, body = stack.fake.signed_webhook(design.prediction_id or "")
        answer = stack.post_webhook(url, headers, body)
        assert stack.worker_takes_over(design) is RunResult.SUCCEEDED
        view = stack.api.get(f"/v1/designs/{design.design_id}").text
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(captured)
            logger.setLevel(level)
    logs = "\n".join(captured.records)
    assert "replicate callback handled" in logs  # the logs were captured
    assert "design moved" in logs
    stored = stack.get(design).model_dump_json()
    secret_body = stack.fake.webhook_secret.split("_", 1)[1]
    for text in (logs, stored, view, answer.text):
        assert stack.fake.token not in text
        assert secret_body not in text


# --- the FLUX safety checker drops flagged images (issue 14, item 2) ------------------------------
def test_a_batch_that_lost_images_to_the_safety_checker_keeps_the_rest(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROOMCRAFT_REPLICATE_MODEL", "black-forest-labs/flux-depth-dev")
    monkeypatch.setenv("ROOMCRAFT_REPLICATE_SEED_PER_VARIANT", "false")
    bootstrap.reset()
    design = waiting_design(stack, variants=3)
    (create,) = stack.fake.creates
    assert create.body["input"]["num_outputs"] == 3
    stack.fake.filtered = 1  # one of the three images was flagged and dropped
    stack.fake.finish(stack.fake.created_ids[0], deliver=False)
    assert design.predictions is not None
    assert stack.run(design, check=design.predictions.check) is RunResult.SUCCEEDED
    done = stack.get(design)
    assert done.status is DesignStatus.SUCCEEDED
    assert [output.index for output in done.outputs] == [0, 1]
    assert all(output.metadata["variants-filtered"] == "1" for output in done.outputs)
    assert done.estimated_cost_usd == pytest.approx(2 * 0.025)  # billed per image made
