"""One synthesized Roomcraft stack for the whole infra suite (a synth costs seconds, not milliseconds).

Bundling is skipped (``aws:cdk:bundling-stacks = []``): no handler is copied and no layer is built,
so the suite needs neither ``make layer`` nor the network. cdk-nag runs as in every synth.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, Stack
from aws_cdk.assertions import Template
from constructs import IConstruct

from infra.app import build_app
from infra.config import DeploymentConfig
from infra.stack import RoomcraftStack

NO_BUNDLING: dict[str, Any] = {"aws:cdk:bundling-stacks": []}

TEST_ACCOUNT = "123456789012"


def deploy_environ(region: str | None = "us-east-1") -> dict[str, str]:
    """What ``cdk deploy`` hands the app: a concrete account and region (``None``: an offline synth
    that knows neither, which must keep working too)."""
    if region is None:
        return {}
    return {"CDK_DEFAULT_ACCOUNT": TEST_ACCOUNT, "CDK_DEFAULT_REGION": region}


TEST_CONFIG = DeploymentConfig(
    stage="test",
    provider="sagemaker",
    sagemaker_endpoint="Roomcraft-SDXL",
    alarm_email="ops@example.com",
    log_retention_days=14,
    api_rate_limit=25,
    api_burst_limit=40,
    cors_allowed_origins=("https://app.example.com",),
    generation_steps=30,
)


@dataclass(frozen=True)
class Synthesized:
    app: App
    stack: RoomcraftStack
    template: Template
    outdir: Path

    @cached_property
    def json(self) -> dict[str, Any]:
        return dict(self.template.to_json())

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == resource_type}

    def logical_id(self, construct: IConstruct) -> str:
        child = construct.node.default_child or construct
        return str(Stack.of(construct).get_logical_id(child))  # type: ignore[arg-type]

    def resource(self, construct: IConstruct) -> dict[str, Any]:
        return dict(self.json["Resources"][self.logical_id(construct)])


def synthesize(
    config: DeploymentConfig, outdir: Path, *, environ: dict[str, str] | None = None
) -> Synthesized:
    """Synthesize as a deploy does (account and region known, us-east-1 unless ``environ`` says)."""
    environ = deploy_environ() if environ is None else environ
    app, stack = build_app(config, context=NO_BUNDLING, outdir=outdir, environ=environ)
    app.synth()  # cdk-nag runs here: any open finding raises
    return Synthesized(app=app, stack=stack, template=Template.from_stack(stack), outdir=outdir)


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(TEST_CONFIG, tmp_path_factory.mktemp("cdk.out"))
