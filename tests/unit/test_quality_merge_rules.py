"""Where the quality gate (issue 18) meets issue 13's refund rule and issue 14's seeds and pricing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.domain.design import MAX_SEED, Brief, Design, DesignError, SourceImage
from shared.domain.quality import next_seed
from shared.domain.quotas import is_refundable, refund_due
from shared.domain.status import DesignStatus
from shared.providers.base import GenerationRequest
from shared.providers.replicate import ReplicateProvider
from shared.settings import Settings

T0 = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
FLUX = "black-forest-labs/flux-depth-dev"


def failed(code: str, **changes: object) -> Design:
    design = Design(
        design_id="dsn_01ABC",
        tenant_id="tnt_a",
        source=SourceImage(upload_id="upl_x", key="uploads/tnt_a/x"),
        brief=Brief(room_type="living_room", style="japandi", variants=2, seed=100),
        provider="preview",
        storage_token="tok",
        created_at=T0,
        updated_at=T0,
    )
    return design.model_copy(
        update={"status": DesignStatus.FAILED, "error": DesignError(code=code, message="x"), **changes}
    )


def test_not_a_room_is_refunded_because_it_stops_before_any_gpu_time() -> None:
    assert is_refundable("not_a_room")
    assert refund_due(failed("not_a_room")) is True


def test_not_a_room_is_never_refunded_once_the_provider_was_asked() -> None:
    assert refund_due(failed("not_a_room", provider_started_at=T0)) is False


@pytest.mark.parametrize("code", ["internal_error", "design_busy", "design_stalled", "provider_unavailable"])
def test_a_design_the_gate_regenerated_is_paid_work_and_never_refunded(code: str) -> None:
    assert refund_due(failed(code)) is True  # the rule's baseline: nothing ran
    assert refund_due(failed(code, regenerations=1)) is False


def request(**changes: object) -> GenerationRequest:
    values: dict[str, object] = {
        "design_id": "dsn_01ABC",
        "tenant_id": "tnt_a",
        "image": b"\xff\xd8\xff-jpeg",
        "width": 1024,
        "height": 768,
        "room_type": "living_room",
        "style": "japandi",
        "palette": (),
        "prompt": "a room",
        "negative_prompt": None,
        "variants": 1,
        "seed": 100,
    }
    values.update(changes)
    return GenerationRequest(**values)  # type: ignore[arg-type]


def flux(**settings: object) -> ReplicateProvider:
    return ReplicateProvider(
        Settings(replicate_model=FLUX, replicate_version="", **settings),  # type: ignore[arg-type]
        client=object(),  # type: ignore[arg-type]
    )


def test_flux_seed_per_variant_and_the_gates_next_seed_agree() -> None:
    """Variant i is one prediction with seed + i; its regeneration is one prediction with the next
    seed, sent exactly as a variant with that seed would be, and never another variant's seed."""
    provider = flux()
    variants = 3
    first = provider.inputs_for(request(variants=variants))
    assert [(one["seed"], one["num_outputs"]) for one in first] == [(100, 1), (101, 1), (102, 1)]
    for index in range(variants):
        seed = next_seed(100, variants=variants, index=index, attempt=1, max_seed=MAX_SEED)
        (again,) = provider.inputs_for(request(variants=1, seed=seed))
        assert (again["seed"], again["num_outputs"]) == (seed, 1)
        assert seed not in {one["seed"] for one in first}
        alone = dict(first[index])
        alone["seed"] = seed
        assert again == alone  # the same request as variant ``index`` had it been given that seed
