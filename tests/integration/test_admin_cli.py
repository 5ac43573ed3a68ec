"""``roomcraft admin`` against a deployment's tables, found through its api function (moto)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from shared import bootstrap
from shared.bootstrap import workers
from shared.cli import main
from shared.services.tenancy import Authenticator

ROLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


@pytest.fixture
def deployed(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> str:
    """An api function whose environment names the tables; the CLI's own environment names none."""
    role = boto3.client("iam").create_role(RoleName="api", AssumeRolePolicyDocument=json.dumps(ROLE_POLICY))
    environment = {name: value for name, value in aws.items() if name.endswith("_TABLE")}
    template = {
        "Resources": {
            "Api": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": "roomcraft-prod-api",
                    "Runtime": "python3.12",
                    "Handler": "handler.handler",
                    "Role": role["Role"]["Arn"],
                    "Code": {"ZipFile": "def handler(event, context):\n    return {}\n"},
                    "Environment": {"Variables": environment},
                },
            }
        }
    }
    boto3.client("cloudformation").create_stack(StackName="roomcraft-prod", TemplateBody=json.dumps(template))
    for name in environment:
        monkeypatch.setenv(name, "wrong-table")  # prove the tables come from the function
    return "roomcraft-prod-api"


def admin(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main(["admin", *argv]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_tenants_and_keys_through_the_stacks_api_function(
    deployed: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, aws: dict[str, Any]
) -> None:
    tenant = admin(
        capsys,
        "--stack",
        "roomcraft-prod",
        "tenant",
        "create",
        "Acme Homes",
        "--id",
        "tnt_acme",
        "--daily-designs",
        "25",
    )
    assert tenant["limits"] == {"daily_designs": 25, "requests_per_minute": None}
    key = admin(capsys, "--function", deployed, "key", "create", "tnt_acme", "--name", "web app")
    assert key["api_key"].startswith("rc_")
    assert "secret_hash" not in key
    listed = admin(capsys, "--stack", "roomcraft-prod", "key", "list", "tnt_acme")
    assert [k["key_id"] for k in listed] == [key["key_id"]]
    assert "api_key" not in listed[0]
    for name, value in aws.items():
        monkeypatch.setenv(name, value)
    bootstrap.reset()
    auth: Authenticator = bootstrap.authenticator()
    assert auth.authenticate(key["api_key"]).tenant_id == "tnt_acme"
    revoked = admin(capsys, "--stack", "roomcraft-prod", "key", "revoke", key["key_id"])
    assert revoked["revoked_at"] is not None
    disabled = admin(capsys, "--stack", "roomcraft-prod", "tenant", "update", "tnt_acme", "--disable")
    assert disabled["status"] == "disabled"
    listed_tenants = admin(capsys, "--stack", "roomcraft-prod", "tenant", "list")
    assert [t["tenant_id"] for t in listed_tenants] == ["tnt_acme", "tnt_default"]


def test_errors_are_one_line_with_their_code(deployed: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["admin", "--function", deployed, "key", "list", "tnt_nobody"]) == 1
    assert capsys.readouterr().err.strip() == "error: tenant_not_found: no tenant tnt_nobody"
    assert main(["admin", "--stack", "no-such-stack", "tenant", "list"]) == 3
    assert "cannot find the deployment's tables" in capsys.readouterr().err


def test_redrive_moves_dead_letters_back_to_their_queue(
    aws: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``roomcraft admin redrive`` (issue 13 item 4): a dead-lettered design gets its message back."""
    from shared.domain.messages import GenerationMessage
    from shared.domain.status import DesignStatus
    from shared.services.designs import DesignRequest
    from tests.conftest import room_photo

    service = bootstrap.design_service()
    slot = service.create_upload("tnt_default", content_type="image/jpeg")
    boto3.client("s3").put_object(
        Bucket=aws["ROOMCRAFT_UPLOADS_BUCKET"], Key=slot.upload.key, Body=room_photo()
    )
    design = service.create(
        "tnt_default", DesignRequest(upload_id=slot.upload.upload_id, room_type="bedroom", style="japandi")
    )
    sqs, queue = boto3.client("sqs"), aws["ROOMCRAFT_GENERATE_QUEUE_URL"]
    # Its message fails every delivery (a bad deploy, say) and SQS dead-letters it.
    for _ in range(6):
        for message in sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0).get("Messages", []):
            assert message["Body"]  # received and not deleted: a failed delivery
    assert sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages", []) == []
    role = boto3.client("iam").create_role(RoleName="w", AssumeRolePolicyDocument=json.dumps(ROLE_POLICY))
    boto3.client("lambda").create_function(
        FunctionName="roomcraft-prod-worker",
        Runtime="python3.12",
        Handler="handler.handler",
        Role=role["Role"]["Arn"],
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        Environment={"Variables": {"ROOMCRAFT_GENERATE_QUEUE_URL": queue}},
    )
    monkeypatch.delenv("ROOMCRAFT_GENERATE_QUEUE_URL")  # the queue comes from the function

    moved = admin(capsys, "--function", "roomcraft-prod-worker", "redrive", "--queue", "generate")

    assert moved["moved"] == 1
    assert moved["dead_letter_queue_url"].endswith("-dlq")
    (message,) = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0)["Messages"]
    assert GenerationMessage.model_validate_json(message["Body"]).design_id == design.design_id
    assert admin(capsys, "--function", "roomcraft-prod-worker", "redrive")["moved"] == 0
    monkeypatch.setenv("ROOMCRAFT_GENERATE_QUEUE_URL", queue)
    bootstrap.reset()
    workers.generation_pipeline().run(GenerationMessage.model_validate_json(message["Body"]))
    assert bootstrap.design_service().get("tnt_default", design.design_id).status is DesignStatus.SUCCEEDED


def test_redrive_without_a_queue_to_find_says_so(
    aws: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["admin", "--endpoint-url", "http://127.0.0.1:9", "redrive"]) == 1
    assert capsys.readouterr().err.startswith("error: redrive_failed:")
