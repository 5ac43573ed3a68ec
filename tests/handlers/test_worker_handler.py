"""The worker Lambda entry point with real-shaped SQS batch events."""

from __future__ import annotations

from typing import Any

import boto3

from functions.worker.handler import handler
from shared import bootstrap
from shared.bootstrap import workers
from shared.domain.messages import GenerationMessage
from shared.services.designs import DesignRequest
from tests.conftest import room_photo
from tests.handlers.events import lambda_context, sqs_record


def create_design(aws: dict[str, Any], photo: bytes) -> str:
    service = bootstrap.design_service()
    slot = service.create_upload("tnt_default", content_type="image/jpeg")
    boto3.client("s3").put_object(Bucket=aws["ROOMCRAFT_UPLOADS_BUCKET"], Key=slot.upload.key, Body=photo)
    request = DesignRequest(upload_id=slot.upload.upload_id, room_type="bedroom", style="japandi", seed=1)
    return service.create("tnt_default", request).design_id


def test_batch_with_a_malformed_message_fails_only_that_item(aws: dict[str, Any]) -> None:
    good = create_design(aws, room_photo())
    bad_photo = create_design(aws, b"GIF89a but not really")
    records = [
        sqs_record(
            GenerationMessage(tenant_id="tnt_default", design_id=good).model_dump_json(), message_id="m-good"
        ),
        sqs_record('{"not": "a generation message"}', message_id="m-malformed"),
        sqs_record("this is not even json", message_id="m-garbage"),
        sqs_record(
            GenerationMessage(tenant_id="tnt_default", design_id=bad_photo).model_dump_json(),
            message_id="m-bad",
        ),
    ]
    response = handler({"Records": records}, lambda_context("roomcraft-worker", timeout=120))
    assert {item["itemIdentifier"] for item in response["batchItemFailures"]} == {"m-malformed", "m-garbage"}
    service = bootstrap.design_service()
    assert service.get("tnt_default", good).status == "succeeded"
    failed = service.get("tnt_default", bad_photo)
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error.code in {"image_corrupt", "image_unsupported_type"}


def test_redelivered_record_is_acknowledged_without_new_work(aws: dict[str, Any]) -> None:
    design_id = create_design(aws, room_photo())
    body = GenerationMessage(tenant_id="tnt_default", design_id=design_id).model_dump_json()
    first = handler({"Records": [sqs_record(body)]}, lambda_context("roomcraft-worker"))
    again = handler({"Records": [sqs_record(body, receive_count=2)]}, lambda_context("roomcraft-worker"))
    assert first["batchItemFailures"] == []
    assert again["batchItemFailures"] == []
    assert bootstrap.design_service().get("tnt_default", design_id).version == 5


def test_concurrent_invocations_keep_their_own_batch_results(monkeypatch: Any) -> None:
    """The local cloud calls the handler from several poller threads: results must not mix."""
    import threading

    from shared.domain.errors import DesignBusy
    from shared.services.generation import RunResult

    both_running = threading.Barrier(2, timeout=10)

    class Pipeline:
        def run(
            self, message: GenerationMessage, *, receive_count: int = 1, time_left: Any = None
        ) -> RunResult:
            assert time_left is not None  # the handler bounds the pipeline by the invocation's time
            if message.design_id in {"dsn_busy", "dsn_fine"}:
                both_running.wait()  # the two batches are in the handler at the same time
            if message.design_id == "dsn_busy":
                raise DesignBusy("held by another worker")
            return RunResult.SUCCEEDED

    monkeypatch.setattr(workers, "generation_pipeline", Pipeline)
    responses: dict[str, Any] = {}

    def invoke(*design_ids: str) -> None:
        records = [
            sqs_record(
                GenerationMessage(tenant_id="tnt_default", design_id=d).model_dump_json(), message_id=f"m-{d}"
            )
            for d in design_ids
        ]
        responses[design_ids[0]] = handler({"Records": records}, lambda_context("roomcraft-worker"))

    threads = [
        threading.Thread(target=invoke, args=("dsn_busy", "dsn_other")),
        threading.Thread(target=invoke, args=("dsn_fine",)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert responses["dsn_busy"]["batchItemFailures"] == [{"itemIdentifier": "m-dsn_busy"}]
    assert responses["dsn_fine"]["batchItemFailures"] == []
