"""``-c inference=selfhosted``: the model on an async SageMaker endpoint that scales to zero.

Its own synthesized stack (cdk-nag runs in the synth: an open finding fails it) and cfn-lint.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match
from cfnlint.api import ManualArgs, lint

from infra.config import ConfigError, DeploymentConfig
from tests.infra.conftest import Synthesized, synthesize

pytestmark = pytest.mark.infra

IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/roomcraft-inference:2026-12-04"
MODEL_DATA = "s3://roomcraft-models-123456789012/staging/model.tar.gz"
CONFIG = DeploymentConfig(
    stage="gpu",
    inference="selfhosted",
    inference_image=IMAGE,
    inference_model_data=MODEL_DATA,
    inference_instance_type="ml.g6.xlarge",
    inference_max_instances=3,
)


@pytest.fixture(scope="module")
def selfhosted(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(CONFIG, tmp_path_factory.mktemp("cdk.out"))


def only(synth: Synthesized, resource_type: str) -> dict[str, Any]:
    found = synth.resources(resource_type)
    assert len(found) == 1, found.keys()
    return next(iter(found.values()))["Properties"]


def test_selfhosted_makes_the_worker_use_its_async_endpoint() -> None:
    assert CONFIG.provider == "sagemaker"
    assert CONFIG.sagemaker_endpoint == "roomcraft-gpu-staging"


def test_the_model_runs_the_image_with_its_archive_and_no_network(selfhosted: Synthesized) -> None:
    model = only(selfhosted, "AWS::SageMaker::Model")
    assert model["PrimaryContainer"]["Image"] == IMAGE
    assert model["PrimaryContainer"]["ModelDataUrl"] == MODEL_DATA
    assert model["EnableNetworkIsolation"] is True


def test_the_endpoint_is_asynchronous_on_the_gpu_type_from_context(selfhosted: Synthesized) -> None:
    config = only(selfhosted, "AWS::SageMaker::EndpointConfig")
    (variant,) = config["ProductionVariants"]
    assert variant["InstanceType"] == "ml.g6.xlarge"
    output = config["AsyncInferenceConfig"]["OutputConfig"]
    assert "/work/sagemaker-async/output" in json.dumps(output["S3OutputPath"])
    topics = selfhosted.stack.inference.async_topics
    assert output["NotificationConfig"] == {
        "SuccessTopic": {"Ref": selfhosted.logical_id(topics["success"])},
        "ErrorTopic": {"Ref": selfhosted.logical_id(topics["error"])},
    }
    endpoint = only(selfhosted, "AWS::SageMaker::Endpoint")
    assert endpoint["EndpointName"] == "roomcraft-gpu-staging"
    worker = selfhosted.resource(selfhosted.stack.compute.functions["worker"])
    env = worker["Properties"]["Environment"]["Variables"]
    assert env["ROOMCRAFT_SAGEMAKER_MODE"] == "async"
    assert env["ROOMCRAFT_SAGEMAKER_ENDPOINT"] == "roomcraft-gpu-staging"


def test_it_scales_to_zero_on_backlog_and_up_from_zero_on_backlog_without_capacity(
    selfhosted: Synthesized,
) -> None:
    target = only(selfhosted, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (0, 3)
    assert target["ResourceId"] == "endpoint/roomcraft-gpu-staging/variant/AllTraffic"
    policies = {
        p["Properties"]["PolicyType"]: p["Properties"]
        for p in selfhosted.resources("AWS::ApplicationAutoScaling::ScalingPolicy").values()
    }
    tracking = policies["TargetTrackingScaling"]["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["CustomizedMetricSpecification"]["MetricName"] == "ApproximateBacklogSizePerInstance"
    step = policies["StepScaling"]["StepScalingPolicyConfiguration"]
    assert step["AdjustmentType"] == "ChangeInCapacity"
    assert step["StepAdjustments"] == [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]
    selfhosted.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "HasBacklogWithoutCapacity",
            "Namespace": "AWS/SageMaker",
            "Dimensions": [{"Name": "EndpointName", "Value": "roomcraft-gpu-staging"}],
            "AlarmActions": Match.array_with([{"Ref": Match.string_like_regexp("ScaleUpFromZero")}]),
        },
    )


def test_the_execution_role_reaches_only_what_the_endpoint_needs(selfhosted: Synthesized) -> None:
    role = selfhosted.stack.selfhosted.role  # type: ignore[union-attr]
    role_id = selfhosted.logical_id(role)
    statements = [
        statement
        for policy in selfhosted.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    text = json.dumps(statements)
    assert "roomcraft-models-123456789012/staging/model.tar.gz" in text
    assert "work/*/sagemaker/request.json" in text
    assert "work/sagemaker-async/*" in text
    assert "repository/roomcraft-inference" in text
    assert "s3:DeleteObject" not in text
    assert '"s3:*"' not in text
    assert all(statement["Effect"] == "Allow" for statement in statements)


def test_cdk_nag_and_cfn_lint_are_clean(selfhosted: Synthesized) -> None:
    report = json.loads((selfhosted.outdir / "validation-report.json").read_text())
    assert [r for r in report["pluginReports"] if r.get("conclusion") != "success"] == []
    matches = lint(
        json.dumps(selfhosted.json), config=ManualArgs(regions=["eu-west-1"], ignore_checks=["W3005"])
    )
    assert [f"{m.rule.id} {m.message}" for m in matches if m.rule.id[0] in {"E", "W"}] == []


def test_the_default_deployment_has_no_endpoint(synth: Synthesized) -> None:
    assert synth.resources("AWS::SageMaker::Endpoint") == {}
    assert synth.stack.selfhosted is None


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"inference_image": None}, "needs inference_image"),
        ({"inference_image": "docker.io/me/roomcraft:1"}, "needs inference_image"),
        ({"inference_model_data": "https://example.com/model.tar.gz"}, "needs inference_model_data"),
        ({"inference_instance_type": "ml.m5.xlarge"}, "GPU instance type"),
        ({"provider": "replicate"}, "serves through provider 'sagemaker'"),
    ],
)
def test_a_selfhosted_configuration_missing_a_piece_is_refused(changes: dict[str, Any], problem: str) -> None:
    values = {
        "inference": "selfhosted",
        "inference_image": IMAGE,
        "inference_model_data": MODEL_DATA,
        **changes,
    }
    context = {key: value for key, value in values.items() if value is not None}
    with pytest.raises(ConfigError, match=problem):
        DeploymentConfig.from_sources(context, {})


def test_the_config_error_names_the_context_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"-c inference=\.\.\."):
        DeploymentConfig.from_sources({"inference": "gpu"}, {})
