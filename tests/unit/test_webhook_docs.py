"""docs/webhooks.md stays true: its verification snippets verify what the dispatcher signs, and
what the dispatcher sends matches its JSON schemas."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from shared.domain.design import Brief, Design, DesignError, SourceImage
from shared.domain.events import OutputSummary, design_event
from shared.domain.status import DesignStatus
from shared.domain.webhooks import (
    DesignWebhookData,
    DisabledReason,
    EndpointDisabledData,
    WebhookEventType,
    WebhookPayload,
    WebhookTestData,
    event_type_for,
    new_signing_secret,
    webhook_headers,
)

DOC = (Path(__file__).parents[2] / "docs" / "webhooks.md").read_text()
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def block_after(marker: str) -> str:
    found = re.search(rf"<!-- {re.escape(marker)} -->\n```\w+\n(.*?)\n```", DOC, re.S)
    assert found, f"no code block marked {marker!r} in docs/webhooks.md"
    return found.group(1)


def signed(body: str, *secrets: str) -> dict[str, str]:
    return webhook_headers(
        list(secrets), "msg_01JD3F8Y3W7K2M9Q4R5S6T7V8W", int(datetime.now(UTC).timestamp()), body
    )


BODY = WebhookPayload(
    type=WebhookEventType.TEST, timestamp=T0, data={"endpoint_id": "whe_1", "message": "héllo"}
).body()


def test_the_python_snippet_verifies_what_the_dispatcher_signs() -> None:
    namespace: dict[str, Any] = {}
    exec(block_after("tested: verify-python"), namespace)  # noqa: S102 - our own documentation
    verify = namespace["verify_webhook"]
    new, old, stranger = new_signing_secret(), new_signing_secret(), new_signing_secret()
    headers = signed(BODY, new, old)
    assert verify(new, headers, BODY.encode()) == json.loads(BODY)
    assert verify(old, {k.upper(): v for k, v in headers.items()}, BODY.encode())["type"] == "webhook.test"
    with pytest.raises(ValueError, match="no matching signature"):
        verify(stranger, headers, BODY.encode())
    with pytest.raises(ValueError, match="no matching signature"):
        verify(new, headers, BODY.replace("héllo", "hello").encode())
    stale = {**headers, "webhook-timestamp": str(int(datetime.now(UTC).timestamp()) - 3600)}
    with pytest.raises(ValueError, match="tolerance"):
        verify(new, stale, BODY.encode())


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_javascript_snippet_verifies_what_the_dispatcher_signs(tmp_path: Path) -> None:
    secret, stranger = new_signing_secret(), new_signing_secret()
    cases = [
        {"secret": secret, "headers": signed(BODY, stranger, secret), "body": BODY},
        {"secret": stranger, "headers": signed(BODY, secret), "body": BODY},
        {"secret": secret, "headers": signed(BODY, secret), "body": BODY + " "},
    ]
    script = tmp_path / "verify.js"
    script.write_text(
        block_after("tested: verify-js")
        + """
const cases = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(cases.map((c) => {
  try { return verifyWebhook(c.secret, c.headers, Buffer.from(c.body, "utf8")).type; }
  catch (e) { return "error: " + e.message; }
})));
"""
    )
    run = subprocess.run(
        ["node", str(script)], input=json.dumps(cases), capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(run.stdout) == [
        "webhook.test",
        "error: no matching signature",
        "error: no matching signature",
    ]


def schema(name: str) -> dict[str, Any]:
    return dict(json.loads(block_after(f"schema: {name}")))


def check(name: str, instance: Any) -> None:
    jsonschema.Draft202012Validator.check_schema(schema(name))
    jsonschema.validate(instance, schema(name), cls=jsonschema.Draft202012Validator)


def design_payloads() -> list[dict[str, Any]]:
    design = Design(
        design_id="dsn_01JD3F8Y3W2Q9Z5T6V7X8Y9Z0A",
        tenant_id="tnt_a",
        source=SourceImage(upload_id="upl_1", key="k"),
        brief=Brief(room_type="bedroom", style="japandi", seed=1),
        provider="preview",
        storage_token="tok",
        created_at=T0,
        updated_at=T0,
        batch_id="bat_1",
    )
    started = design.transition(DesignStatus.PREPARING, now=T0)
    generating = started.transition(DesignStatus.GENERATING, now=T0)
    finalizing = generating.transition(DesignStatus.FINALIZING, now=T0)
    succeeded = finalizing.transition(DesignStatus.SUCCEEDED, now=T0)
    output = OutputSummary(index=0, url="https://cdn/x/full.jpg", thumbnail_url=None, width=8, height=6)
    details = [
        design_event(design, None),
        design_event(started, DesignStatus.QUEUED),
        design_event(succeeded, DesignStatus.FINALIZING, outputs=(output,)),
        design_event(generating.fail("provider_error", "boom", now=T0), DesignStatus.GENERATING),
        design_event(started.transition(DesignStatus.CANCELED, now=T0), DesignStatus.PREPARING),
    ]
    payloads = []
    for detail in details:
        event_type = event_type_for(detail.detail_type)
        assert event_type is not None
        data = DesignWebhookData.of(detail).model_dump(mode="json")
        payloads.append(json.loads(WebhookPayload(type=event_type, timestamp=T0, data=data).body()))
    assert payloads[3]["data"]["error"] == DesignError(code="provider_error", message="boom").model_dump()
    return payloads


def test_design_payloads_match_the_documented_schemas() -> None:
    payloads = design_payloads()
    assert [p["type"] for p in payloads] == [
        "design.queued",
        "design.started",
        "design.succeeded",
        "design.failed",
        "design.canceled",
    ]
    for payload in payloads:
        check("envelope", payload)
        check("design", payload["data"])


def test_other_payloads_match_the_documented_schemas() -> None:
    disabled = EndpointDisabledData(
        event_id="whe_1.disabled.v3",
        tenant_id="tnt_a",
        endpoint_id="whe_1",
        url="https://hooks.example.com/x",
        reason=DisabledReason.FAILING,
        disabled_at=T0,
        failing_since=T0,
    ).model_dump(mode="json", exclude={"tenant_id", "event_id"})
    check("endpoint.disabled", disabled)
    check("webhook.test", WebhookTestData(endpoint_id="whe_1").model_dump(mode="json"))
    check("batch.completed", {"batch_id": "bat_1", "succeeded": 3})
    for event_type, data in (("endpoint.disabled", disabled), ("batch.completed", {"batch_id": "bat_1"})):
        check("envelope", json.loads(WebhookPayload(type=event_type, timestamp=T0, data=data).body()))
