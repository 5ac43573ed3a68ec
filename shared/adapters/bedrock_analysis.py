"""Photo analysis by a vision-language model through Amazon Bedrock's Converse API.

The photo goes as image bytes; the answer comes back as the input of a tool the model is made to
call (``toolChoice``), validated against a pydantic model. Every way this can go wrong ends in a
*skipped* analysis with a reason (never an exception): the design carries on without it.

Reasons: ``throttled``, ``timeout``, ``refused`` (content filter, guardrail, or an answer without the
tool), ``malformed_output`` (tool input that does not fit the schema, or cut off by ``max_tokens``),
``access_denied``, ``model_not_ready``, ``bad_request``, ``unavailable``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.domain.quality import AnalysisSource, PhotoAnalysis, skipped, suggestions_for

logger = Logger(service="roomcraft", child=True)

TOOL_NAME = "report_room_photo"
PROMPT = (
    "You check photos before an interior-design model restages them. Look at the photo and call "
    f"{TOOL_NAME} once. is_room: true only for a photo of an interior room of a home or office. "
    "room_type: the closest of the allowed values, or 'unknown'. furnished: true if it has furniture "
    "that would need removing before staging. too_dark / too_blurry: true if a person would retake it. "
    "confidence: how sure you are of is_room, from 0 to 1."
)

_ERROR_REASONS = {
    "ThrottlingException": "throttled",
    "ServiceQuotaExceededException": "throttled",
    "TooManyRequestsException": "throttled",
    "ModelTimeoutException": "timeout",
    "AccessDeniedException": "access_denied",
    "ModelNotReadyException": "model_not_ready",
    "ValidationException": "bad_request",
    "ResourceNotFoundException": "bad_request",
    "ServiceUnavailableException": "unavailable",
    "InternalServerException": "unavailable",
    "ModelErrorException": "unavailable",
}
_REFUSAL_STOPS = {"content_filtered", "guardrail_intervened"}


class RoomReport(BaseModel):
    """The tool's input: what the model must answer (its JSON schema is the tool's schema)."""

    model_config = ConfigDict(extra="ignore")

    is_room: bool
    room_type: str
    furnished: bool
    too_dark: bool
    too_blurry: bool
    confidence: float = Field(ge=0.0, le=1.0)
    explanation: str = Field(default="", max_length=400)


def tool_config(room_types: Iterable[str]) -> dict[str, Any]:
    schema = RoomReport.model_json_schema()
    schema["properties"]["room_type"]["enum"] = [*sorted(room_types), "unknown"]
    return {
        "tools": [
            {
                "toolSpec": {
                    "name": TOOL_NAME,
                    "description": "Report what the photo shows, for the staging pipeline.",
                    "inputSchema": {"json": schema},
                }
            }
        ],
        "toolChoice": {"tool": {"name": TOOL_NAME}},
    }


class BedrockPhotoAnalyser:
    def __init__(
        self,
        *,
        client: Any,
        model_id: str,
        room_types: Iterable[str],
        input_usd_per_1k_tokens: float,
        output_usd_per_1k_tokens: float,
        max_tokens: int = 400,
    ) -> None:
        self._client = client
        self._model_id = model_id
        self._room_types = frozenset(room_types)
        self._tools = tool_config(self._room_types)
        self._input_price = input_usd_per_1k_tokens
        self._output_price = output_usd_per_1k_tokens
        self._max_tokens = max_tokens

    def _skipped(self, reason: str) -> PhotoAnalysis:
        logger.warning("photo analysis skipped", extra={"reason": reason, "model_id": self._model_id})
        return skipped(reason, source=AnalysisSource.BEDROCK, model_id=self._model_id)

    def analyse(self, image: bytes) -> PhotoAnalysis:
        """``image``: the prepared JPEG (sRGB, at most the model input's size, no metadata)."""
        started = time.perf_counter()
        try:
            response = self._client.converse(
                modelId=self._model_id,
                messages=[
                    {
                        "role": "user",
                        "content": [
                            {"image": {"format": "jpeg", "source": {"bytes": image}}},
                            {"text": PROMPT},
                        ],
                    }
                ],
                toolConfig=self._tools,
                inferenceConfig={"maxTokens": self._max_tokens, "temperature": 0.0},
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            return self._skipped(_ERROR_REASONS.get(code, "unavailable"))
        except (ReadTimeoutError, ConnectTimeoutError):
            return self._skipped("timeout")
        except BotoCoreError:
            return self._skipped("unavailable")
        return self._read(response, elapsed_ms=int((time.perf_counter() - started) * 1000))

    def _read(self, response: dict[str, Any], *, elapsed_ms: int) -> PhotoAnalysis:
        stop = response.get("stopReason")
        if stop in _REFUSAL_STOPS:
            return self._skipped("refused")
        if stop == "max_tokens":
            return self._skipped("malformed_output")
        content = response.get("output", {}).get("message", {}).get("content", [])
        tool_use = next(
            (
                block["toolUse"]
                for block in content
                if "toolUse" in block and block["toolUse"].get("name") == TOOL_NAME
            ),
            None,
        )
        if tool_use is None:
            return self._skipped("refused")  # it answered in words instead of the report
        try:
            report = RoomReport.model_validate(tool_use.get("input"))
        except ValidationError:
            return self._skipped("malformed_output")
        usage = response.get("usage", {})
        input_tokens, output_tokens = int(usage.get("inputTokens", 0)), int(usage.get("outputTokens", 0))
        cost = input_tokens / 1000 * self._input_price + output_tokens / 1000 * self._output_price
        return PhotoAnalysis(
            status="analysed",
            source=AnalysisSource.BEDROCK,
            is_room=report.is_room,
            room_type=report.room_type if report.room_type in self._room_types else None,
            furnished=report.furnished,
            too_dark=report.too_dark,
            too_blurry=report.too_blurry,
            confidence=report.confidence,
            suggestions=suggestions_for(
                furnished=report.furnished, too_dark=report.too_dark, too_blurry=report.too_blurry
            ),
            reason=report.explanation or None,
            model_id=self._model_id,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            latency_ms=int(response.get("metrics", {}).get("latencyMs", elapsed_ms)),
            estimated_cost_usd=round(cost, 8),
        )
