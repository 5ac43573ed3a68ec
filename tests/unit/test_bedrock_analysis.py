"""The Bedrock photo analyser against botocore's Stubber, with responses shaped like Converse's.

moto has no Converse; the Stubber validates our request and its responses against botocore's own
model of the API. The timeout case uses a real socket that never answers.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import ANY, Stubber

from shared.adapters.bedrock_analysis import TOOL_NAME, BedrockPhotoAnalyser
from shared.domain.quality import AnalysisSource
from shared.domain.styles import ROOM_TYPES

MODEL = "amazon.nova-lite-v1:0"
PHOTO = b"\xff\xd8\xff\xe0 a prepared jpeg"


def make_client(**config: Any) -> Any:
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(**config) if config else None,
    )


def analyser_for(client: Any) -> BedrockPhotoAnalyser:
    return BedrockPhotoAnalyser(
        client=client,
        model_id=MODEL,
        room_types=ROOM_TYPES,
        input_usd_per_1k_tokens=0.00006,
        output_usd_per_1k_tokens=0.00024,
    )


def converse_response(
    tool_input: Any = None, *, stop: str = "tool_use", content: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    blocks = content
    if blocks is None:
        blocks = [
            {
                "toolUse": {
                    "toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q",
                    "name": TOOL_NAME,
                    "input": tool_input,
                }
            }
        ]
    return {
        "output": {"message": {"role": "assistant", "content": blocks}},
        "stopReason": stop,
        "usage": {"inputTokens": 1650, "outputTokens": 92, "totalTokens": 1742},
        "metrics": {"latencyMs": 1312},
    }


EXPECTED = {
    "modelId": MODEL,
    "messages": ANY,
    "toolConfig": ANY,
    "inferenceConfig": {"maxTokens": 400, "temperature": 0.0},
}

GOOD = {
    "is_room": True,
    "room_type": "bedroom",
    "furnished": True,
    "too_dark": False,
    "too_blurry": False,
    "confidence": 0.93,
    "explanation": "A furnished bedroom with a bed and wardrobe.",
}


@pytest.fixture
def stubbed() -> Iterator[tuple[BedrockPhotoAnalyser, Stubber]]:
    client = make_client()
    with Stubber(client) as stub:
        yield analyser_for(client), stub
        stub.assert_no_pending_responses()


def test_a_tool_answer_becomes_the_analysis_with_its_cost(
    stubbed: tuple[BedrockPhotoAnalyser, Stubber],
) -> None:
    analyser, stub = stubbed
    stub.add_response("converse", converse_response(GOOD), EXPECTED)
    analysis = analyser.analyse(PHOTO)
    assert analysis.status == "analysed"
    assert analysis.source is AnalysisSource.BEDROCK
    assert (analysis.is_room, analysis.room_type, analysis.furnished, analysis.confidence) == (
        True,
        "bedroom",
        True,
        0.93,
    )
    assert analysis.suggestions == ("declutter_first",)
    assert (analysis.input_tokens, analysis.output_tokens, analysis.latency_ms) == (1650, 92, 1312)
    assert analysis.estimated_cost_usd == pytest.approx(1.65 * 0.00006 + 0.092 * 0.00024)
    assert analysis.model_id == MODEL


def test_the_request_sends_image_bytes_and_forces_the_tool() -> None:
    client = make_client()
    seen: dict[str, Any] = {}
    client.meta.events.register(
        "provide-client-params.bedrock-runtime.Converse", lambda params, **_: seen.update(params)
    )
    with Stubber(client) as stub:
        stub.add_response("converse", converse_response(GOOD))
        analyser_for(client).analyse(PHOTO)
    image = seen["messages"][0]["content"][0]["image"]
    assert image == {"format": "jpeg", "source": {"bytes": PHOTO}}
    assert seen["toolConfig"]["toolChoice"] == {"tool": {"name": TOOL_NAME}}
    schema = seen["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]
    assert set(schema["required"]) >= {
        "is_room",
        "room_type",
        "furnished",
        "too_dark",
        "too_blurry",
        "confidence",
    }
    assert "bedroom" in schema["properties"]["room_type"]["enum"]


def test_not_a_room_with_high_confidence_refuses(stubbed: tuple[BedrockPhotoAnalyser, Stubber]) -> None:
    analyser, stub = stubbed
    answer = GOOD | {"is_room": False, "room_type": "unknown", "confidence": 0.97, "furnished": False}
    stub.add_response("converse", converse_response(answer), EXPECTED)
    analysis = analyser.analyse(PHOTO)
    assert analysis.refuses(0.8)
    assert analysis.room_type is None  # "unknown" is not a catalogue type


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        ("ThrottlingException", 429, "throttled"),
        ("ServiceQuotaExceededException", 429, "throttled"),
        ("ModelTimeoutException", 408, "timeout"),
        ("AccessDeniedException", 403, "access_denied"),
        ("ValidationException", 400, "bad_request"),
        ("ModelNotReadyException", 429, "model_not_ready"),
        ("ServiceUnavailableException", 503, "unavailable"),
        ("InternalServerException", 500, "unavailable"),
    ],
)
def test_service_errors_skip_the_analysis_with_a_reason(
    stubbed: tuple[BedrockPhotoAnalyser, Stubber], code: str, status: int, reason: str
) -> None:
    analyser, stub = stubbed
    stub.add_client_error("converse", service_error_code=code, http_status_code=status)
    analysis = analyser.analyse(PHOTO)
    assert (analysis.status, analysis.reason, analysis.source) == ("skipped", reason, AnalysisSource.BEDROCK)
    assert not analysis.refuses(0.0)


@pytest.mark.parametrize("stop", ["content_filtered", "guardrail_intervened"])
def test_a_refusal_skips_the_analysis(stubbed: tuple[BedrockPhotoAnalyser, Stubber], stop: str) -> None:
    analyser, stub = stubbed
    stub.add_response("converse", converse_response(content=[{"text": "I can't help with that."}], stop=stop))
    assert analyser.analyse(PHOTO).reason == "refused"


def test_an_answer_in_words_instead_of_the_tool_is_a_refusal(
    stubbed: tuple[BedrockPhotoAnalyser, Stubber],
) -> None:
    analyser, stub = stubbed
    stub.add_response(
        "converse", converse_response(content=[{"text": "It is a nice room."}], stop="end_turn")
    )
    analysis = analyser.analyse(PHOTO)
    assert (analysis.status, analysis.reason) == ("skipped", "refused")


@pytest.mark.parametrize(
    "tool_input",
    [
        {"is_room": "maybe"},  # wrong type, fields missing
        GOOD | {"confidence": 7},  # out of range
        "not an object",
        None,
    ],
)
def test_malformed_tool_output_skips_the_analysis(
    stubbed: tuple[BedrockPhotoAnalyser, Stubber], tool_input: Any
) -> None:
    analyser, stub = stubbed
    stub.add_response("converse", converse_response(tool_input))
    assert analyser.analyse(PHOTO).reason == "malformed_output"


def test_an_answer_cut_off_by_max_tokens_is_malformed(stubbed: tuple[BedrockPhotoAnalyser, Stubber]) -> None:
    analyser, stub = stubbed
    stub.add_response("converse", converse_response({"is_room": True}, stop="max_tokens"))
    assert analyser.analyse(PHOTO).reason == "malformed_output"


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A TCP server that accepts connections and never answers: a read timeout, for real."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


def test_a_timeout_skips_the_analysis(silent_endpoint: str) -> None:
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=silent_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(read_timeout=0.3, connect_timeout=1, retries={"total_max_attempts": 1}),
    )
    analysis = analyser_for(client).analyse(PHOTO)
    assert (analysis.status, analysis.reason) == ("skipped", "timeout")


def test_an_unreachable_endpoint_is_unavailable() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(connect_timeout=1, retries={"total_max_attempts": 1}),
    )
    assert analyser_for(client).analyse(PHOTO).reason == "unavailable"
