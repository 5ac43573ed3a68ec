"""cdk-nag (AwsSolutions) with zero open findings, every acknowledgment reasoned; cfn-lint clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint

from infra.config import DeploymentConfig
from tests.infra.conftest import Synthesized, deploy_environ, synthesize

pytestmark = pytest.mark.infra

# Every acknowledged cdk-nag rule, by construct. A new suppression must be added here on purpose.
EXPECTED_ACKNOWLEDGMENTS = {
    "Storage/AccessLogsBucket": {"AwsSolutions-S1"},
    # CFR2 (WAF) is met: the API's web ACL is attached (infra/constructs/firewall.py).
    "Delivery/Distribution": {"AwsSolutions-CFR1", "AwsSolutions-CFR4"},
    "Api/EdgeSecret": {"AwsSolutions-SMG4"},
    "Inference/ReplicateToken": {"AwsSolutions-SMG4"},
    "Functions/ApiRole": {
        "AwsSolutions-IAM5[Resource::*]",
        "AwsSolutions-IAM5[Resource::<StorageUploadsBucket03E44DD0.Arn>/uploads/*]",
    },
    "Functions/WorkerRole": {
        "AwsSolutions-IAM5[Resource::*]",
        "AwsSolutions-IAM5[Resource::<StorageUploadsBucket03E44DD0.Arn>/uploads/*]",
        "AwsSolutions-IAM5[Resource::<StorageUploadsBucket03E44DD0.Arn>/work/*]",
        "AwsSolutions-IAM5[Resource::<StorageOutputsBucket49742862.Arn>/*]",
        "AwsSolutions-IAM5[Resource::<StorageInboxBucketDB5F90E7.Arn>/inbox/*]",
    },
    "Functions/DispatcherRole": {"AwsSolutions-IAM5[Resource::*]"},  # X-Ray only
    "Functions/ApiFunction": {"AwsSolutions-L1"},
    "Functions/WorkerFunction": {"AwsSolutions-L1"},
    "Functions/DispatcherFunction": {"AwsSolutions-L1"},
    "Api/HttpApi/ANY--v1--{proxy+}": {"AwsSolutions-APIG4"},
    # S3 inbox
    "Functions/IngestRole": {
        "AwsSolutions-IAM5[Resource::*]",
        "AwsSolutions-IAM5[Resource::<StorageInboxBucketDB5F90E7.Arn>/inbox/*]",
        "AwsSolutions-IAM5[Resource::<StorageInboxBucketDB5F90E7.Arn>/outbox/*]",
        "AwsSolutions-IAM5[Resource::<StorageInboxBucketDB5F90E7.Arn>/quarantine/*]",
    },
    "Functions/WritebackRole": {
        "AwsSolutions-IAM5[Resource::*]",
        "AwsSolutions-IAM5[Resource::<StorageOutputsBucket49742862.Arn>/designs/*]",
        "AwsSolutions-IAM5[Resource::<StorageInboxBucketDB5F90E7.Arn>/inbox/*]",
        "AwsSolutions-IAM5[Resource::<StorageInboxBucketDB5F90E7.Arn>/outbox/*]",
        "AwsSolutions-IAM5[Resource::<StorageInboxBucketDB5F90E7.Arn>/quarantine/*]",
    },
    "Functions/IngestFunction": {"AwsSolutions-L1"},
    "Functions/WritebackFunction": {"AwsSolutions-L1"},
    "BucketNotificationsHandler050a0587b7544547bf325f094a3db834": {
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]"
    },
    # Providers (docs/providers.md): the webhook signing secret, the SageMaker async topics, and the
    # inference-events function, which runs the worker's pipeline with the worker's grants.
    "Inference/ReplicateWebhookSecret": {"AwsSolutions-SMG4"},
    "Inference/SageMakerAsyncSuccess": {"AwsSolutions-SNS2"},
    "Inference/SageMakerAsyncError": {"AwsSolutions-SNS2"},
    "Functions/InferenceEventsRole": {
        "AwsSolutions-IAM5[Resource::*]",
        "AwsSolutions-IAM5[Resource::<StorageUploadsBucket03E44DD0.Arn>/uploads/*]",
        "AwsSolutions-IAM5[Resource::<StorageUploadsBucket03E44DD0.Arn>/work/*]",
        "AwsSolutions-IAM5[Resource::<StorageOutputsBucket49742862.Arn>/*]",
        "AwsSolutions-IAM5[Resource::<StorageInboxBucketDB5F90E7.Arn>/inbox/*]",
    },
    "Functions/InferenceEventsFunction": {"AwsSolutions-L1"},
    # The stale-design sweeper (tests/infra/test_sweeper.py): X-Ray only, no bucket at all.
    "Functions/SweeperRole": {"AwsSolutions-IAM5[Resource::*]"},
    "Functions/SweeperFunction": {"AwsSolutions-L1"},
    # CDK's bucket-deployment function, which copies the web app (infra/constructs/web.py).
    "Custom::CDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C256MiB": {
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        "AwsSolutions-IAM5[Action::s3:Abort*]",
        "AwsSolutions-IAM5[Action::s3:DeleteObject*]",
        "AwsSolutions-IAM5[Action::s3:GetBucket*]",
        "AwsSolutions-IAM5[Action::s3:GetObject*]",
        "AwsSolutions-IAM5[Action::s3:List*]",
        "AwsSolutions-IAM5[Resource::*]",
        "AwsSolutions-IAM5[Resource::<WebBucketE51352C0.Arn>/*]",
        # The main fixture synthesizes as a deploy does: account and region known.
        "AwsSolutions-IAM5[Resource::arn:aws:s3:::cdk-hnb659fds-assets-123456789012-us-east-1/*]",
        "AwsSolutions-L1",
    },
}


def test_cdk_nag_reports_no_open_finding(synth: Synthesized) -> None:
    # The fixture's synth would have raised on any open finding; the report confirms it.
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    failures = [r for r in report["pluginReports"] if r.get("conclusion") != "success"]
    assert failures == []


def test_every_acknowledgment_is_expected_and_explained(synth: Synthesized) -> None:
    found: dict[str, set[str]] = {}
    prefix = f"{synth.stack.node.path}/"
    for construct in synth.app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type != "aws:cdk:acknowledged-rules":
                continue
            for rule, reason in dict(entry.data).items():
                rule_id = rule.removeprefix("Annotation::")
                assert len(reason) >= 60, f"{rule_id} on {construct.node.path}: reason too vague: {reason!r}"
                found.setdefault(construct.node.path.removeprefix(prefix), set()).add(rule_id)
    assert found == EXPECTED_ACKNOWLEDGMENTS


@pytest.mark.parametrize(
    ("provider", "region", "asset_objects"),
    [
        ("replicate", "eu-west-1", "arn:aws:s3:::cdk-hnb659fds-assets-123456789012-eu-west-1/*"),
        ("preview", "ap-southeast-2", "arn:aws:s3:::cdk-hnb659fds-assets-123456789012-ap-southeast-2/*"),
        (
            "preview",
            None,
            "arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*",
        ),
    ],
)
def test_a_deploy_synthesizes_in_any_account_and_region(
    tmp_path: Path, provider: str, region: str | None, asset_objects: str
) -> None:
    """Issue 13 item 0: cdk-nag stopped every real deploy (concrete asset bucket ARN unacknowledged)."""
    config = DeploymentConfig(stage="prod", provider=provider)  # type: ignore[arg-type]
    synthesized = synthesize(config, tmp_path, environ=deploy_environ(region))  # raises on a finding
    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert [r for r in report["pluginReports"] if r.get("conclusion") != "success"] == []
    provider_path = next(
        c.node.path
        for c in synthesized.stack.node.children
        if c.node.id.startswith("Custom::CDKBucketDeployment")
    )
    acknowledged = {
        rule.removeprefix("Annotation::")
        for construct in synthesized.app.node.find_all()
        if construct.node.path == provider_path
        for entry in construct.node.metadata
        if entry.type == "aws:cdk:acknowledged-rules"
        for rule in dict(entry.data)
    }
    assert f"AwsSolutions-IAM5[Resource::{asset_objects}]" in acknowledged


def test_cdk_nag_is_really_checking(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path))
    s3.Bucket(Stack(app, "Careless"), "Open")
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    with pytest.raises(Exception, match=r"AwsSolutions-S10"):
        app.synth()


def test_cfn_lint_finds_nothing(synth: Synthesized) -> None:
    # W3005 (redundant DependsOn) is how CDK writes templates; nothing else is tolerated.
    matches = lint(json.dumps(synth.json), config=ManualArgs(regions=["us-east-1"], ignore_checks=["W3005"]))
    problems = [
        f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path))})"
        for m in matches
        if m.rule.id[0] in {"E", "W"}
    ]
    assert problems == []
