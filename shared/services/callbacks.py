"""Provider callbacks: verify who sent them, then let the pipeline complete the design.

The signature (and its timestamp tolerance) is checked before the body is even parsed; the
design's own state is the replay guard: a prediction already stored, or a design past
``generating``, makes a repeated or late callback a no-op (``already_done`` / ``ignored``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from pydantic import ValidationError

from shared.domain.errors import ValidationFailed
from shared.services import wiring
from shared.settings import get_settings


def receive_replicate_callback(
    tenant_id: str, design_id: str, headers: Mapping[str, str], body: bytes
) -> str:
    """The pipeline's ``RunResult`` value for this callback."""
    # Imported on the callback path only: the API's cold start never loads replicate or Pillow.
    from shared.providers.registry import provider_for
    from shared.providers.replicate import PredictionReport, ReplicateProvider, verify_webhook, webhook_secret

    settings = get_settings()
    verify_webhook(
        headers, body, webhook_secret(settings), tolerance=settings.replicate_webhook_tolerance_seconds
    )
    try:
        payload = json.loads(body)
        report = PredictionReport.model_validate(payload)
    except (ValueError, ValidationError):
        raise ValidationFailed("the callback body is not a Replicate prediction") from None
    provider = provider_for("replicate", settings)
    assert isinstance(provider, ReplicateProvider)
    result = wiring.generation_pipeline().complete_prediction(
        tenant_id, design_id, report.id, lambda: provider.outcome_of(payload)
    )
    return result.value
