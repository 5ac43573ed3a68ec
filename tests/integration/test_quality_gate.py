"""The quality gate in the worker, against moto: photo analysis before generation, structure after it."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber
from PIL import Image, ImageDraw

from shared import bootstrap
from shared.adapters.bedrock_analysis import BedrockPhotoAnalyser
from shared.adapters.dynamodb import DesignRepository
from shared.adapters.dynamodb_tenancy import TenantRepository
from shared.adapters.eventbridge import StatusEventBus
from shared.adapters.s3 import Bucket
from shared.domain.design import Brief, Design, SourceImage
from shared.domain.errors import ProviderUnavailable
from shared.domain.events import DesignEventDetail
from shared.domain.ids import new_id
from shared.domain.messages import GenerationMessage
from shared.domain.quality import AnalysisSource, PhotoAnalysis, QualityPolicy
from shared.domain.status import DesignStatus
from shared.domain.styles import ROOM_TYPES
from shared.imaging.photo_stats import HeuristicPhotoAnalyser
from shared.providers.base import Completed, GeneratedImage, GenerationOutcome, GenerationRequest, Pending
from shared.providers.preview import PreviewProvider
from shared.services.generation import GenerationPipeline, RunResult
from shared.services.quality import PhotoAnalyser, QualityGate, verdict_key
from shared.settings import get_settings
from tests import quality_pairs

TENANT = "tnt_default"
T0 = datetime.now(UTC)


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def blue_with_a_yellow_circle() -> bytes:
    image = Image.new("RGB", (1200, 800), (30, 80, 200))
    ImageDraw.Draw(image).ellipse((450, 250, 750, 550), fill=(250, 220, 40))
    return jpeg(image)


class ScriptedProvider:
    """The preview provider; seeds in ``mirrored_seeds`` come back mirrored (the architecture moved)."""

    name = "preview"
    typical_seconds = 1.0

    def __init__(self, mirrored_seeds: set[int], fail_seeds: set[int] | None = None) -> None:
        self.requests: list[GenerationRequest] = []
        self._inner = PreviewProvider()
        self._mirrored = mirrored_seeds
        self._fail = fail_seeds or set()

    def start(self, request: GenerationRequest) -> GenerationOutcome:
        self.requests.append(request)
        if request.seed in self._fail:
            raise ProviderUnavailable("the GPU fell over")
        outcome = self._inner.start(request)
        assert isinstance(outcome, Completed)
        images = []
        for offset, image in enumerate(outcome.images):
            if request.seed + offset in self._mirrored:
                flipped = Image.open(io.BytesIO(image.data)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
                image = GeneratedImage(jpeg(flipped), "image/jpeg", image.metadata)
            images.append(image)
        return Completed(images=tuple(images), provider_seconds=1.5, estimated_cost_usd=0.01)


class FixedAnalyser:
    def __init__(self, analysis: PhotoAnalysis) -> None:
        self.analysis = analysis

    def analyse(self, image: bytes) -> PhotoAnalysis:
        return self.analysis


class Recording:
    def __init__(self) -> None:
        self.events: list[DesignEventDetail] = []
        self._bus = StatusEventBus(get_settings().event_bus_name)

    def publish(self, detail: DesignEventDetail) -> None:
        self.events.append(detail)
        self._bus.publish(detail)


class World:
    def __init__(self) -> None:
        self.settings = get_settings()
        self.designs = DesignRepository(self.settings)
        self.work = Bucket(self.settings.uploads_bucket)
        self.events = Recording()

    def pipeline(self, provider: Any, analyser: PhotoAnalyser | None = None) -> GenerationPipeline:
        gate = QualityGate(
            settings=self.settings,
            analyser=analyser or HeuristicPhotoAnalyser(),
            tenants=TenantRepository(self.settings),
            work_bucket=self.work,
        )
        return GenerationPipeline(
            settings=self.settings,
            designs=self.designs,
            work_bucket=self.work,
            outputs=Bucket(self.settings.outputs_bucket, public_base_url=self.settings.cdn_base_url),
            events=self.events,
            fetcher=None,  # type: ignore[arg-type]
            providers=lambda _name: provider,
            on_terminal=bootstrap.settlement().settle,
            quality=gate,
        )

    def queued(self, photo: bytes, *, variants: int = 1, room_type: str = "living_room") -> GenerationMessage:
        design_id = new_id("dsn")
        key = f"uploads/{TENANT}/{design_id}"
        self.work.write(key, photo, content_type="image/jpeg")
        bootstrap.metering().consume_designs(TENANT, 1, at=T0)  # as the API does on creation
        self.designs.create(
            Design(
                design_id=design_id,
                tenant_id=TENANT,
                source=SourceImage(upload_id="upl_x", key=key),
                brief=Brief(room_type=room_type, style="japandi", variants=variants, seed=100),
                provider="preview",
                storage_token="tok",
                created_at=T0,
                updated_at=T0,
            )
        )
        return GenerationMessage(tenant_id=TENANT, design_id=design_id)

    def design(self, message: GenerationMessage) -> Design:
        return self.designs.get(message.tenant_id, message.design_id)

    def used_today(self) -> int:
        return bootstrap.metering().usage(bootstrap.tenant_admin().get_tenant(TENANT)).designs.used


@pytest.fixture
def world(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("ROOMCRAFT_STRUCTURE_RETRIES", "1")  # the documented default (conftest sets 0)
    bootstrap.reset()
    return World()


def set_tenant_policy(policy: QualityPolicy) -> None:
    tenants = TenantRepository(get_settings())
    tenants.save(tenants.get(TENANT).model_copy(update={"quality": policy}))


# --- photo analysis before generation ------------------------------------------------------
def test_a_photo_that_is_not_a_room_fails_before_any_generation_and_gives_the_quota_back(
    world: World,
) -> None:
    provider = ScriptedProvider(set())
    message = world.queued(blue_with_a_yellow_circle())
    assert world.used_today() == 1
    assert world.pipeline(provider).run(message) is RunResult.FAILED
    design = world.design(message)
    assert design.error is not None
    assert design.error.code == "not_a_room"
    assert "heuristic" in design.error.message
    assert "flat graphic" in design.error.message
    assert provider.requests == []  # no GPU time
    assert world.used_today() == 0  # refunded
    assert [e.status.value for e in world.events.events][-1] == "failed"


def test_a_low_confidence_not_a_room_does_not_refuse_the_photo(world: World) -> None:
    unsure = PhotoAnalysis(status="analysed", source=AnalysisSource.BEDROCK, is_room=False, confidence=0.5)
    message = world.queued(quality_pairs.SAMPLE.read_bytes())
    assert world.pipeline(ScriptedProvider(set()), FixedAnalyser(unsure)).run(message) is RunResult.SUCCEEDED
    assert world.design(message).analysis == unsure


def test_auto_room_type_takes_the_detected_type(world: World) -> None:
    bedroom = PhotoAnalysis(
        status="analysed", source=AnalysisSource.BEDROCK, is_room=True, room_type="bedroom", confidence=0.95
    )
    provider = ScriptedProvider(set())
    message = world.queued(quality_pairs.SAMPLE.read_bytes(), room_type="auto")
    assert world.pipeline(provider, FixedAnalyser(bedroom)).run(message) is RunResult.SUCCEEDED
    assert world.design(message).brief.room_type == "bedroom"
    assert provider.requests[0].room_type == "bedroom"


def test_auto_room_type_falls_back_when_the_heuristic_cannot_tell(world: World) -> None:
    message = world.queued(quality_pairs.SAMPLE.read_bytes(), room_type="auto")
    assert world.pipeline(ScriptedProvider(set())).run(message) is RunResult.SUCCEEDED
    design = world.design(message)
    assert design.brief.room_type == "living_room"
    assert design.analysis is not None
    assert design.analysis.source is AnalysisSource.HEURISTIC
    assert design.analysis.confidence <= 0.3  # the heuristic never claims to know more


def test_a_throttled_bedrock_analysis_is_skipped_and_the_design_carries_on(world: World) -> None:
    import boto3

    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    analyser = BedrockPhotoAnalyser(
        client=client,
        model_id="amazon.nova-lite-v1:0",
        room_types=ROOM_TYPES,
        input_usd_per_1k_tokens=0.00006,
        output_usd_per_1k_tokens=0.00024,
    )
    message = world.queued(quality_pairs.SAMPLE.read_bytes())
    with Stubber(client) as stub:
        stub.add_client_error("converse", service_error_code="ThrottlingException", http_status_code=429)
        assert world.pipeline(ScriptedProvider(set()), analyser).run(message) is RunResult.SUCCEEDED
    analysis = world.design(message).analysis
    assert analysis is not None
    assert (analysis.status, analysis.reason) == ("skipped", "throttled")


# --- structure after generation -------------------------------------------------------------
def test_a_variant_that_moved_the_room_is_regenerated_with_the_next_seed(world: World) -> None:
    provider = ScriptedProvider(mirrored_seeds={101})  # variant 1 (seed 101) comes back mirrored
    message = world.queued(quality_pairs.SAMPLE.read_bytes(), variants=2)
    assert world.pipeline(provider).run(message) is RunResult.SUCCEEDED
    design = world.design(message)
    assert [r.seed for r in provider.requests] == [100, 103]  # seed + index + attempt * variants
    assert provider.requests[1].variants == 1
    first, second = (output.quality for output in design.outputs)
    assert first is not None
    assert second is not None
    assert (first.attempts, first.structure_ok) == (1, True)
    assert (second.attempts, second.structure_ok, second.seed) == (2, True, 103)
    assert design.regenerations == 1
    assert design.estimated_cost_usd == pytest.approx(0.02)  # the regeneration is counted
    assert design.structure_ok is True
    succeeded = world.events.events[-1]
    assert succeeded.status is DesignStatus.SUCCEEDED
    assert succeeded.structure_ok is True
    assert [o.attempts for o in succeeded.outputs] == [1, 2]


def test_a_variant_still_below_the_threshold_is_kept_and_flagged(world: World) -> None:
    provider = ScriptedProvider(mirrored_seeds={100, 101})
    message = world.queued(quality_pairs.SAMPLE.read_bytes())
    assert world.pipeline(provider).run(message) is RunResult.SUCCEEDED
    design = world.design(message)
    quality = design.outputs[0].quality
    assert quality is not None
    assert (quality.structure_ok, quality.attempts) == (False, 2)
    assert quality.structure_score < quality.threshold
    succeeded = world.events.events[-1]
    assert succeeded.structure_ok is False
    assert succeeded.outputs[0].structure_ok is False
    assert succeeded.outputs[0].structure_score == quality.structure_score


def test_the_tenant_policy_sets_threshold_and_retries(world: World) -> None:
    set_tenant_policy(QualityPolicy(structure_threshold=0.95, structure_retries=0))
    provider = ScriptedProvider(mirrored_seeds=set())  # a fine restyle (about 0.77), under this strict bar
    message = world.queued(quality_pairs.SAMPLE.read_bytes())
    assert world.pipeline(provider).run(message) is RunResult.SUCCEEDED
    quality = world.design(message).outputs[0].quality
    assert quality is not None
    assert (quality.threshold, quality.attempts, quality.structure_ok) == (0.95, 1, False)
    assert len(provider.requests) == 1


def test_a_failed_regeneration_keeps_the_first_image_flagged(world: World) -> None:
    provider = ScriptedProvider(mirrored_seeds={100}, fail_seeds={101})
    message = world.queued(quality_pairs.SAMPLE.read_bytes())
    assert world.pipeline(provider).run(message) is RunResult.SUCCEEDED
    quality = world.design(message).outputs[0].quality
    assert quality is not None
    assert (quality.attempts, quality.structure_ok, quality.seed) == (1, False, 100)


def test_a_redelivered_review_never_pays_for_a_regeneration_twice(world: World) -> None:
    provider = ScriptedProvider(mirrored_seeds={100})
    message = world.queued(quality_pairs.SAMPLE.read_bytes())
    pipeline = world.pipeline(provider)
    design = world.design(message)
    # The first delivery reviewed the variant (and paid for its regeneration), then died.
    verdict = {
        "quality": {
            "structure_score": 0.9,
            "structure_ok": True,
            "attempts": 2,
            "threshold": 0.55,
            "seed": 101,
        },
        "provider_seconds": 1.5,
        "estimated_cost_usd": 0.01,
    }
    world.work.write(verdict_key(design, 0), json.dumps(verdict).encode(), content_type="application/json")
    assert pipeline.run(message) is RunResult.SUCCEEDED
    assert [r.seed for r in provider.requests] == [100]
    stored = world.design(message)
    assert stored.regenerations == 1
    assert stored.estimated_cost_usd == pytest.approx(0.02)


class LaterProvider(ScriptedProvider):
    """First generations complete at once (mirrored: too low); regenerations are predictions."""

    def __init__(self, *, finishes: bool) -> None:
        super().__init__(mirrored_seeds={100})
        self.finishes = finishes
        self.polled: list[str] = []
        self.canceled: list[str] = []

    def start(self, request: GenerationRequest) -> GenerationOutcome:
        if request.seed == 100:
            return super().start(request)
        self.requests.append(request)
        self._later = super().start(request)
        return Pending(prediction_id=f"pred_{request.seed}")

    def poll(self, prediction_id: str) -> GenerationOutcome:
        self.polled.append(prediction_id)
        return self._later if self.finishes else Pending(prediction_id=prediction_id)

    def cancel(self, prediction_id: str) -> None:
        self.canceled.append(prediction_id)


def test_a_regeneration_that_completes_later_is_polled_and_kept(world: World) -> None:
    provider = LaterProvider(finishes=True)
    message = world.queued(quality_pairs.SAMPLE.read_bytes())
    assert world.pipeline(provider).run(message) is RunResult.SUCCEEDED
    quality = world.design(message).outputs[0].quality
    assert quality is not None
    assert (quality.attempts, quality.structure_ok, quality.seed) == (2, True, 101)
    assert (provider.polled, provider.canceled) == (["pred_101"], [])


def test_a_regeneration_still_running_at_the_budget_is_canceled(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROOMCRAFT_STRUCTURE_RETRY_BUDGET_SECONDS", "1")
    bootstrap.reset()
    world = World()
    provider = LaterProvider(finishes=False)
    message = world.queued(quality_pairs.SAMPLE.read_bytes())
    assert world.pipeline(provider).run(message) is RunResult.SUCCEEDED
    quality = world.design(message).outputs[0].quality
    assert quality is not None
    assert (quality.attempts, quality.structure_ok, quality.seed) == (1, False, 100)
    assert provider.canceled == ["pred_101"]


def test_no_regeneration_starts_once_the_budget_is_spent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROOMCRAFT_STRUCTURE_RETRY_BUDGET_SECONDS", "0.000001")
    bootstrap.reset()
    world = World()
    provider = ScriptedProvider(mirrored_seeds={100})
    message = world.queued(quality_pairs.SAMPLE.read_bytes())
    assert world.pipeline(provider).run(message) is RunResult.SUCCEEDED
    quality = world.design(message).outputs[0].quality
    assert quality is not None
    assert (quality.attempts, quality.structure_ok) == (1, False)
    assert [r.seed for r in provider.requests] == [100]


# --- with issue 13 (invocation deadlines, refunds) and issue 14 (filtered FLUX variants) -------
def test_no_regeneration_starts_when_the_invocation_has_no_time_left_for_it(world: World) -> None:
    provider = ScriptedProvider(mirrored_seeds={100})
    message = world.queued(quality_pairs.SAMPLE.read_bytes())
    # 10 s left is less than the reserve kept to store, announce and settle: no regeneration.
    assert world.pipeline(provider).run(message, time_left=lambda: 10.0) is RunResult.SUCCEEDED
    quality = world.design(message).outputs[0].quality
    assert quality is not None
    assert (quality.attempts, quality.structure_ok) == (1, False)
    assert [r.seed for r in provider.requests] == [100]


class FilteringProvider(ScriptedProvider):
    """Two variants asked, one image back: a safety checker (FLUX's) dropped the other."""

    def start(self, request: GenerationRequest) -> GenerationOutcome:
        outcome = super().start(request)
        assert isinstance(outcome, Completed)
        return Completed(images=outcome.images[:1], provider_seconds=1.5, estimated_cost_usd=0.025)


def test_a_filtered_variant_is_not_reviewed_and_the_stored_one_is(world: World) -> None:
    provider = FilteringProvider(mirrored_seeds={100})
    message = world.queued(quality_pairs.SAMPLE.read_bytes(), variants=2)
    assert world.pipeline(provider).run(message) is RunResult.SUCCEEDED
    design = world.design(message)
    (output,) = design.outputs
    assert output.metadata["variants-filtered"] == "1"
    assert output.quality is not None
    assert (output.quality.attempts, output.quality.seed) == (2, 102)  # variant 0's next seed
    assert [r.seed for r in provider.requests] == [100, 102]
    assert design.regenerations == 1
    assert design.estimated_cost_usd == pytest.approx(0.05)  # two images at FLUX's per-image price
    assert world.work.size_of(verdict_key(design, 1)) is None  # nothing to review for variant 1
