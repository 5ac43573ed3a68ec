"""A second configuration: preview provider, custom CDN domain, throwaway data, no alarm e-mail."""

from __future__ import annotations

import json

import pytest

from infra.config import DeploymentConfig
from shared.resources import UPLOADS_BUCKET
from tests.infra.conftest import Synthesized, deploy_environ, synthesize

pytestmark = pytest.mark.infra

CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
CONFIG = DeploymentConfig(
    stage="pr-42",
    provider="preview",
    domain_name="images.example.com",
    certificate_arn=CERTIFICATE,
    retain_data=False,
)


@pytest.fixture(scope="module")
def variant(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    # Another region than the main fixture's, as a deploy there would synthesize.
    return synthesize(CONFIG, tmp_path_factory.mktemp("cdk.out.variant"), environ=deploy_environ("eu-west-1"))


def test_custom_domain_uses_the_certificate_with_modern_tls(variant: Synthesized) -> None:
    config = variant.resource(variant.stack.delivery.distribution)["Properties"]["DistributionConfig"]
    assert config["Aliases"] == ["images.example.com"]
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": CERTIFICATE,
        "MinimumProtocolVersion": "TLSv1.2_2021",
        "SslSupportMethod": "sni-only",
    }
    for function in variant.stack.compute.functions.values():
        env = variant.resource(function)["Properties"]["Environment"]["Variables"]
        assert env["ROOMCRAFT_CDN_BASE_URL"] == "https://images.example.com"
        assert env["ROOMCRAFT_PROVIDER"] == "preview"
        assert env["ROOMCRAFT_SAGEMAKER_ENDPOINT"] == ""


def test_no_endpoint_configured_means_no_sagemaker_permission(variant: Synthesized) -> None:
    policies = json.dumps(variant.resources("AWS::IAM::Policy"))
    assert "sagemaker:" not in policies


def test_throwaway_stage_deletes_its_data_with_the_stack(variant: Synthesized) -> None:
    for table in variant.resources("AWS::DynamoDB::Table").values():
        assert table["DeletionPolicy"] == "Delete"
        assert table["Properties"]["DeletionProtectionEnabled"] is False
    for kind in ("AWS::S3::Bucket", "AWS::Logs::LogGroup", "AWS::SecretsManager::Secret"):
        for resource in variant.resources(kind).values():
            assert resource["DeletionPolicy"] == "Delete", kind


def test_no_alarm_email_means_no_subscription(variant: Synthesized) -> None:
    variant.template.resource_count_is("AWS::SNS::Subscription", 0)
    variant.template.resource_count_is("AWS::SNS::Topic", 1)


def test_stage_names_the_stack_and_the_bus(variant: Synthesized) -> None:
    assert variant.stack.stack_name == "Roomcraft-pr-42"
    assert variant.resource(variant.stack.events.bus)["Properties"]["Name"] == "roomcraft-pr-42-events"


def test_any_origin_needs_no_extra_origin_for_the_web_app(variant: Synthesized) -> None:
    cors = variant.resource(variant.stack.api.http_api)["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == ["*"]
    # Issue 13: '*' opens the API's CORS, never the uploads bucket's: only the web app posts photos.
    uploads = variant.resource(variant.stack.storage.buckets[UPLOADS_BUCKET.id])["Properties"]
    (rule,) = uploads["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedOrigins"] == ["https://images.example.com"]
    assert variant.json["Outputs"]["AppUrl"]["Value"] == "https://images.example.com/app/"
