"""The CDK app: ``cdk synth`` / ``cdk deploy`` run ``uv run python -m infra.app`` (see cdk.json).

Also runs without the CDK CLI (``uv run python -m infra.app``), writing the cloud assembly to
``cdk.out/``. Every synth runs the cdk-nag AwsSolutions checks: an unacknowledged finding fails it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, Environment, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from infra.config import ConfigError, DeploymentConfig
from infra.constructs.firewall import EDGE_REGION
from infra.runtime import REPO_ROOT
from infra.stack import EdgeStack, RoomcraftStack

CDK_JSON = REPO_ROOT / "cdk.json"


def cdk_json_context() -> dict[str, Any]:
    """The ``context`` of cdk.json (feature flags), applied even when the CLI is not the caller."""
    return dict(json.loads(CDK_JSON.read_text()).get("context", {}))


def build_app(
    config: DeploymentConfig | None = None,
    *,
    context: Mapping[str, Any] | None = None,
    outdir: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[App, RoomcraftStack]:
    """The app and its one stack, with cdk-nag attached; ``config`` defaults to context + environment."""
    environ = os.environ if environ is None else environ
    if outdir is None and "CDK_OUTDIR" not in environ:
        outdir = REPO_ROOT / "cdk.out"
    app = App(context={**cdk_json_context(), **(context or {})}, outdir=str(outdir) if outdir else None)
    if config is None:
        config = DeploymentConfig.from_sources(
            app.node.try_get_context, environ, all_context_keys=tuple(app.node.get_all_context())
        )
    account, region = environ.get("CDK_DEFAULT_ACCOUNT"), environ.get("CDK_DEFAULT_REGION")
    edge: EdgeStack | None = None
    if region and region != EDGE_REGION:
        # CloudFront's web ACL must be made in us-east-1: a companion stack there, whose ARN reaches
        # the main stack through CDK's cross-region references (`cdk deploy --all` deploys both).
        edge = EdgeStack(
            app,
            f"{config.stack_name}-edge",
            config=config,
            env=Environment(account=account, region=EDGE_REGION),
            cross_region_references=True,
        )
    stack = RoomcraftStack(
        app,
        config.stack_name,
        config=config,
        web_acl_arn=edge.firewall.web_acl_arn if edge else None,
        env=Environment(account=account, region=region),
        cross_region_references=edge is not None,
    )
    Tags.of(app).add("project", "roomcraft")
    Tags.of(app).add("roomcraft:stage", config.stage)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def main() -> int:
    try:
        app, _ = build_app()
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
