"""The S3 inbox against moto: real S3 → SQS notifications, the ingest record, designs, write-back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from pydantic import ValidationError

from shared import bootstrap
from shared.bootstrap import workers
from shared.domain.design import Design, Origin
from shared.domain.inbox import DroppedObject, InboxPath, IngestRecord, IngestStatus
from shared.domain.messages import GenerationMessage
from shared.domain.status import DesignStatus
from shared.domain.tenants import Limits
from shared.inbound import dropped_objects
from shared.services.ingest import IngestOutcome
from shared.services.writeback import WritebackOutcome
from tests.conftest import room_photo


@dataclass
class Inbox:
    bucket: str
    queue_url: str
    writeback_url: str
    s3: Any
    sqs: Any
    tenant: str = "tnt_default"

    def drop(self, path: str, body: bytes, metadata: dict[str, str] | None = None) -> str:
        key = f"inbox/{self.tenant}/{path}"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, Metadata=metadata or {})
        return key

    def notifications(self, queue_url: str | None = None) -> list[str]:
        """Every message now on the queue (consumed), in the order SQS gives them."""
        bodies = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=queue_url or self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                return bodies
            for message in messages:
                bodies.append(message["Body"])
                self.sqs.delete_message(
                    QueueUrl=queue_url or self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )

    def dropped(self) -> list[DroppedObject]:
        return [item for body in self.notifications() for item in dropped_objects(body)]

    def exists(self, key: str) -> bool:
        return "Contents" in self.s3.list_objects_v2(Bucket=self.bucket, Prefix=key)

    def json(self, key: str) -> dict[str, Any]:
        return json.loads(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def designs(self) -> list[Design]:
        found, _ = bootstrap.design_service().list(self.tenant, limit=100, cursor=None)
        return found


@pytest.fixture(scope="module")
def cloud() -> Iterator[Inbox]:
    """One moto for the module (provisioning costs seconds on a busy machine); each test
    stages for a tenant of its own, so tests do not see each other's designs."""
    from moto import mock_aws

    from shared.local.provision import provision_resources

    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        env = provision_resources(stage="test", endpoint_url=None)
        for name, value in env.items():
            patch.setenv(name, value)
        patch.setenv("ROOMCRAFT_STAGE", "test")
        patch.setenv("ROOMCRAFT_CDN_BASE_URL", "https://cdn.example.test")
        patch.setenv("ROOMCRAFT_GLOBAL_DAILY_DESIGN_CAP", "10000")
        patch.delenv("ROOMCRAFT_AWS_ENDPOINT_URL", raising=False)
        bootstrap.reset()
        sqs = boto3.client("sqs")
        # The queue's settle delay is for real drops; here the tests read the queue themselves.
        sqs.set_queue_attributes(QueueUrl=env["ROOMCRAFT_INGEST_QUEUE_URL"], Attributes={"DelaySeconds": "0"})
        yield Inbox(
            bucket=env["ROOMCRAFT_INBOX_BUCKET"],
            queue_url=env["ROOMCRAFT_INGEST_QUEUE_URL"],
            writeback_url=env["ROOMCRAFT_WRITEBACK_QUEUE_URL"],
            s3=boto3.client("s3"),
            sqs=sqs,
        )
    bootstrap.reset()


@pytest.fixture
def inbox(cloud: Inbox, request: pytest.FixtureRequest) -> Iterator[Inbox]:
    cloud.tenant = "tnt_" + request.node.name[5:40].replace("[", "_").replace("]", "")
    bootstrap.tenant_admin().ensure_tenant(cloud.tenant, name="inbox test", limits=Limits(daily_designs=1000))
    cloud.notifications()
    cloud.notifications(cloud.writeback_url)
    yield cloud
    bootstrap.reset()


def test_s3_sends_a_test_event_first_and_it_is_ignored(inbox: Inbox) -> None:
    # S3 sends one whenever the notification configuration is set (provisioning's is still
    # in the queue's settle delay): set it again, now that the queue has no delay.
    config = inbox.s3.get_bucket_notification_configuration(Bucket=inbox.bucket)
    config.pop("ResponseMetadata")
    assert config["QueueConfigurations"][0]["Filter"]["Key"]["FilterRules"] == [
        {"Name": "prefix", "Value": "inbox/"}
    ]
    inbox.s3.put_bucket_notification_configuration(Bucket=inbox.bucket, NotificationConfiguration=config)
    bodies = inbox.notifications()
    assert [json.loads(b).get("Event") for b in bodies] == ["s3:TestEvent"]
    assert dropped_objects(bodies[0]) == []


def test_a_real_notification_decodes_the_key_and_carries_the_etag(inbox: Inbox) -> None:
    key = inbox.drop("listing 42/Salle à manger+1.jpg", room_photo(400, 300))
    (body,) = inbox.notifications()
    assert "listing+42" in body  # URL-encoded on the wire, as on AWS
    (dropped,) = dropped_objects(body)
    head = inbox.s3.head_object(Bucket=inbox.bucket, Key=key)
    assert (dropped.key, dropped.bucket, dropped.etag) == (key, inbox.bucket, head["ETag"].strip('"'))


def test_duplicated_and_reordered_notifications_make_exactly_one_design_each(inbox: Inbox) -> None:
    for n in range(3):
        inbox.drop(f"dup/room-{n}.jpg", room_photo(400, 300), {"room-type": "bedroom", "style": "japandi"})
    dropped = inbox.dropped()
    assert len(dropped) == 3
    ingest = workers.inbox_ingest()
    outcomes = [ingest.ingest(item) for item in [*dropped, *reversed(dropped), dropped[1]]]
    assert outcomes.count(IngestOutcome.CREATED) == 3
    assert outcomes.count(IngestOutcome.DUPLICATE) == 4
    made = inbox.designs()
    assert len(made) == 3
    assert {d.origin for d in made} == {Origin.S3}
    assert {d.source.inbox.key for d in made if d.source.inbox} == {d.key for d in dropped}
    assert len({d.batch_id for d in made}) == 1  # one folder, one drop hour


def test_a_drop_appears_as_a_batch_and_is_announced_when_its_designs_are_done(inbox: Inbox) -> None:
    from shared.services.generation import RunResult

    for n in range(2):
        inbox.drop(
            f"listing/room-{n}.jpg", room_photo(400, 300), {"room-type": "bedroom", "style": "japandi"}
        )
    for item in inbox.dropped():
        workers.inbox_ingest().ingest(item)
    made = inbox.designs()
    (batch_id,) = {d.batch_id for d in made}
    assert batch_id is not None
    batch = bootstrap.batch_service().get(inbox.tenant, batch_id)
    assert sorted(batch.batch.design_ids) == sorted(d.design_id for d in made)
    assert batch.batch.origin == "s3"
    for design in made:
        message = GenerationMessage(tenant_id=inbox.tenant, design_id=design.design_id)
        assert workers.generation_pipeline().run(message) is RunResult.SUCCEEDED
    assert bootstrap.batch_service().get(inbox.tenant, batch_id).progress.completed


def test_a_drop_past_the_daily_quota_is_reported_and_may_be_dropped_again(inbox: Inbox) -> None:
    bootstrap.tenant_admin().update_tenant(inbox.tenant, daily_designs=1)
    for n in range(2):
        inbox.drop(f"quota/room-{n}.jpg", room_photo(400, 300), {"room-type": "bedroom", "style": "japandi"})
    dropped = inbox.dropped()
    outcomes = [workers.inbox_ingest().ingest(item) for item in dropped]
    assert outcomes.count(IngestOutcome.CREATED) == outcomes.count(IngestOutcome.REJECTED) == 1
    refused = dropped[outcomes.index(IngestOutcome.REJECTED)].key.removeprefix(f"inbox/{inbox.tenant}/")
    report = inbox.json(f"outbox/{inbox.tenant}/{refused}.error.json")
    assert report["code"] == "daily_quota_exceeded"
    assert report["details"]["retry_after"] > 0
    assert len(inbox.designs()) == 1


def test_a_delivery_that_died_after_claiming_is_finished_by_the_next_with_the_same_id(
    inbox: Inbox,
) -> None:
    from shared.adapters.dynamodb import IngestRepository
    from shared.settings import get_settings

    inbox.drop("crash/room.jpg", room_photo(400, 300), {"room-type": "kitchen", "style": "industrial"})
    (dropped,) = inbox.dropped()
    etag = inbox.s3.head_object(Bucket=inbox.bucket, Key=dropped.key)["ETag"].strip('"')
    now = bootstrap.design_service()._clock()
    claimed = IngestRecord(
        ingest_key=dropped.ingest_key(etag),
        tenant_id=inbox.tenant,
        bucket=inbox.bucket,
        key=dropped.key,
        etag=etag,
        design_id="dsn_CLAIMEDBYADEADDELIVERY0",
        batch_id="bat_X",
        created_at=now,
        updated_at=now,
    )
    IngestRepository(get_settings()).claim(claimed)

    assert workers.inbox_ingest().ingest(dropped) is IngestOutcome.CREATED
    assert workers.inbox_ingest().ingest(dropped) is IngestOutcome.DUPLICATE
    assert [(d.design_id, d.batch_id) for d in inbox.designs()] == [("dsn_CLAIMEDBYADEADDELIVERY0", "bat_X")]


def test_a_delivery_that_died_after_creating_the_design_does_not_make_a_second(inbox: Inbox) -> None:
    inbox.drop("crash2/room.jpg", room_photo(400, 300), {"room-type": "kitchen", "style": "industrial"})
    (dropped,) = inbox.dropped()
    ingest = workers.inbox_ingest()
    # Two concurrent deliveries both pass the claim (the second finds it CLAIMED, not done):
    # simulated by resetting the record to CLAIMED after the first one finished.
    assert ingest.ingest(dropped) is IngestOutcome.CREATED
    from shared.adapters.dynamodb import IngestItem

    item = IngestItem.get(dropped.ingest_key(str(dropped.etag)))
    record = IngestRecord.model_validate_json(item.document)
    ingest._records.mark(record, IngestStatus.CLAIMED, now=record.updated_at)
    assert ingest.ingest(dropped) is IngestOutcome.CREATED
    assert len(inbox.designs()) == 1


def test_an_overwritten_photo_makes_one_design_for_the_latest_bytes(inbox: Inbox) -> None:
    options = {"room-type": "bedroom", "style": "coastal"}
    inbox.drop("over/room.jpg", room_photo(400, 300), options)
    key = inbox.drop("over/room.jpg", room_photo(400, 300, colour=(90, 90, 200)), options)
    first, second = inbox.dropped()
    ingest = workers.inbox_ingest()
    # Out of order: the newer notification first, then the older one, which is stale now.
    assert ingest.ingest(second) is IngestOutcome.CREATED
    assert ingest.ingest(first) is IngestOutcome.STALE
    (design,) = inbox.designs()
    assert design.source.inbox is not None
    assert design.source.inbox.etag == inbox.s3.head_object(Bucket=inbox.bucket, Key=key)["ETag"].strip('"')


def test_options_files_hidden_files_and_folder_markers_are_never_designs(inbox: Inbox) -> None:
    inbox.drop("cfg/roomcraft.json", b'{"style": "japandi"}')
    inbox.drop("cfg/room.json", b'{"room_type": "bedroom"}')
    inbox.drop("cfg/.DS_Store", b"\x00\x00\x00\x01Bud1")
    inbox.drop("cfg/", b"")
    outcomes = {workers.inbox_ingest().ingest(d) for d in inbox.dropped()}
    assert outcomes == {IngestOutcome.IGNORED}
    assert inbox.designs() == []


def test_options_come_from_metadata_then_sidecar_then_the_nearest_roomcraft_json(inbox: Inbox) -> None:
    inbox.drop("roomcraft.json", b'{"room_type": "kitchen", "style": "rustic", "variants": 3}')
    inbox.drop(
        "agency/roomcraft.json",
        json.dumps({"room-type": "bedroom", "style": "coastal", "batch": "spring", "seed": 5}).encode(),
    )
    inbox.drop("agency/house-1/a.json", b'{"style": "japandi", "palette": ["#f5f0e6", "#8a9a5b"]}')
    inbox.drop(
        "agency/house-1/a.jpg", room_photo(400, 300), {"style": "art-deco", "prompt": "a reading nook"}
    )
    inbox.drop("agency/house-1/b.jpg", room_photo(400, 300))
    inbox.drop("agency/house-2/c.jpg", room_photo(400, 300))
    inbox.drop("elsewhere/d.jpg", room_photo(400, 300))
    for item in inbox.dropped():
        workers.inbox_ingest().ingest(item)
    by_name = {
        InboxPath.parse(d.source.inbox.key).name: d for d in inbox.designs() if d.source.inbox is not None
    }
    a, b, c, d = (by_name[n] for n in ("a.jpg", "b.jpg", "c.jpg", "d.jpg"))
    # metadata style over the sidecar's; the sidecar's palette; agency/roomcraft.json for the rest
    assert (a.brief.room_type, a.brief.style, a.brief.palette, a.brief.seed) == (
        "bedroom",
        "art_deco",
        ("#f5f0e6", "#8a9a5b"),
        5,
    )
    assert a.brief.prompt == "a reading nook"
    assert (b.brief.style, b.brief.variants) == ("coastal", 1)  # nearest file wins whole: no variants=3
    assert (d.brief.room_type, d.brief.style, d.brief.variants) == ("kitchen", "rustic", 3)
    # one batch per folder: the label keeps house-1 together; house-2 is another folder
    assert a.batch_id == b.batch_id
    assert len({a.batch_id, c.batch_id, d.batch_id}) == 3


REFUSED = {
    # path: (bytes or None for a good photo, extra metadata, expected code)
    "bad/notes.jpg": (b"these are my notes, not a photo", {}, "image_unsupported_type"),
    "bad/empty.jpg": (b"", {}, "image_empty"),
    "bad/huge.jpg": (b"\xff\xd8\xff\xe0" + b"\x00" * 30_000, {}, "image_too_large"),
    "bad/colour.jpg": (None, {"colour": "blue"}, "unknown_option"),
    "bad/vapor.jpg": (None, {"style": "vaporwave"}, "unknown_style"),
    "bad/many.jpg": (None, {"variants": "9"}, "invalid_options"),
    "bad/none.jpg": (None, {"room-type": ""}, "invalid_options"),
}


def test_refused_photos_get_an_error_report_and_are_quarantined(
    inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROOMCRAFT_MAX_UPLOAD_BYTES", "20000")
    bootstrap.reset()
    for path, (body, metadata, _) in REFUSED.items():
        options = {"room-type": "bedroom", "style": "japandi", **metadata}
        inbox.drop(path, room_photo(400, 300) if body is None else body, options)
    dropped = inbox.dropped()
    assert [workers.inbox_ingest().ingest(d) for d in dropped] == [IngestOutcome.REJECTED] * len(REFUSED)
    for path, (_, _, code) in REFUSED.items():
        report = inbox.json(f"outbox/{inbox.tenant}/{path}.error.json")
        assert (report["code"], report["stage"]) == (code, "ingest"), path
        assert report["source"]["key"] == f"inbox/{inbox.tenant}/{path}"
        assert report["quarantine_key"] == f"quarantine/{inbox.tenant}/{path}"
        assert report["message"]
        assert not inbox.exists(f"inbox/{inbox.tenant}/{path}")
        assert inbox.exists(f"quarantine/{inbox.tenant}/{path}")
    assert inbox.designs() == []
    # Late duplicates find the originals gone, and do nothing more.
    assert {workers.inbox_ingest().ingest(d) for d in dropped} == {IngestOutcome.MISSING}


@pytest.mark.parametrize(
    "path", ["/double-slash.jpg", "a//b.jpg", "a/../b.jpg", "./here.jpg", "long/" + "n" * 980 + ".jpg"]
)
def test_a_key_the_outbox_cannot_repeat_is_quarantined_with_a_report(inbox: Inbox, path: str) -> None:
    """``inbox/<tenant>//x.jpg`` made the defaults lookup loop for ever (issue 13 item 2)."""
    key = inbox.drop(path, room_photo(400, 300), {"room-type": "bedroom", "style": "japandi"})
    dropped = [d for d in inbox.dropped() if d.key == key]
    assert dropped, "S3 notified the key as written"
    assert workers.inbox_ingest().ingest(dropped[0]) is IngestOutcome.REJECTED
    assert not inbox.exists(key)
    refused = [
        item["Key"]
        for item in inbox.s3.list_objects_v2(
            Bucket=inbox.bucket, Prefix=f"quarantine/{inbox.tenant}/refused-keys/"
        ).get("Contents", [])
    ]
    (report_key,) = [k for k in refused if k.endswith(".error.json")]
    report = inbox.json(report_key)
    assert (report["code"], report["stage"]) == ("inbox_key_refused", "ingest")
    assert report["source"]["key"] == key
    assert report["quarantine_key"] in refused
    assert inbox.s3.get_object(Bucket=inbox.bucket, Key=report["quarantine_key"])["Body"].read()
    assert inbox.designs() == []
    assert workers.inbox_ingest().ingest(dropped[0]) is IngestOutcome.MISSING  # a late duplicate
    inbox.s3.delete_objects(Bucket=inbox.bucket, Delete={"Objects": [{"Key": k} for k in refused]})


def test_a_bad_roomcraft_json_refuses_the_photos_under_it_with_its_name(inbox: Inbox) -> None:
    inbox.drop("lot/roomcraft.json", b'{"style": "japandi", "room_type": "bedroom", "colour": "red"}')
    inbox.drop("lot/x.jpg", room_photo(400, 300))
    for item in inbox.dropped():
        workers.inbox_ingest().ingest(item)
    report = inbox.json(f"outbox/{inbox.tenant}/lot/x.jpg.error.json")
    assert report["code"] == "unknown_option"
    assert f"inbox/{inbox.tenant}/lot/roomcraft.json" in report["message"]
    assert "'colour'" in report["message"]


def test_a_rejected_photo_dropped_again_after_fixing_its_options_is_staged(inbox: Inbox) -> None:
    photo = room_photo(400, 300)
    inbox.drop("retry/roomcraft.json", b'{"room_type": "bedroom", "style": "vaporwave"}')
    inbox.drop("retry/room.jpg", photo)
    (first,) = [d for d in inbox.dropped() if d.key.endswith(".jpg")]
    assert workers.inbox_ingest().ingest(first) is IngestOutcome.REJECTED

    inbox.drop("retry/roomcraft.json", b'{"room_type": "bedroom", "style": "japandi"}')
    inbox.drop("retry/room.jpg", photo)  # the same bytes, so the same ETag
    (again,) = [d for d in inbox.dropped() if d.key.endswith(".jpg")]
    ingest = workers.inbox_ingest()
    assert [ingest.ingest(d) for d in (again, again, first)] == [
        IngestOutcome.CREATED,
        IngestOutcome.DUPLICATE,
        IngestOutcome.DUPLICATE,
    ]
    (design,) = inbox.designs()
    assert design.brief.style == "japandi"


def test_keys_outside_a_tenant_inbox_are_ignored_and_garbage_is_malformed(inbox: Inbox) -> None:
    inbox.drop("x.jpg", b"x")  # inbox/tnt_default/x.jpg is fine; this checks the invalid shape below
    (dropped,) = inbox.dropped()
    odd = DroppedObject(
        bucket=dropped.bucket,
        key="inbox/no tenant here.jpg",
        etag=dropped.etag,
        version_id=None,
        size=1,
        event_time=dropped.event_time,
    )
    assert workers.inbox_ingest().ingest(odd) is IngestOutcome.IGNORED
    with pytest.raises(ValidationError):
        dropped_objects('{"hello": "world"}')


def run_worker(design: Design) -> None:
    workers.generation_pipeline().run(
        GenerationMessage(tenant_id=design.tenant_id, design_id=design.design_id)
    )


def test_a_finished_inbox_design_is_written_back_and_only_inbox_designs_reach_the_writeback_queue(
    inbox: Inbox,
) -> None:
    key = inbox.drop(
        "done/living.jpg", room_photo(400, 300), {"room-type": "living-room", "style": "scandinavian"}
    )
    (dropped,) = inbox.dropped()
    workers.inbox_ingest().ingest(dropped)
    (design,) = inbox.designs()
    run_worker(design)
    assert bootstrap.design_service().get(inbox.tenant, design.design_id).status is DesignStatus.SUCCEEDED

    # The EventBridge rule routes the s3 design's terminal event, nothing else, to the queue.
    events = [json.loads(body) for body in inbox.notifications(inbox.writeback_url)]
    assert [(e["detail-type"], e["detail"]["origin"]) for e in events] == [("design.succeeded", "s3")]

    assert workers.inbox_writeback().write_back(inbox.tenant, design.design_id) is WritebackOutcome.WRITTEN
    manifest = inbox.json(f"outbox/{inbox.tenant}/done/living.jpg/manifest.json")
    assert manifest["design_id"] == design.design_id
    assert manifest["status"] == "succeeded"
    assert manifest["source"]["key"] == key
    assert manifest["batch_id"] == design.batch_id
    (output,) = manifest["outputs"]
    assert {"full", "thumb"} <= set(output["files"])
    for file in output["files"].values():
        assert file["url"].startswith("https://cdn.example.test/designs/")
        assert inbox.exists(file["key"])
        assert file["key"].startswith(f"outbox/{inbox.tenant}/done/living.jpg/0/")
    assert inbox.exists(key)  # a staged original stays in the inbox (until its lifecycle rule)
    # Redelivered: the same objects again, still one manifest.
    assert workers.inbox_writeback().write_back(inbox.tenant, design.design_id) is WritebackOutcome.WRITTEN


def test_a_design_that_fails_on_the_photo_gets_an_error_report_and_quarantine(inbox: Inbox) -> None:
    truncated = room_photo(400, 300)[:1500]
    key = inbox.drop("fail/cut.jpg", truncated, {"room-type": "bedroom", "style": "japandi"})
    (dropped,) = inbox.dropped()
    assert workers.inbox_ingest().ingest(dropped) is IngestOutcome.CREATED  # the header looks fine
    (design,) = inbox.designs()
    run_worker(design)
    assert workers.inbox_writeback().write_back(inbox.tenant, design.design_id) is WritebackOutcome.WRITTEN
    report = inbox.json(f"outbox/{inbox.tenant}/fail/cut.jpg.error.json")
    assert (report["code"], report["stage"], report["design_id"]) == (
        "image_corrupt",
        "design",
        design.design_id,
    )
    assert report["quarantine_key"] == f"quarantine/{inbox.tenant}/fail/cut.jpg"
    assert not inbox.exists(key)
    manifest = inbox.json(f"outbox/{inbox.tenant}/fail/cut.jpg/manifest.json")
    assert (manifest["status"], manifest["error"]["code"], manifest["outputs"]) == (
        "failed",
        "image_corrupt",
        [],
    )


def test_api_designs_are_not_written_back(inbox: Inbox) -> None:
    from shared.domain.design import Brief, Design, SourceImage

    now = bootstrap.design_service()._clock()
    design = Design(
        design_id="dsn_API",
        tenant_id=inbox.tenant,
        status=DesignStatus.SUCCEEDED,
        source=SourceImage(upload_id="upl_x", key="uploads/x"),
        brief=Brief(room_type="bedroom", style="japandi", seed=1),
        provider="preview",
        storage_token="t",
        created_at=now,
        updated_at=now,
    )
    from shared.adapters.dynamodb import DesignRepository
    from shared.settings import get_settings

    DesignRepository(get_settings()).create(design)
    assert workers.inbox_writeback().write_back(inbox.tenant, "dsn_API") is WritebackOutcome.IGNORED
    assert workers.inbox_writeback().write_back(inbox.tenant, "dsn_MISSING") is WritebackOutcome.IGNORED
