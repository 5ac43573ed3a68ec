"""Issue 13 item 6: the inbox trusts the writer S3 reports, not the key prefix.

moto's S3 notifications are AWS-shaped but carry no ``userIdentity`` (AWS's always do: an IAM
role session appears as ``AWS:<role unique id>:<session>``), so each test takes moto's real
notification off the ingest queue and adds the ``userIdentity`` S3 would have written. The writer
roles are issued by ``roomcraft admin inbox-writer create-role`` against moto's IAM.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from shared import bootstrap
from shared.bootstrap import workers
from shared.cli import main
from shared.inbound import dropped_objects
from shared.services.ingest import IngestOutcome
from shared.settings import get_settings
from tests.conftest import room_photo

TENANT = "tnt_default"
OTHER = "tnt_rival"


@pytest.fixture
def inbox(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("ROOMCRAFT_INBOX_WRITER_CHECK", "enforce")  # as the stack sets it
    get_settings.cache_clear()
    bootstrap.reset()
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue = aws["ROOMCRAFT_INGEST_QUEUE_URL"]
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"DelaySeconds": "0"})
    bootstrap.tenant_admin().ensure_tenant(OTHER, name="rival")
    yield {"bucket": aws["ROOMCRAFT_INBOX_BUCKET"], "queue": queue, "sqs": sqs, "s3": boto3.client("s3")}
    get_settings.cache_clear()
    bootstrap.reset()


def issue_writer_role(tenant: str, capsys: pytest.CaptureFixture[str]) -> str:
    """``roomcraft admin inbox-writer create-role``: the role's unique id, now allowed for ``tenant``."""
    capsys.readouterr()
    trust = "arn:aws:iam::123456789012:root"
    assert main(["admin", "inbox-writer", "create-role", tenant, "--trust", trust]) == 0
    issued = json.loads(capsys.readouterr().out)
    assert issued["tenant"]["inbox_writers"] == [issued["writer"]]
    return str(issued["writer"])


def drop(inbox: dict[str, Any], key: str, principal_id: str | None) -> str:
    """Put the photo in (moto) S3; return its notification as S3 would send it, with its writer."""
    inbox["s3"].put_object(
        Bucket=inbox["bucket"],
        Key=key,
        Body=room_photo(400, 300),
        Metadata={"room-type": "bedroom", "style": "japandi"},
    )
    bodies = []
    for message in inbox["sqs"].receive_message(QueueUrl=inbox["queue"], MaxNumberOfMessages=10)["Messages"]:
        inbox["sqs"].delete_message(QueueUrl=inbox["queue"], ReceiptHandle=message["ReceiptHandle"])
        bodies.append(json.loads(message["Body"]))
    (notification,) = [b for b in bodies if "Records" in b]
    if principal_id is not None:
        notification["Records"][0]["userIdentity"] = {"principalId": principal_id}
    return json.dumps(notification)


def ingest(body: str) -> IngestOutcome:
    (dropped,) = dropped_objects(body)
    return workers.inbox_ingest().ingest(dropped)


def report(inbox: dict[str, Any], key: str) -> dict[str, Any]:
    found = inbox["s3"].get_object(Bucket=inbox["bucket"], Key=key)["Body"].read()
    return dict(json.loads(found))


def test_the_tenants_own_writer_makes_a_design(
    inbox: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    writer = issue_writer_role(TENANT, capsys)
    key = f"inbox/{TENANT}/mine.jpg"
    body = drop(inbox, key, f"AWS:{writer}:partner-upload")
    assert ingest(body) is IngestOutcome.CREATED, report(
        inbox, key.replace("inbox/", "outbox/", 1) + ".error.json"
    )


@pytest.mark.parametrize("who", ["other tenant's writer", "unregistered user", "no identity", "anonymous"])
def test_a_writer_not_registered_for_the_prefix_is_quarantined_with_a_report(
    inbox: dict[str, Any], capsys: pytest.CaptureFixture[str], who: str
) -> None:
    issue_writer_role(TENANT, capsys)
    rival = issue_writer_role(OTHER, capsys)
    principal = {
        "other tenant's writer": f"AWS:{rival}:rival-session",  # writes under TENANT's prefix
        "unregistered user": "AWS:AIDAJQABLZS4A3QDU576Q",
        "no identity": None,
        "anonymous": "anonymous",
    }[who]
    body = drop(inbox, f"inbox/{TENANT}/forged.jpg", principal)
    assert ingest(body) is IngestOutcome.REJECTED
    error = report(inbox, f"outbox/{TENANT}/forged.jpg.error.json")
    assert error["code"] == "inbox_writer_not_allowed"
    assert error["quarantine_key"] == f"quarantine/{TENANT}/forged.jpg"
    assert error["details"]["tenant_id"] == TENANT
    listed = inbox["s3"].list_objects_v2(Bucket=inbox["bucket"], Prefix=f"inbox/{TENANT}/forged.jpg")
    assert "Contents" not in listed, "the original left the inbox"
    quarantined = inbox["s3"].list_objects_v2(
        Bucket=inbox["bucket"], Prefix=f"quarantine/{TENANT}/forged.jpg"
    )
    assert quarantined["KeyCount"] == 1
    designs, _ = bootstrap.design_service().list(TENANT, limit=10, cursor=None)
    assert designs == []


def test_a_revoked_writer_is_refused_from_the_next_drop(
    inbox: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    writer = issue_writer_role(TENANT, capsys)
    assert main(["admin", "inbox-writer", "revoke", TENANT, writer]) == 0
    body = drop(inbox, f"inbox/{TENANT}/after.jpg", f"AWS:{writer}:s")
    assert ingest(body) is IngestOutcome.REJECTED


def test_a_role_arn_is_registered_by_its_unique_id(
    inbox: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="partner-uploader", AssumeRolePolicyDocument="{}")["Role"]
    capsys.readouterr()
    assert main(["admin", "inbox-writer", "allow", TENANT, role["Arn"]]) == 0
    assert json.loads(capsys.readouterr().out)["inbox_writers"] == [role["RoleId"]]
    assert main(["admin", "inbox-writer", "allow", TENANT, "not-an-id"]) == 1


def test_the_issued_role_may_write_only_under_its_tenants_prefix(
    inbox: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    issue_writer_role(TENANT, capsys)
    iam = boto3.client("iam", region_name="us-east-1")
    (name,) = [
        r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("roomcraft-inbox-")
    ]
    policy = iam.get_role_policy(RoleName=name, PolicyName="inbox-writer")["PolicyDocument"]
    put = next(s for s in policy["Statement"] if "s3:PutObject" in s["Action"])
    assert put["Resource"] == f"arn:aws:s3:::{inbox['bucket']}/inbox/{TENANT}/*"


def test_without_the_check_the_local_cloud_keeps_working(
    inbox: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Locally (``roomcraft inbox drop``) the emulator's events name no writer: the check is off."""
    monkeypatch.setenv("ROOMCRAFT_INBOX_WRITER_CHECK", "off")
    get_settings.cache_clear()
    bootstrap.reset()
    key = f"inbox/{TENANT}/local.jpg"
    body = drop(inbox, key, None)
    assert ingest(body) is IngestOutcome.CREATED, report(
        inbox, key.replace("inbox/", "outbox/", 1) + ".error.json"
    )
