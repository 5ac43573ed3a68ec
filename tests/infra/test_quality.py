"""Photo analysis in the stack: Bedrock permission only when a model is configured, for that model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from infra.config import DeploymentConfig
from tests.infra.conftest import TEST_CONFIG, Synthesized, synthesize
from tests.infra.test_functions_iam import statements

pytestmark = pytest.mark.infra

ANALYSING = ("api", "worker", "inference_events")


def bedrock_statements(synth: Synthesized, function_id: str) -> list[dict[str, Any]]:
    return [s for s in statements(synth, function_id) if any(a.startswith("bedrock:") for a in s["Action"])]


def env(synth: Synthesized, function_id: str) -> dict[str, Any]:
    function = synth.stack.compute.functions[function_id]
    return dict(synth.resource(function)["Properties"]["Environment"]["Variables"])


def test_no_analysis_model_means_no_bedrock_permission_anywhere(synth: Synthesized) -> None:
    assert "bedrock" not in json.dumps(synth.json["Resources"])
    assert "ROOMCRAFT_ANALYSIS_MODEL_ID" not in env(synth, "worker")


@pytest.fixture(scope="module")
def with_model(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    config = TEST_CONFIG.model_copy(update={"analysis_model_id": "amazon.nova-lite-v1:0"})
    return synthesize(config, Path(tmp_path_factory.mktemp("cdk.out")))  # cdk-nag runs: no open finding


def test_the_configured_model_only_and_only_for_the_functions_that_analyse(with_model: Synthesized) -> None:
    for function_id in ANALYSING:
        found = bedrock_statements(with_model, function_id)
        assert [s["Action"] for s in found] == [["bedrock:InvokeModel"]], function_id
        resource = json.dumps(found[0]["Resource"])
        assert "foundation-model/amazon.nova-lite-v1:0" in resource
        assert "bedrock:*" not in resource  # this region only
        assert env(with_model, function_id)["ROOMCRAFT_ANALYSIS_MODEL_ID"] == "amazon.nova-lite-v1:0"
    for function_id in ("ingest", "writeback", "dispatcher"):
        assert bedrock_statements(with_model, function_id) == [], function_id


def test_the_worker_reads_the_tenants_quality_policy(with_model: Synthesized) -> None:
    reads = [s for s in statements(with_model, "worker") if s["Action"] == ["dynamodb:GetItem"]]
    assert any("Tenants" in json.dumps(s["Resource"]) for s in reads)


def test_an_inference_profile_grants_the_profile_and_its_model(tmp_path: Path) -> None:
    config = TEST_CONFIG.model_copy(update={"analysis_model_id": "us.amazon.nova-lite-v1:0"})
    synth = synthesize(config, tmp_path)  # cdk-nag: the acknowledged cross-region model ARN only
    resources = json.dumps(bedrock_statements(synth, "worker")[0]["Resource"])
    assert "inference-profile/us.amazon.nova-lite-v1:0" in resources
    assert ":bedrock:*::foundation-model/amazon.nova-lite-v1:0" in resources


@pytest.mark.parametrize("bad", ["", "nova lite", "arn:aws:bedrock:us-east-1::foundation-model/x", "x" * 200])
def test_a_malformed_model_id_stops_synthesis(bad: str) -> None:
    with pytest.raises(ValidationError, match="analysis_model_id"):
        DeploymentConfig(stage="test", analysis_model_id=bad)


def test_an_inference_profile_synthesizes_offline_too(tmp_path: Path) -> None:
    from tests.infra.conftest import deploy_environ

    config = TEST_CONFIG.model_copy(update={"analysis_model_id": "us.amazon.nova-lite-v1:0"})
    synth = synthesize(config, tmp_path, environ=deploy_environ(None))  # no account or region known
    assert bedrock_statements(synth, "worker")
